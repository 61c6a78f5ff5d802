// npm run bench:ingest — create-payment commands over HTTP on loopback from a separate load process,
// against PostgreSQL with fsync on, in three phases on one server:
// 1. throughput at saturation: the best of closed loops of BENCH_CLIENTS clients (default 256
//    and 512: at 256 the machine still had 11-15 % idle, as pgbench's best is taken over its
//    client counts);
// 2. the ceiling: pgbench running the equivalent transaction (one event row + one outbox row, same
//    payload size), best of 8, 16 and 32 clients;
// 3. latency at a stated offered load (BENCHMARKS.md: not at saturation): an open loop offering
//    the ceiling's rate (or BENCH_LATENCY_RATE), p50/p99 timed from each command's scheduled time;
//    then pgbench offered the same rate (logged: the raw tool's own latency in the same minutes).
// The API runs one process per core (API_PROCESSES overrides); the fresh cluster gets its WAL
// segments made before measuring (walWarmup.ts; BENCH_WAL_SEGMENTS=0 skips it).
// Last line: `ingest: <n> commands/s, ceiling <m>/s, ratio <r>, p99 <ms> ms` (n from phase 1,
// p99 from phase 3).
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import {
  cpuTimes,
  freePort,
  repoRoot,
  startPostgres,
  waitFor,
  type PostgresServer,
} from '@payledger/testkit';
import { commandCpu, cpuSeconds, postgresCpu } from './cpuUsage.ts';
import { machineShares, referenceWorkMs } from './machineSpeed.ts';
import { warmUpWal } from './walWarmup.ts';

const run = promisify(execFile);
const CLIENTS = (process.env['BENCH_CLIENTS'] ?? '256,512').split(',').map(Number);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 15);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 5);
const LATENCY_SECONDS = Number(process.env['BENCH_LATENCY_SECONDS'] ?? 15);
const LATENCY_RATE = process.env['BENCH_LATENCY_RATE'];
const PG_SECONDS = Number(process.env['BENCH_PG_SECONDS'] ?? 8);
const API_PROCESSES = process.env['API_PROCESSES'] ?? String(cpus().length);
const IN_FLIGHT = process.env['COMMIT_MAX_IN_FLIGHT'] ?? '2';
const WAL_SEGMENTS = Number(process.env['BENCH_WAL_SEGMENTS'] ?? 64);
const log = (line: string): void => void process.stderr.write(`[bench:ingest] ${line}\n`);

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  return withDatabase(adminUrl, name);
}

function pgbenchPath(): string {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    for (const v of readdirSync(base).sort((a, b) => Number(b) - Number(a))) {
      const p = join(base, v, 'bin', 'pgbench');
      if (existsSync(p)) return p;
    }
  }
  return 'pgbench';
}

/** pgbench running the ceiling's transaction: one event row + one outbox row, the same payload. */
class Pgbench {
  readonly #dir = mkdtempSync(join(tmpdir(), 'bench-ingest-'));
  readonly #args: string[];
  readonly #env: NodeJS.ProcessEnv;
  readonly #database: string;

  constructor(url: string, payload: string) {
    const script = join(this.#dir, 'ingest.sql');
    // pgbench reads `:name` as a variable: put a space after every JSON colon (`": false`) so no
    // key/value boundary looks like one; the JSON means the same and is 1-2% longer.
    const data = JSON.stringify(JSON.parse(payload), null, 1).replace(/\n\s*/g, ' ').replaceAll("'", "''");
    writeFileSync(
      script,
      [
        'BEGIN;',
        `INSERT INTO events (event_id, stream_id, stream_type, stream_version, type, schema_version, data, metadata, recorded_at, prev_hash, hash) VALUES (gen_random_uuid(), 'bench-' || gen_random_uuid(), 'payment', 1, 'PaymentCreated', 1, '${data}', '{"actor": "bench", "correlationId": "c", "causationId": null}', now(), '${'0'.repeat(64)}', '${'a'.repeat(64)}');`,
        `INSERT INTO outbox (event_id, message_key, topic, type, schema_version) VALUES (gen_random_uuid(), 'bench', 'ledger.events.v1', 'PaymentCreated.v1', 1);`,
        'END;',
        '',
      ].join('\n'),
    );
    const u = new URL(url);
    this.#env = { ...process.env, PGPASSWORD: decodeURIComponent(u.password) };
    this.#database = u.pathname.slice(1);
    this.#args = [
      '-h',
      u.hostname,
      '-p',
      u.port,
      '-U',
      decodeURIComponent(u.username),
      '-n',
      '-M',
      'prepared',
      '-f',
      script,
    ];
  }

  async version(): Promise<string> {
    return (await run(pgbenchPath(), ['--version'])).stdout.trim();
  }

  /** The ceiling: best rate over 8, 16 and 32 clients. */
  async ceiling(): Promise<{ tps: number; clients: number }> {
    let best = { tps: 0, clients: 0 };
    for (const clients of [8, 16, 32]) {
      const { stdout } = await run(
        pgbenchPath(),
        [...this.#args, '-c', String(clients), '-j', '2', '-T', String(PG_SECONDS), this.#database],
        { env: this.#env },
      );
      const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? 0);
      log(`pgbench ${clients} clients: ${tps.toFixed(0)} tx/s`);
      if (tps > best.tps) best = { tps, clients };
    }
    return best;
  }

  /**
   * The same transaction offered at a fixed rate (`-R`, on as many clients as gave the ceiling),
   * each timed like the load
   * generator's commands: from its scheduled start (pgbench's schedule lag plus its own time).
   * What the raw tool itself gets at the rate the latency phase offers.
   */
  async atRate(
    rate: number,
    clients: number,
    seconds: number,
  ): Promise<{ p50ms: number; p99ms: number; count: number }> {
    const prefix = join(this.#dir, `rate-${Math.round(rate)}`);
    await run(
      pgbenchPath(),
      [
        ...this.#args,
        '-c',
        String(clients),
        '-j',
        '2',
        '-R',
        String(Math.round(rate)),
        '-T',
        String(seconds),
        '-l',
        `--log-prefix=${prefix}`,
        this.#database,
      ],
      { env: this.#env },
    );
    // Log lines: client transaction time_us script epoch epoch_us schedule_lag_us.
    const latencies: number[] = [];
    for (const file of readdirSync(this.#dir).filter((f) => f.startsWith(`rate-${Math.round(rate)}.`))) {
      for (const line of readFileSync(join(this.#dir, file), 'utf8').split('\n')) {
        const f = line.split(' ');
        if (f.length >= 7) latencies.push((Number(f[2]) + Number(f[6])) / 1000);
      }
    }
    latencies.sort((a, b) => a - b);
    const at = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? NaN;
    return { p50ms: at(0.5), p99ms: at(0.99), count: latencies.length };
  }
}

async function main(): Promise<void> {
  const postgres: PostgresServer = await startPostgres(log);
  const children: ReturnType<typeof spawn>[] = [];
  try {
    const admin = new pg.Client({ connectionString: postgres.adminUrl });
    await admin.connect();
    const serverVersion = (await admin.query('SHOW server_version')).rows[0].server_version as string;
    const fsync = (await admin.query('SHOW fsync')).rows[0].fsync as string;
    await admin.end();
    if (postgres.source !== 'env' && WAL_SEGMENTS > 0) {
      const warm = await warmUpWal(postgres.adminUrl, WAL_SEGMENTS);
      log(
        `postgres: ${warm.segments} WAL segments made and kept for reuse before measuring ` +
          `(${warm.seconds.toFixed(1)} s; test/bench/walWarmup.ts)`,
      );
    }

    // 1. The system: the API in its own process on a fresh database.
    const apiUrlDb = await createDatabase(postgres.adminUrl, 'bench_ingest_api');
    const port = await freePort();
    const secret = 'bench-secret-value';
    const profile = process.env['BENCH_PROFILE_DIR'];
    const apiArgs = profile !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
    const api = spawn(process.execPath, [...apiArgs, join(repoRoot, 'services/api/src/main.ts')], {
      env: {
        ...process.env,
        DATABASE_URL: apiUrlDb,
        API_CREDENTIALS: JSON.stringify([{ id: 'bench', secret, scopes: ['payments:write'] }]),
        PORT: String(port),
        LOG_LEVEL: 'warn',
        DATABASE_POOL_SIZE: '12',
        COMMIT_MAX_IN_FLIGHT: IN_FLIGHT,
        COMMIT_MAX_BATCH: process.env['COMMIT_MAX_BATCH'] ?? '100',
        // One API process per core: a single one tops out at one core (~150 us per command)
        // while PostgreSQL and the load generator leave the second core partly idle.
        API_PROCESSES: API_PROCESSES,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(api);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/health/ready`)).ok, {
      timeoutMs: 60_000,
      describe: () => 'API did not start',
    });
    const token = `Bearer bench.${secret}`;
    const reg = await fetch(`${base}/v1/customers`, {
      method: 'POST',
      headers: {
        authorization: token,
        'content-type': 'application/json',
        'idempotency-key': 'bench-customer',
      },
      body: JSON.stringify({ customerId: 'bench-customer', email: 'bench@example.com' }),
    });
    if (!reg.ok) throw new Error(`could not register the bench customer: ${reg.status} ${await reg.text()}`);

    interface LoadResult {
      rate: number;
      p50ms: number;
      p99ms: number;
      errors: number;
      count: number;
      clients: number;
      payloadBytes: number;
    }
    /** Runs the load generator; CPU of each part over its measured window (warm-up excluded). */
    const runLoad = async (mode: 'closed' | 'open', amount: number, warmup: number, seconds: number) => {
      const loadgen = spawn(
        process.execPath,
        [
          join(repoRoot, 'test/bench/loadgen.ts'),
          base,
          token,
          mode,
          String(Math.round(amount)),
          String(warmup),
          String(seconds),
          'bench-customer',
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      children.push(loadgen);
      const cpuNow = () => ({
        api: commandCpu('services/api/src/main.ts'),
        postgres: postgresCpu('bench_ingest_api'),
        loadgen: cpuSeconds(loadgen.pid),
        machine: cpuTimes(),
      });
      // Group-commit batch sizes of the same window, from the API's own histogram.
      // Never rejects (a promise replaced before it is awaited must not end the bench): an
      // unreadable answer gives NaN.
      const batches = async (): Promise<{ sum: number; count: number }> => {
        const text = await fetch(`${base}/metrics`)
          .then((r) => r.text())
          .catch(() => '');
        const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
        return {
          sum: read('ledger_commit_batch_commands_sum'),
          count: read('ledger_commit_batch_commands_count'),
        };
      };
      let cpu0 = cpuNow();
      let batches0 = batches();
      const warm = setTimeout(() => {
        cpu0 = cpuNow();
        batches0 = batches();
      }, warmup * 1000);
      let cpu1: ReturnType<typeof cpuNow> | null = null;
      let batches1: ReturnType<typeof batches> | null = null;
      loadgen.once('exit', () => clearTimeout(warm));
      let out = '';
      loadgen.stdout?.on('data', (d: Buffer) => {
        // The result line arrives as the measured window ends: read the counters then.
        if (cpu1 === null) {
          cpu1 = cpuNow();
          batches1 = batches();
        }
        out += d.toString();
      });
      const code = await new Promise((resolve) => loadgen.on('exit', resolve));
      if (code !== 0) throw new Error(`the load generator exited with ${String(code)}`);
      const result = JSON.parse(out.trim().split('\n').pop() ?? '{}') as LoadResult;
      const end = cpu1 ?? cpuNow();
      const per = (s: number): string => `${((s * 1e6) / Math.max(1, result.count)).toFixed(0)} us`;
      const [b0, b1] = await Promise.all([batches0, batches1 ?? batches()]);
      const perBatch = (b1.sum - b0.sum) / Math.max(1, b1.count - b0.count);
      const cpu =
        `API ${per(end.api - cpu0.api)}, PostgreSQL ${per(end.postgres - cpu0.postgres)}, ` +
        `load generator ${per(end.loadgen - cpu0.loadgen)} (${perBatch.toFixed(1)} commands per commit)`;
      return { result, cpu, machine: machineShares(cpu0.machine, end.machine) };
    };

    const speedBefore = referenceWorkMs();
    let saturated: Awaited<ReturnType<typeof runLoad>> | null = null;
    for (const clients of CLIENTS) {
      log(
        `throughput: ${clients} closed-loop clients, ${WARMUP}s warm-up, ${SECONDS}s measured; ` +
          `${API_PROCESSES} API processes, COMMIT_MAX_IN_FLIGHT ${IN_FLIGHT} each`,
      );
      const loop = await runLoad('closed', clients, WARMUP, SECONDS);
      const r = loop.result;
      log(
        `throughput: ${r.count} commands (request body ${r.payloadBytes} bytes), ${r.errors} errors, ${r.rate.toFixed(0)}/s ` +
          `(p50 ${r.p50ms.toFixed(1)} ms, p99 ${r.p99ms.toFixed(1)} ms at saturation)`,
      );
      log(`CPU per command: ${loop.cpu}; machine ${loop.machine}`);
      if (saturated === null || r.rate > saturated.result.rate) saturated = loop;
    }
    if (saturated === null) throw new Error('BENCH_CLIENTS names no client count');
    const speedAfter = referenceWorkMs();
    const result = saturated.result;
    log(`throughput: best ${result.rate.toFixed(0)}/s at ${result.clients} clients`);
    log(
      `machine speed: reference work ${speedBefore.toFixed(0)} ms before, ${speedAfter.toFixed(0)} ms after ` +
        '(test/bench/machineSpeed.ts, lower is faster)',
    );

    // 2. The ceiling, on the same server, with an event payload of the same size.
    const pgbUrl = await createDatabase(postgres.adminUrl, 'bench_ingest_pgbench');
    const migrateDb = await import('@payledger/event-store');
    const db = await migrateDb.openDatabase({ kind: 'postgres', url: pgbUrl });
    await migrateDb.migrateToLatest(db);
    const sample = await (async () => {
      const apiDb = await migrateDb.openDatabase({ kind: 'postgres', url: apiUrlDb });
      const row = await apiDb
        .selectFrom('events')
        .select('data')
        .where('type', '=', 'PaymentCreated')
        .limit(1)
        .executeTakeFirstOrThrow();
      await apiDb.destroy();
      return JSON.stringify(row.data);
    })();
    await db.destroy();
    const pgbench = new Pgbench(pgbUrl, sample);
    const top = { ...(await pgbench.ceiling()), version: await pgbench.version() };

    // 3. Latency at a stated offered load: the ceiling's rate, open loop; then, for the record,
    //    three quarters of it (the last line reports the first).
    const offered = LATENCY_RATE === undefined ? top.tps : Number(LATENCY_RATE);
    const latencyAt = async (rate: number) => {
      log(
        `latency: open loop offering ${rate.toFixed(0)} commands/s, 3s warm-up, ${LATENCY_SECONDS}s measured`,
      );
      const { result: r, machine, cpu } = await runLoad('open', rate, 3, LATENCY_SECONDS);
      log(
        `latency: ${r.count} commands, ${r.errors} errors, ${r.rate.toFixed(0)}/s answered on ` +
          `${r.clients} connections, p50 ${r.p50ms.toFixed(1)} ms, p99 ${r.p99ms.toFixed(1)} ms at ${rate.toFixed(0)}/s offered`,
      );
      log(`latency: CPU per command: ${cpu}; machine ${machine}`);
      // The raw tool at the same offered rate, right after: what the machine's PostgreSQL and
      // disk allow this minute for the ceiling's bare transaction.
      const bare = await pgbench.atRate(rate, top.clients, LATENCY_SECONDS);
      log(
        `latency: pgbench offered the same ${rate.toFixed(0)}/s (${top.clients} clients, timed from schedule): ` +
          `${bare.count} transactions, p50 ${bare.p50ms.toFixed(1)} ms, p99 ${bare.p99ms.toFixed(1)} ms`,
      );
      return r;
    };
    const timed = await latencyAt(offered);
    await latencyAt(offered * 0.75);
    api.kill('SIGTERM');
    await new Promise((resolve) => api.on('exit', resolve));

    const ratio = result.rate / top.tps;
    log(
      `machine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, PostgreSQL ${serverVersion} (fsync ${fsync}), Node ${process.version}, ${top.version}; ` +
        `event payload ${sample.length} bytes; best pgbench at ${top.clients} clients`,
    );
    console.log(
      `ingest: ${result.rate.toFixed(0)} commands/s, ceiling ${top.tps.toFixed(0)}/s, ratio ${ratio.toFixed(2)}, p99 ${timed.p99ms.toFixed(1)} ms`,
    );
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await postgres.stop();
  }
}

await main();
