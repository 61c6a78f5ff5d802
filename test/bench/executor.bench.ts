// npm run bench:executor — a backlog of 10,000 payments through Kafka, the Stripe executor and the
// simulator (no added latency), rate limiter off; then a backlog with the limiter at 100/s.
// Last line: `executor: <n> payments/s unthrottled, limiter <u>% of 100/s, max 1s rate <r>/s`.
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { sql } from 'kysely';
import { executeCommands, migrateToLatest, openDatabase, type CommandRequest } from '@payledger/event-store';
import { decideCustomer, decidePayment, toStoredData } from '@payledger/ledger';
import { loadRelayConfig, startRelay } from '@payledger/outbox-relay';
import { paymentSummaryRows } from '@payledger/projections';
import { loadExecutorConfig, startExecutor } from '@payledger/stripe-executor';
import { StripeSimulator } from '@payledger/stripe-sim';
import { startKafka, startPostgres, waitFor } from '@payledger/testkit';

const PAYMENTS = Number(process.env['BENCH_PAYMENTS'] ?? 10_000);
const LIMITED_PAYMENTS = Number(process.env['BENCH_LIMITED_PAYMENTS'] ?? 600);
const log = (line: string): void => void process.stderr.write(`[bench:executor] ${line}\n`);
const meta = { actor: 'bench', correlationId: 'bench', causationId: null };

const postgres = await startPostgres(log);
const kafka = await startKafka(log);
const sim = new StripeSimulator();
const { port: simPort } = await sim.start();
try {
  const admin = new pg.Client({ connectionString: postgres.adminUrl });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS bench_executor WITH (FORCE)');
  await admin.query('CREATE DATABASE bench_executor');
  await admin.end();
  const url = new URL(postgres.adminUrl);
  url.pathname = '/bench_executor';
  const db = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 8 });
  await migrateToLatest(db);

  async function backlog(topic: string, count: number): Promise<string[]> {
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
        const paymentId = `pay_${randomBytes(6).toString('hex')}`;
        ids.push(paymentId);
        batch.push({
          caller: 'bench',
          idempotencyKey: null,
          fingerprint: 'x',
          streamId: paymentId,
          streamType: 'payment',
          metadata: meta,
          decide: () => ({
            events: decidePayment(
              {
                type: 'CreatePayment',
                data: {
                  paymentId,
                  customerId,
                  paymentMethodId: 'pm_card_visa',
                  amount: 2000n,
                  currency: 'USD',
                  captureMethod: 'automatic',
                  offSession: false,
                  description: null,
                  metadata: {},
                  now: new Date().toISOString(),
                },
              },
              { exists: false } as never,
            ).map((e) => ({ type: e.type, data: toStoredData(e) })),
            respond: () => ({ statusCode: 201, body: null }),
          }),
        });
      }
      await executeCommands(db, batch, { topic, summarize: paymentSummaryRows });
    }
    return ids;
  }

  async function drain(
    topic: string,
    count: number,
    rate: number,
  ): Promise<{ seconds: number; callTimes: number[] }> {
    const ids = await backlog(topic, count);
    const relay = await startRelay(
      loadRelayConfig({
        DATABASE_URL: url.toString(),
        KAFKA_BROKERS: kafka.brokers.join(','),
        LEDGER_EVENTS_TOPIC: topic,
        METRICS_PORT: '0',
        RELAY_BATCH_SIZE: '1000',
      }),
    );
    const firstRequest = sim.requests.length;
    const t0 = performance.now();
    const executor = await startExecutor(
      loadExecutorConfig({
        DATABASE_URL: url.toString(),
        KAFKA_BROKERS: kafka.brokers.join(','),
        STRIPE_SECRET_KEY: 'sk_test_bench',
        STRIPE_API_HOST: '127.0.0.1',
        STRIPE_API_PORT: String(simPort),
        STRIPE_API_PROTOCOL: 'http',
        STRIPE_RATE_PER_SECOND: String(rate),
        LEDGER_EVENTS_TOPIC: topic,
        EXECUTOR_GROUP_ID: `${topic}.executor`,
        EXECUTOR_CONCURRENCY: '12',
        METRICS_PORT: '0',
      }),
    );
    await waitFor(
      async () => {
        const { rows } = await sql<{
          n: string;
        }>`SELECT count(*) AS n FROM payment_summaries WHERE status = 'succeeded' AND payment_id = ANY(${ids})`.execute(
          db,
        );
        return Number(rows[0]?.n) === ids.length;
      },
      { timeoutMs: 900_000, intervalMs: 250, describe: () => `not all ${count} payments succeeded` },
    );
    // From the first Stripe call (consumer group joined, work flowing) to the last payment recorded.
    const first = sim.requests[firstRequest]?.at ?? Date.now();
    const seconds = (Date.now() - first) / 1000 || (performance.now() - t0) / 1000;
    await executor.close();
    await relay.close();
    const callTimes = sim.requests
      .slice(firstRequest)
      .filter((r) => r.path.startsWith('/v1/payment_intents'))
      .map((r) => r.at);
    return { seconds, callTimes };
  }

  const suffix = Date.now().toString(36);
  log(`unthrottled: ${PAYMENTS} payments`);
  const free = await drain(`bench.executor.${suffix}`, PAYMENTS, 0);
  const unthrottled = PAYMENTS / free.seconds;
  log(
    `unthrottled: ${PAYMENTS} payments in ${free.seconds.toFixed(1)} s (${free.callTimes.length} Stripe calls)`,
  );

  log(`limiter at 100/s: ${LIMITED_PAYMENTS} payments (${LIMITED_PAYMENTS * 2} calls)`);
  const limited = await drain(`bench.executor.limited.${suffix}`, LIMITED_PAYMENTS, 100);
  const times = limited.callTimes.sort((a, b) => a - b);
  let maxWindow = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while ((times[j] as number) <= (times[i] as number) - 1000) j++;
    maxWindow = Math.max(maxWindow, i - j + 1);
  }
  const span = ((times.at(-1) ?? 0) - (times[0] ?? 0)) / 1000;
  const utilisation = span > 0 ? (times.length - 1) / span / 100 : 0;
  log(
    `limited: ${times.length} calls over ${span.toFixed(1)} s; machine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  );
  await db.destroy();
  console.log(
    `executor: ${unthrottled.toFixed(0)} payments/s unthrottled, limiter ${(utilisation * 100).toFixed(1)}% of 100/s, max 1s rate ${maxWindow}/s`,
  );
} finally {
  await sim.stop();
  await kafka.stop();
  await postgres.stop();
}
