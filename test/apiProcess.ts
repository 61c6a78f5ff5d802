import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort, repoRoot } from '@payledger/testkit';
import { waitFor } from '@payledger/testkit/vitest';

/** The API's own entry point running as a process of a test. */
export interface ApiProcess {
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  /** What it printed so far (for failure messages). */
  output(): string;
  stop(): void;
}

/**
 * Starts `services/api/src/main.ts` with `env` (plus PATH and HOME, PORT on a free port, LOG_LEVEL
 * warn unless given) and resolves once `/health/ready` answers, or fails with its output.
 */
export async function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [join(repoRoot, 'services/api/src/main.ts')], {
    env: {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      LOG_LEVEL: 'warn',
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const api: ApiProcess = { base, output: () => output, stop: () => void child.kill('SIGTERM') };
  try {
    await waitFor(async () => (await fetch(`${base}/health/ready`).catch(() => null))?.ok === true, {
      timeoutMs: 60_000,
      describe: () => `the API did not become ready:\n${output}`,
    });
  } catch (error) {
    api.stop();
    throw error;
  }
  return api;
}
