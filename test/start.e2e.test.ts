import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '@payledger/testkit';

const MAIN = fileURLToPath(new URL('../services/embedded/src/main.ts', import.meta.url));

// `npm start` as a newcomer runs it: the embedded process on its defaults, answering the README's curl.
describe('npm start (services/embedded/src/main.ts)', () => {
  it('serves the API with no configuration and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-start-'));
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      LEDGER_DATA_DIR: dataDir,
      PORT: String(port),
      LOG_LEVEL: 'warn',
    };
    const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(`${base}/health/ready`)).ok, {
        timeoutMs: 60_000,
        describe: () => `npm start did not become ready:\n${output}`,
      });
      const res = await fetch(`${base}/v1/customers`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer dev-writer.dev-writer-secret',
          'content-type': 'application/json',
          'idempotency-key': 'cust-1',
        },
        body: JSON.stringify({ customerId: 'alice', email: 'alice@example.com' }),
      });
      expect(res.status).toBe(201);
      expect(output).toContain(`payment ledger running: API http://127.0.0.1:${port}`);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
