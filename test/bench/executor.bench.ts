// npm run bench:executor — a backlog of 10,000 payments through Kafka, the Stripe executor and the
// simulator (no added latency), rate limiter off, measured in steady state: 2,000 more at the head
// of the same backlog warm the executor up and 2,000 behind keep it full to the window's close;
// then a backlog with the limiter at 100/s.
// Last line: `executor: <n> payments/s unthrottled, limiter <u>% of 100/s, max 1s rate <r>/s`.
//
// Like production, the relay, the executor and the simulator each run in their own process (this
// one only writes the backlog and watches): their work spreads over the cores, and the figures
// count what each process costs. The simulator's side (its request log, intents and charges per
// payment) is read over its inspection port.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpuSeconds, kafkaCpu, postgresCpu } from './cpuUsage.ts';
import { machineShares, referenceWorkMs } from './machineSpeed.ts';
import { newPayment } from '../executorHarness.ts';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { sql } from 'kysely';
import { executeCommands, migrateToLatest, openDatabase, type CommandRequest } from '@payledger/event-store';
import { decideCustomer, decidePayment, toStoredData } from '@payledger/ledger';
import { paymentSummaryRows } from '@payledger/projections';
import { cpuTimes, startKafka, startPostgres, waitFor } from '@payledger/testkit';

const PAYMENTS = Number(process.env['BENCH_PAYMENTS'] ?? 10_000);
const LIMITED_PAYMENTS = Number(process.env['BENCH_LIMITED_PAYMENTS'] ?? 600);
/**
 * Unthrottled phase: payments at the head of the backlog that warm the executor up (its code
 * optimised, its connections open, the consumer's fetches under way) and are not measured.
 */
const WARMUP_PAYMENTS = Number(process.env['BENCH_WARMUP_PAYMENTS'] ?? 2_000);
/**
 * ...and payments behind the measured ones, so the window closes with the pipeline still full
 * (the executor holds up to 12 x 128 = 1,536 payments in flight; the last of them finish fast).
 */
const TAIL_PAYMENTS = Number(process.env['BENCH_TAIL_PAYMENTS'] ?? 2_000);
/** After each phase: how long the processes are watched with nothing to do. */
const IDLE_SECONDS = Number(process.env['BENCH_IDLE_SECONDS'] ?? 5);

const log = (line: string): void => void process.stderr.write(`[bench:executor] ${line}\n`);
const meta = { actor: 'bench', correlationId: 'bench', causationId: null };
const entry = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/** A child process of the bench, up once it printed a line matching `ready`. */
interface Child {
  readonly process: ChildProcess;
  readonly match: RegExpMatchArray;
}

async function spawnChild(
  name: string,
  path: string,
  env: Record<string, string>,
  ready: RegExp,
): Promise<Child> {
  // BENCH_PROFILE_DIR: each child writes a V8 CPU profile there when it exits.
  const profile = process.env['BENCH_PROFILE_DIR'];
  const flags = profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`];
  const child = spawn(process.execPath, [...flags, entry(path)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const m = seen.match(ready);
      if (m !== null) resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was up`)));
  });
  child.stdout.resume();
  return { process: child, match };
}

async function stopChild(child: Child): Promise<void> {
  if (child.process.exitCode !== null) return;
  const exited = new Promise((resolve) => child.process.once('exit', resolve));
  child.process.kill('SIGTERM');
  await exited;
}

/** The local ports of `pid`'s TCP connections to port `remotePort` (from /proc/<pid>/fd and /proc/net/tcp*). */
function connectionPorts(pid: number | undefined, remotePort: number): Set<number> {
  const ports = new Set<number>();
  if (pid === undefined) return ports;
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m?.[1] !== undefined) inodes.add(m[1]);
      } catch {
        // closed meanwhile
      }
    }
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        const [local, remote, inode] = [f[1], f[2], f[9]];
        if (local === undefined || remote === undefined || inode === undefined || !inodes.has(inode))
          continue;
        if (parseInt(remote.split(':')[1] ?? '', 16) === remotePort)
          ports.add(parseInt(local.split(':')[1] ?? '', 16));
      }
    }
  } catch {
    // the process is gone
  }
  return ports;
}

/**
 * CPU seconds of this database's PostgreSQL backends per client process (by the client's socket
 * ports), so the PostgreSQL figure can be split into who asked for the work.
 */
function postgresCpuByClient(
  database: string,
  pgPort: number,
  clients: Readonly<Record<string, number | undefined>>,
): Record<string, number> {
  const ports = Object.entries(clients).map(([name, pid]) => [name, connectionPorts(pid, pgPort)] as const);
  const out: Record<string, number> = Object.fromEntries(Object.keys(clients).map((n) => [n, 0]));
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    if (!cmdline.startsWith('postgres: ') || !cmdline.includes(` ${database} `)) continue;
    const port = Number(/\d+\.\d+\.\d+\.\d+\((\d+)\)/.exec(cmdline)?.[1]);
    const owner = ports.find(([, set]) => set.has(port))?.[0];
    if (owner !== undefined) out[owner] = (out[owner] ?? 0) + cpuSeconds(Number(d));
  }
  return out;
}

const postgres = await startPostgres(log);
const kafka = await startKafka(log);

/** A fresh simulator per phase: its state (and heap) from one phase must not skew the next. */
async function startSimulator(): Promise<{ child: Child; port: string; inspect: string }> {
  const child = await spawnChild(
    'stripe simulator',
    'packages/stripe-sim/src/main.ts',
    { STRIPE_SIM_PORT: '0', STRIPE_SIM_INSPECT_PORT: '0' },
    /on http:\/\/127\.0\.0\.1:(\d+)[\s\S]*inspection on (http:\/\/127\.0\.0\.1:\d+)/,
  );
  return { child, port: child.match[1] ?? '', inspect: child.match[2] ?? '' };
}
/**
 * A fresh broker runs its JIT-compiled paths cold: publish and consume as much as a phase does
 * (12 partitions, ~1 KB values with headers, batches of 1,000) on a topic of its own first, so the
 * phases measure a warm broker, as production has (and as bench:relay does).
 */
async function warmUpKafka(brokers: readonly string[]): Promise<void> {
  const client = new Kafka({ brokers: [...brokers], logLevel: logLevel.NOTHING });
  const topic = `bench.executor.warmup.${Date.now().toString(36)}`;
  const admin = client.admin();
  await admin.connect();
  // A broker that has just started may not answer metadata yet: try until every partition has a leader.
  await waitFor(
    async () => {
      await admin.createTopics({ topics: [{ topic, numPartitions: 12 }] }).catch(() => false);
      return (await admin.fetchTopicOffsets(topic).catch(() => [])).length === 12;
    },
    { timeoutMs: 60_000, intervalMs: 200, describe: () => `the Kafka warm-up topic ${topic} is not ready` },
  );
  await admin.disconnect();
  const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const total = 30_000;
  const value = 'x'.repeat(900);
  for (let sent = 0; sent < total; sent += 1000) {
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 1000 }, (_, i) => ({
        key: `warm_${sent + i}`,
        value,
        headers: { 'event-id': `${sent + i}`, 'event-type': 'Warmup.v1' },
      })),
    });
  }
  await producer.disconnect();
  const consumer = client.consumer({ groupId: `${topic}.group` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  await consumer.run({ eachBatch: async ({ batch }) => void (seen += batch.messages.length) });
  await waitFor(async () => seen >= total, {
    timeoutMs: 120_000,
    intervalMs: 100,
    describe: () => `the Kafka warm-up read ${seen} of ${total} messages`,
  });
  await consumer.disconnect();
}

const running: Child[] = [];
try {
  await warmUpKafka(kafka.brokers);
  const admin = new pg.Client({ connectionString: postgres.adminUrl });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS bench_executor WITH (FORCE)');
  await admin.query('CREATE DATABASE bench_executor');
  await admin.end();
  const url = new URL(postgres.adminUrl);
  url.pathname = '/bench_executor';
  const db = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 8 });
  await migrateToLatest(db);

  async function backlog(topic: string, count: number): Promise<{ ids: string[] }> {
    const customerId = `cust_${randomBytes(4).toString('hex')}`;
    const register: CommandRequest = {
      caller: 'bench',
      idempotencyKey: null,
      fingerprint: 'x',
      streamId: customerId,
      streamType: 'customer',
      metadata: meta,
      decide: (h) => ({
        events: decideCustomer(
          {
            type: 'RegisterCustomer',
            data: {
              customerId,
              email: 'bench@example.com',
              name: null,
              metadata: {},
              now: new Date().toISOString(),
            },
          },
          {
            exists: h.length > 0,
            customerId: null,
            email: null,
            name: null,
            stripeCustomerId: null,
            paymentMethods: [],
            defaultPaymentMethodId: null,
          },
        ).map((e) => ({ type: e.type, data: toStoredData(e) })),
        respond: () => ({ statusCode: 201, body: null }),
      }),
    };
    await executeCommands(db, [register], { topic });
    const ids: string[] = [];
    for (let i = 0; i < count; i += 200) {
      const batch: CommandRequest[] = [];
      for (let j = i; j < Math.min(count, i + 200); j++) {
        const command = newPayment(customerId);
        const paymentId = command.data.paymentId;
        ids.push(paymentId);
        batch.push({
          caller: 'bench',
          idempotencyKey: null,
          fingerprint: 'x',
          streamId: paymentId,
          streamType: 'payment',
          metadata: meta,
          decide: () => ({
            events: decidePayment(command, { exists: false } as never).map((e) => ({
              type: e.type,
              data: toStoredData(e),
            })),
            respond: () => ({ statusCode: 201, body: null }),
          }),
        });
      }
      await executeCommands(db, batch, { topic, summarize: paymentSummaryRows });
    }
    return { ids };
  }

  /**
   * Counts the ledger's PaymentSucceeded events (one per payment) as they commit, reading only
   * what committed since its last poll: the events' (transaction_id, position) index from where it
   * stopped, below the oldest running transaction (as the relay reads the outbox, so a commit of a
   * lower position after a higher one is not missed). A count over `payment_summaries` at every
   * poll read every payment of the backlog each time (~25 ms of PostgreSQL per second at 100 ms).
   */
  const succeeded = {
    after: { tx: '0', position: '0' },
    total: 0,
    async poll(): Promise<number> {
      const { rows } = await sql<{ n: string; tx: string | null; position: string | null }>`
        SELECT count(*) FILTER (WHERE type = 'PaymentSucceeded') AS n,
               (array_agg(transaction_id::text ORDER BY transaction_id DESC, position DESC))[1] AS tx,
               (array_agg(position::text ORDER BY transaction_id DESC, position DESC))[1] AS position
          FROM events
         WHERE (transaction_id, position) > (${this.after.tx}::xid8, ${this.after.position}::bigint)
           AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())`.execute(db);
      const row = rows[0];
      if (row !== undefined && row.tx !== null && row.position !== null)
        this.after = { tx: row.tx, position: row.position };
      this.total += Number(row?.n ?? 0);
      return this.total;
    },
  };

  /**
   * `warmup + count + tail` payments as one backlog in Kafka; the executor starts on it. With a
   * warm-up, the measured window opens when the first `warmup` payments are seen succeeded (the
   * executor warm, the rest of the backlog waiting in Kafka) and closes when `count` more have
   * (give or take one poll), before the `tail` drains: both ends with the pipeline full, so no
   * work done before the window (on payments in flight at its start) is counted in it. Without a
   * warm-up it opens at the first Stripe call and closes at the last payment.
   */
  async function drain(
    topic: string,
    count: number,
    rate: number,
    { warmup, tail }: { warmup: number; tail: number } = { warmup: 0, tail: 0 },
  ): Promise<{ seconds: number; measured: number; callTimes: number[]; machine: string }> {
    const { ids } = await backlog(topic, warmup + count + tail);
    const sim = await startSimulator();
    running.push(sim.child);
    const simulator = sim.child;
    const simRequests = async (from = 0): Promise<{ method: string; path: string; at: number }[]> =>
      (await (await fetch(`${sim.inspect}/requests?from=${from}`)).json()) as never;
    // Warm the fresh simulator up (its code runs interpreted at first, and slow early answers
    // would skew when later requests reach it): customers only, no intents, not measured.
    await Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        for (let i = 0; i < 250; i++) {
          await fetch(`http://127.0.0.1:${sim.port}/v1/customers`, {
            method: 'POST',
            headers: {
              authorization: 'Bearer sk_test_warmup',
              'content-type': 'application/x-www-form-urlencoded',
            },
            body: `email=warmup${worker}-${i}%40example.com`,
          }).then((r) => r.arrayBuffer());
        }
      }),
    );
    const warmUp = (await simRequests()).length;
    const database = url.pathname.slice(1);
    const pgPort = Number(url.port);
    const counters = () => ({ postgres: postgresCpu(database), kafka: kafkaCpu(kafka.brokers[0] ?? '') });
    const backlog0 = counters();
    const relay = await spawnChild(
      'outbox relay',
      'services/outbox-relay/src/main.ts',
      {
        DATABASE_URL: url.toString(),
        KAFKA_BROKERS: kafka.brokers.join(','),
        LEDGER_EVENTS_TOPIC: topic,
        METRICS_PORT: '0',
        RELAY_BATCH_SIZE: '1000',
      },
      /outbox relay up/,
    );
    running.push(relay);
    // A backlog in Kafka: the executor starts once the relay has published every payment.
    const admin = new Kafka({ brokers: [...kafka.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await waitFor(
      async () =>
        (await admin.fetchTopicOffsets(topic).catch(() => [])).reduce((n, p) => n + Number(p.high), 0) >
        count,
      { timeoutMs: 120_000, intervalMs: 100, describe: () => `the relay did not publish ${count} payments` },
    );
    await admin.disconnect();
    const backlog1 = counters();
    const perPayment = (s: number, n: number): string => `${((s * 1000) / n).toFixed(2)} ms`;
    log(
      `publishing the backlog (relay start included), CPU per payment: relay ${perPayment(cpuSeconds(relay.process.pid), ids.length)}, ` +
        `PostgreSQL ${perPayment(backlog1.postgres - backlog0.postgres, ids.length)}, ` +
        `Kafka ${perPayment(backlog1.kafka - backlog0.kafka, ids.length)}`,
    );
    // Payments succeeded so far (earlier phases'), so this phase counts only its own.
    const before = await succeeded.poll();
    const executor = await spawnChild(
      'stripe executor',
      'services/stripe-executor/src/main.ts',
      {
        DATABASE_URL: url.toString(),
        KAFKA_BROKERS: kafka.brokers.join(','),
        STRIPE_SECRET_KEY: 'sk_test_bench',
        STRIPE_API_HOST: '127.0.0.1',
        STRIPE_API_PORT: sim.port,
        STRIPE_API_PROTOCOL: 'http',
        STRIPE_RATE_PER_SECOND: String(rate),
        LEDGER_EVENTS_TOPIC: topic,
        EXECUTOR_GROUP_ID: `${topic}.executor`,
        EXECUTOR_CONCURRENCY: '12',
        // The executor's own defaults otherwise (128 messages per partition, one write in flight);
        // BENCH_EXECUTOR_<NAME> overrides EXECUTOR_<NAME> for experiments.
        ...Object.fromEntries(
          Object.entries(process.env).flatMap(([name, value]) =>
            name.startsWith('BENCH_EXECUTOR_') && value !== undefined ? [[name.slice(6), value]] : [],
          ),
        ),
        METRICS_PORT: '0',
      },
      /stripe executor up/,
    );
    running.push(executor);
    const started = Date.now();
    const progress: string[] = [];
    /** CPU seconds so far of the relay, the executor and the simulator, in that order. */
    const childrenCpu = () => [relay, executor, simulator].map((c) => cpuSeconds(c.process.pid));
    const pgClients = { executor: executor.process.pid, relay: relay.process.pid, bench: process.pid };
    // The same window for every process: from its start (now, or once the warm-up payments have
    // succeeded) to its close (the last payment seen succeeded, or `count` more with a tail).
    const snapshot = (succeeded: number) => ({
      at: Date.now(),
      succeeded,
      self: cpuSeconds(process.pid),
      children: childrenCpu(),
      counters: counters(),
      machine: cpuTimes(),
      pgBy: postgresCpuByClient(database, pgPort, pgClients),
    });
    let window0 = warmup === 0 ? snapshot(0) : null;
    let window1: ReturnType<typeof snapshot> | null = null;
    await waitFor(
      async () => {
        const done = (await succeeded.poll()) - before;
        if (window0 === null && done >= warmup) {
          window0 = snapshot(done);
          log(
            `warm-up: ${done} payments succeeded ${((window0.at - started) / 1000).toFixed(1)} s after the executor was up`,
          );
        } else if (window0 !== null && window1 === null && tail > 0 && done >= warmup + count) {
          window1 = snapshot(done);
        }
        // Progress by tenths (a tail slower than the rest shows here).
        while (done >= ((progress.length + 1) * ids.length) / 10 && progress.length < 10)
          progress.push(((Date.now() - started) / 1000).toFixed(1));
        return done === ids.length;
      },
      { timeoutMs: 900_000, intervalMs: 100, describe: () => `not all ${ids.length} payments succeeded` },
    );
    const stop: ReturnType<typeof snapshot> = window1 ?? snapshot(ids.length);
    log(`succeeded by tenths, s after the executor was up: ${progress.join(' ')}`);
    const start: ReturnType<typeof snapshot> | null = window0;
    if (start === null) throw new Error('the warm-up payments never all succeeded');
    const { self: self0, children: children0, counters: cpu0, pgBy: pgBy0 } = start;
    const { self: self1, children: children1, counters: cpu1, pgBy: pgBy1 } = stop;
    const machine = machineShares(start.machine, stop.machine);
    const measured = stop.succeeded - start.succeeded;
    // The same processes with nothing to do: what the system burns while it waits for work.
    const idle0 = {
      ...counters(),
      children: childrenCpu(),
    };
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idle1 = {
      ...counters(),
      children: childrenCpu(),
    };
    const perSecond = (s: number): string => `${((s * 1000) / IDLE_SECONDS).toFixed(0)} ms`;
    const [relayIdle, executorIdle, simIdle] = idle1.children.map((c, i) => c - (idle0.children[i] ?? 0)) as [
      number,
      number,
      number,
    ];
    log(
      `idle for ${IDLE_SECONDS} s after the last payment, CPU per second: executor ${perSecond(executorIdle)}, ` +
        `relay ${perSecond(relayIdle)}, simulator ${perSecond(simIdle)}, ` +
        `PostgreSQL ${perSecond(idle1.postgres - idle0.postgres)}, Kafka ${perSecond(idle1.kafka - idle0.kafka)}`,
    );
    await stopChild(executor);
    await stopChild(relay);
    const requests = await simRequests(warmUp);
    // From the first Stripe call (consumer group joined, work flowing), or the end of the
    // warm-up, to the window's close.
    const first = warmup === 0 ? (requests[0]?.at ?? stop.at) : start.at;
    const seconds = (stop.at - first) / 1000;
    const per = (s: number): string => perPayment(s, measured);
    const [relayCpu, executorCpu, simCpu] = children1.map((c, i) => c - (children0[i] ?? 0)) as [
      number,
      number,
      number,
    ];
    log(
      `CPU per payment: executor ${per(executorCpu)}, relay ${per(relayCpu)}, ` +
        `simulator ${per(simCpu)}, PostgreSQL ${per(cpu1.postgres - cpu0.postgres)}, ` +
        `Kafka ${per(cpu1.kafka - cpu0.kafka)}, bench (watching) ${per(self1 - self0)}`,
    );
    log(
      `PostgreSQL CPU per payment by client: ${Object.keys(pgClients)
        .map((n) => `${n} ${per((pgBy1[n] ?? 0) - (pgBy0[n] ?? 0))}`)
        .join(', ')} (backends that closed during the run are missing)`,
    );
    // Stripe's side: exactly one PaymentIntent and one charge of the full amount per payment.
    const onStripe = (await (await fetch(`${sim.inspect}/payments`)).json()) as Record<
      string,
      { intents: number; charges: number; amount: number }
    >;
    const wrong = ids.filter((id) => {
      const p = onStripe[id];
      return p === undefined || p.intents !== 1 || p.charges !== 1 || p.amount !== 2000;
    });
    if (wrong.length > 0) {
      throw new Error(
        `${wrong.length} payments do not hold exactly one intent and one 20.00 charge on Stripe, e.g. ` +
          `${wrong[0]}: ${JSON.stringify(onStripe[wrong[0] ?? ''])}`,
      );
    }
    await stopChild(simulator);
    const callTimes = requests.filter((r) => r.path.startsWith('/v1/payment_intents')).map((r) => r.at);
    return { seconds, measured, callTimes, machine };
  }

  const suffix = Date.now().toString(36);
  log(
    `unthrottled: ${PAYMENTS} payments measured, ${WARMUP_PAYMENTS} ahead of them to warm up and ` +
      `${TAIL_PAYMENTS} behind, one backlog`,
  );
  const speedBefore = referenceWorkMs();
  const free = await drain(`bench.executor.${suffix}`, PAYMENTS, 0, {
    warmup: WARMUP_PAYMENTS,
    tail: TAIL_PAYMENTS,
  });
  const unthrottled = free.measured / free.seconds;
  log(
    `unthrottled: ${free.measured} payments in ${free.seconds.toFixed(1)} s after the warm-up ` +
      `(${free.callTimes.length} Stripe calls in the whole backlog); machine ${free.machine}`,
  );

  log(`limiter at 100/s: ${LIMITED_PAYMENTS} payments (${LIMITED_PAYMENTS * 2} calls)`);
  const limited = await drain(`bench.executor.limited.${suffix}`, LIMITED_PAYMENTS, 100);
  const times = limited.callTimes.sort((a, b) => a - b);
  let maxWindow = 0;
  let maxWindowAt = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while ((times[j] as number) <= (times[i] as number) - 1000) j++;
    if (i - j + 1 > maxWindow) maxWindowAt = ((times[i] as number) - (times[0] as number)) / 1000;
    maxWindow = Math.max(maxWindow, i - j + 1);
  }
  const span = ((times.at(-1) ?? 0) - (times[0] ?? 0)) / 1000;
  const utilisation = span > 0 ? (times.length - 1) / span / 100 : 0;
  log(
    `limited: ${times.length} calls over ${span.toFixed(1)} s, busiest second ending ${maxWindowAt.toFixed(2)} s in; ` +
      `machine ${limited.machine}; ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  );
  await db.destroy();
  // Before the unthrottled phase and at the end, with the bench's services stopped (right after a
  // phase, PostgreSQL and Kafka are still busy and would be measured instead of the machine).
  log(
    `machine speed: reference work ${speedBefore.toFixed(0)} ms before the unthrottled phase, ` +
      `${referenceWorkMs().toFixed(0)} ms at the end (test/bench/machineSpeed.ts, lower is faster)`,
  );
  console.log(
    `executor: ${unthrottled.toFixed(0)} payments/s unthrottled, limiter ${(utilisation * 100).toFixed(1)}% of 100/s, max 1s rate ${maxWindow}/s`,
  );
} finally {
  for (const child of running) await stopChild(child);
  await kafka.stop();
  await postgres.stop();
}
