import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort, repoRoot } from '@payledger/testkit';
import { createTestDatabase, waitFor, type TestDatabase } from '@payledger/testkit/vitest';

/** PIDs of the processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

// API_PROCESSES=N: N processes serve one port, each with its own pool and group commit; the
// database keeps idempotency exact across them.
describe('API with several processes on one port', () => {
  let database: TestDatabase;
  let api: ChildProcess;
  let base: string;
  const headers = { authorization: 'Bearer writer.writer-secret', 'content-type': 'application/json' };

  beforeAll(async () => {
    database = await createTestDatabase('apiproc');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = spawn(process.execPath, [join(repoRoot, 'services/api/src/main.ts')], {
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        API_CREDENTIALS: JSON.stringify([
          { id: 'writer', secret: 'writer-secret', scopes: ['payments:write'] },
        ]),
        PORT: String(port),
        API_PROCESSES: '2',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitFor(
      async () => {
        const ready = await fetch(`${base}/health/ready`).catch(() => null);
        return ready?.ok === true && childrenOf(api.pid as number).length === 2;
      },
      { timeoutMs: 60_000, describe: () => 'the API with 2 processes did not become ready' },
    );
  });
  afterAll(async () => {
    if (api.exitCode === null) api.kill('SIGKILL');
    await database.drop();
  });

  it('runs two processes, applies a key sent concurrently over separate connections once, and stops on SIGTERM', async () => {
    const customer = await fetch(`${base}/v1/customers`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': 'cust-1' },
      body: JSON.stringify({ customerId: 'bob', email: 'bob@example.com' }),
    });
    expect(customer.status).toBe(201);
    const body = JSON.stringify({
      customerId: 'bob',
      paymentMethodId: 'pm_card_visa',
      amount: 1500,
      currency: 'EUR',
    });
    // Fresh connections each (no keep-alive), so the cluster spreads them over both processes.
    const post = (key: string) =>
      fetch(`${base}/v1/payments`, {
        method: 'POST',
        headers: { ...headers, 'idempotency-key': key, connection: 'close' },
        body,
      });
    const distinct = await Promise.all(Array.from({ length: 20 }, (_, i) => post(`pay-${i}`)));
    expect(distinct.map((r) => r.status)).toEqual(Array(20).fill(201));
    const ids = new Set(
      await Promise.all(distinct.map(async (r) => ((await r.json()) as { id: string }).id)),
    );
    expect(ids.size).toBe(20);

    const same = await Promise.all(Array.from({ length: 10 }, () => post('pay-same')));
    expect(same.map((r) => r.status)).toEqual(Array(10).fill(201));
    const sameIds = new Set(
      await Promise.all(same.map(async (r) => ((await r.json()) as { id: string }).id)),
    );
    expect(sameIds.size).toBe(1);
    const list = await fetch(`${base}/v1/payments?customerId=bob&limit=100`, { headers });
    expect(((await list.json()) as { data: unknown[] }).data).toHaveLength(21);

    // Whichever process answers a scrape, it reports the counts of both: the 30 creates and the
    // 31 commands through group commit, however the cluster spread them.
    for (let i = 0; i < 6; i++) {
      const scrape = await fetch(`${base}/metrics`, { headers: { connection: 'close' } });
      expect(scrape.status).toBe(200);
      const text = await scrape.text();
      expect(text).toMatch(
        /^ledger_api_requests_total\{method="POST",route="\/v1\/payments",status="201"\} 30$/m,
      );
      expect(text).toMatch(/^ledger_commit_batch_commands_sum 31$/m);
    }

    const workers = childrenOf(api.pid as number);
    const exited = new Promise<number | null>((resolve) => api.once('exit', (code) => resolve(code)));
    api.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(workers.filter((pid) => childrenOf(1).includes(pid) || isAlive(pid))).toEqual([]);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
