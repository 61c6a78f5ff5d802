import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrateDatabase } from '@payledger/event-store';
import { loadRelayConfig, startRelay, type RunningRelay } from '@payledger/outbox-relay';
import { loadExecutorConfig, startExecutor, type RunningExecutor } from '@payledger/stripe-executor';
import { StripeSimulator } from '@payledger/stripe-sim';
import {
  createTestDatabase,
  createTestTopic,
  testBrokers,
  waitFor,
  type TestDatabase,
} from '@payledger/testkit/vitest';
import { startApiProcess, type ApiProcess } from './apiProcess.ts';

// Guarantee 3 as deployed: every service connects as a login role that is only a member of
// ledger_app (README), the schema owner migrates over MIGRATION_DATABASE_URL. The whole path runs
// under it (API commands, relay publishing and pruning the outbox, executor charging and
// refunding through the simulator), and that role can neither change history nor lift the
// triggers that guard it, which a superuser or the owner could.
const WRITER = { id: 'orders', secret: 'orders-secret-0123456789' };
const auth = { authorization: `Bearer ${WRITER.id}.${WRITER.secret}` };

let database: TestDatabase;
let role: string;
let serviceUrl: string;
let api: ApiProcess;
let base: string;
let relay: RunningRelay;
let executor: RunningExecutor;
let sim: StripeSimulator;

async function asOwner<T>(query: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return await query(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  database = await createTestDatabase('least');
  // The owner migrates first: migration 0001 creates ledger_app, which the login role joins.
  await migrateDatabase(database.url);
  role = `ledger_svc_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  await asOwner((c) => c.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}' IN ROLE ledger_app`));
  const url = new URL(database.url);
  url.username = role;
  url.password = password;
  serviceUrl = url.toString();

  const topic = await createTestTopic('least', 3);
  api = await startApiProcess({
    DATABASE_URL: serviceUrl,
    MIGRATION_DATABASE_URL: database.url,
    LEDGER_EVENTS_TOPIC: topic,
    API_CREDENTIALS: JSON.stringify([{ ...WRITER, scopes: ['payments:write'] }]),
  });
  base = api.base;

  relay = await startRelay(
    loadRelayConfig({
      DATABASE_URL: serviceUrl,
      KAFKA_BROKERS: testBrokers().join(','),
      LEDGER_EVENTS_TOPIC: topic,
      METRICS_PORT: '0',
      RELAY_POLL_INTERVAL_MS: '100',
      RELAY_RETENTION_INTERVAL_MS: '200',
    }),
  );
  sim = new StripeSimulator();
  const simPort = (await sim.start()).port;
  executor = await startExecutor(
    loadExecutorConfig({
      DATABASE_URL: serviceUrl,
      MIGRATION_DATABASE_URL: database.url,
      KAFKA_BROKERS: testBrokers().join(','),
      STRIPE_SECRET_KEY: 'sk_test_least_privilege',
      STRIPE_API_HOST: '127.0.0.1',
      STRIPE_API_PORT: String(simPort),
      STRIPE_API_PROTOCOL: 'http',
      STRIPE_RATE_PER_SECOND: '0',
      LEDGER_EVENTS_TOPIC: topic,
      EXECUTOR_GROUP_ID: `${topic}.executor`,
      DEAD_LETTER_TOPIC: `${topic}.dlq`,
      METRICS_PORT: '0',
    }),
  );
}, 120_000);

afterAll(async () => {
  api?.stop();
  await executor?.close();
  await relay?.close();
  await sim?.stop();
  await database?.drop();
  if (role !== undefined) await dropRole(role);
});

/** Roles are cluster-wide: the test's own goes with it. */
async function dropRole(name: string): Promise<void> {
  const admin = new URL(database.url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP ROLE IF EXISTS ${name}`);
  } finally {
    await client.end();
  }
}

async function command(path: string, body: unknown): Promise<Response> {
  return await fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      ...auth,
      'content-type': 'application/json',
      'idempotency-key': randomBytes(8).toString('hex'),
    },
    body: JSON.stringify(body),
  });
}

async function payment(id: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}/v1/payments/${id}`, { headers: auth });
  return ((await res.json()) as { payment: Record<string, unknown> }).payment;
}

describe('every service as a member of ledger_app only', () => {
  // Generous deadlines: a busy CI machine can take long for the executor's consumer group to form.
  it('runs the whole payment path: commands, relay, executor, refund, outbox pruning', async () => {
    expect((await command('/v1/customers', { customerId: 'alice', email: 'alice@example.com' })).status).toBe(
      201,
    );
    const saved = await command('/v1/customers/alice/payment-methods', { paymentMethodId: 'pm_card_visa' });
    expect(saved.status).toBe(202);
    const created = await command('/v1/payments', {
      customerId: 'alice',
      amount: 2000,
      currency: 'USD',
      offSession: true,
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const id = ((await created.json()) as { id: string }).id;
    let last: Record<string, unknown> = {};
    await waitFor(async () => (last = await payment(id))['status'] === 'succeeded', {
      timeoutMs: 60_000,
      describe: () => `the payment did not succeed: ${JSON.stringify(last)}\n${api.output()}`,
    });
    expect((await command(`/v1/payments/${id}/refunds`, { amount: 500 })).status).toBe(202);
    await waitFor(async () => (last = await payment(id))['amountRefunded'] === 500, {
      timeoutMs: 60_000,
      describe: () => `the refund did not complete: ${JSON.stringify(last)}`,
    });
    // The relay published every row and pruned them as the service role.
    await waitFor(async () => (await asOwner((c) => c.query('SELECT 1 FROM outbox'))).rowCount === 0, {
      timeoutMs: 60_000,
      describe: () => 'the relay did not prune the published outbox rows',
    });
  }, 200_000);

  it('cannot change history, nor lift the triggers that guard it', async () => {
    const client = new pg.Client({ connectionString: serviceUrl });
    await client.connect();
    try {
      for (const statement of [
        'UPDATE events SET type = type',
        'DELETE FROM events',
        'TRUNCATE events',
        'ALTER TABLE events DISABLE TRIGGER ALL',
        'DROP TABLE events',
        `SET session_replication_role = replica`,
      ]) {
        await expect(client.query(statement), statement).rejects.toMatchObject({ code: '42501' });
      }
    } finally {
      await client.end();
    }
    const { rows } = await asOwner((c) => c.query<{ n: string }>('SELECT count(*) AS n FROM events'));
    expect(Number(rows[0]?.n)).toBeGreaterThan(5);
  });
});
