import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import Stripe from 'stripe';
import { migrateToLatest, openDatabase, type Database } from '@payledger/event-store';
import { InProcessBus, type IncomingMessage } from '@payledger/messaging';
import { startRelay, loadRelayConfig, type RunningRelay } from '@payledger/outbox-relay';
import {
  CircuitBreaker,
  StripeGateway,
  idempotencyKey,
  type GatewayOptions,
} from '@payledger/stripe-gateway';
import { parsePublishedEvent } from '@payledger/schemas';
import { StripeSimulator } from '@payledger/stripe-sim';
import {
  createTestDatabase,
  createTestTopic,
  testBrokers,
  testKafka,
  waitFor,
  type TestDatabase,
} from '@payledger/testkit/vitest';
import {
  StripeExecutor,
  StripePausedError,
  createExecutorMetrics,
  loadExecutorConfig,
  startExecutor,
  type RunningExecutor,
} from '@payledger/stripe-executor';
import {
  appendEvents,
  createPayment,
  newPayment,
  paymentCommand,
  paymentCommandsAtOnce,
  paymentState,
  registerCustomer,
} from './executorHarness.ts';

const MAIN = fileURLToPath(new URL('../services/stripe-executor/src/main.ts', import.meta.url));
let database: TestDatabase;
let db: Kysely<Database>;
let sim: StripeSimulator;
let simPort: number;
let topic: string;
let relay: RunningRelay;
let executor: RunningExecutor | null = null;
const children: ChildProcess[] = [];

/** An executor of the test's own, outside any consumer group: messages are handed to it directly. */
function directExecutor(options: {
  gateway?: StripeGateway;
  eventsTopic: string;
  deadLetter?: ReturnType<InProcessBus['publisher']>;
  maxDeliveries?: number;
}): StripeExecutor {
  return new StripeExecutor({
    db,
    gateway: options.gateway ?? simulatorGateway(),
    metrics: createExecutorMetrics(),
    deadLetter: options.deadLetter ?? new InProcessBus().publisher(),
    deadLetterTopic: 'dlq',
    maxDeliveries: options.maxDeliveries ?? 3,
    eventsTopic: options.eventsTopic,
  });
}

/** A gateway on the simulator, limiter off (`Gateway` for one with a behaviour of the test's). */
function simulatorGateway(
  secretKey = 'sk_test_x',
  over: Partial<GatewayOptions> = {},
  Gateway: typeof StripeGateway = StripeGateway,
): StripeGateway {
  return new Gateway({
    secretKey,
    host: '127.0.0.1',
    port: simPort,
    protocol: 'http',
    ratePerSecond: 0,
    ...over,
  });
}

/**
 * A new payment only a direct executor of the test's own handles (its topic nobody consumes: the
 * running executor would charge it meanwhile), its PaymentCreated message, and the dead-letter
 * topic (maxDeliveries 2) and inbox row to watch.
 */
async function soloPayment(gateway: StripeGateway) {
  const quiet = await createTestTopic('exec-quiet', 1);
  const bus = new InProcessBus();
  const dlq: IncomingMessage[] = [];
  const consumer = bus.consumer({ groupId: `dlq-${quiet}`, topics: ['dlq'] });
  await consumer.run(async (m) => void dlq.push(m));
  const direct = directExecutor({
    gateway,
    deadLetter: bus.publisher(),
    maxDeliveries: 2,
    eventsTopic: quiet,
  });
  const paymentId = await createPayment(db, quiet, await registerCustomer(db, quiet), 'pm_card_visa');
  const created = (await paymentState(db, paymentId)).history[0];
  const msg = message(created?.eventId ?? '', paymentId, 'PaymentCreated.v1', created?.data ?? {});
  const inbox = async () =>
    (
      await db
        .selectFrom('executor_inbox')
        .select('outcome')
        .where('event_id', '=', created?.eventId ?? '')
        .executeTakeFirst()
    )?.outcome;
  return { dlq, direct, paymentId, msg, inbox, stop: () => consumer.stop() };
}

function executorEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: database.url,
    KAFKA_BROKERS: testBrokers().join(','),
    STRIPE_SECRET_KEY: 'sk_test_executor',
    STRIPE_API_HOST: '127.0.0.1',
    STRIPE_API_PORT: String(simPort),
    STRIPE_API_PROTOCOL: 'http',
    // Short enough for the hanging-call tests, long enough for a busy CI machine's ordinary calls.
    STRIPE_TIMEOUT_MS: '2000',
    STRIPE_MAX_ATTEMPTS: '2',
    // A breaker opened by a slow moment must not hold the tests' payments for the default 30 s.
    STRIPE_BREAKER_COOLDOWN_MS: '1000',
    STRIPE_RATE_PER_SECOND: '0',
    LEDGER_EVENTS_TOPIC: topic,
    EXECUTOR_GROUP_ID: `${topic}.executor`,
    DEAD_LETTER_TOPIC: `${topic}.dlq`,
    METRICS_PORT: '0',
    ...extra,
  };
}

async function until(
  paymentId: string,
  check: (s: Awaited<ReturnType<typeof paymentState>>) => boolean,
  what: string,
) {
  let last: Awaited<ReturnType<typeof paymentState>> | null = null;
  await waitFor(
    async () => {
      last = await paymentState(db, paymentId);
      return check(last);
    },
    { timeoutMs: 30_000, describe: () => `${what}; events: ${last?.types.join(', ')}` },
  );
  return last as unknown as Awaited<ReturnType<typeof paymentState>>;
}

beforeAll(async () => {
  database = await createTestDatabase('executor');
  db = await openDatabase({ kind: 'postgres', url: database.url });
  await migrateToLatest(db);
  sim = new StripeSimulator();
  simPort = (await sim.start()).port;
  topic = await createTestTopic('exec', 3);
  relay = await startRelay(
    loadRelayConfig({
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testBrokers().join(','),
      LEDGER_EVENTS_TOPIC: topic,
      METRICS_PORT: '0',
      RELAY_POLL_INTERVAL_MS: '100',
    }),
  );
  executor = await startExecutor(loadExecutorConfig(executorEnv()));
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await executor?.close();
  await relay.close();
  await sim.stop();
  await db.destroy();
  await database.drop();
});

describe('stripe executor through Kafka, PostgreSQL and the simulator', () => {
  it('charges in two steps, records the key before each call, and posts the money', async () => {
    const customer = await registerCustomer(db, topic);
    const paymentId = await createPayment(db, topic, customer, 'pm_card_visa');
    const { state, types, history } = await until(
      paymentId,
      (s) => s.state.status === 'succeeded',
      'payment did not succeed',
    );
    expect(types).toEqual([
      'PaymentCreated',
      'PaymentSubmitted',
      'PaymentIntentCreated',
      'PaymentSubmitted',
      'PaymentSucceeded',
    ]);
    const submitted = history
      .filter((e) => e.type === 'PaymentSubmitted')
      .map((e) => e.data['idempotencyKey']);
    expect(submitted).toEqual([
      idempotencyKey(paymentId, 'create_intent', 1),
      idempotencyKey(paymentId, 'confirm', 1),
    ]);
    const intents = sim.intentsFor(paymentId);
    expect(intents).toHaveLength(1);
    expect(sim.charges().filter((c) => c.paymentIntent === intents[0]?.['id'])).toHaveLength(1);
    expect(state.capturedAmount).toBe(2000n);
    expect(history.at(-1)?.data['postings']).toEqual([
      { source: `customer:${customer}`, destination: 'stripe:pending', amount: '2000', currency: 'USD' },
    ]);
  });

  it('exposes Stripe latency by operation, outcomes by decline code and breaker state as metrics', async () => {
    const text = await (await fetch(executor?.metricsUrl ?? '')).text();
    expect(text).toMatch(/stripe_call_duration_seconds_bucket\{[^}]*operation="payment_intents.confirm"/);
    expect(text).toMatch(/stripe_payment_outcomes_total\{result="succeeded"/);
    expect(text).toContain('stripe_breaker_open 0');
    expect(text).toContain('stripe_limiter_wait_seconds');
  });

  it.each([
    ['pm_card_chargeDeclined', 'card_declined', 'generic_decline'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'card_declined', 'insufficient_funds'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', null],
  ])('records %s as a failed payment with its codes', async (pm, code, declineCode) => {
    const paymentId = await createPayment(db, topic, await registerCustomer(db, topic), pm);
    const { state } = await until(paymentId, (s) => s.state.status === 'failed', 'payment did not fail');
    expect(state.failure).toMatchObject({ code, declineCode });
  });

  it('records 3-D Secure as requires_action, not as a failure', async () => {
    const paymentId = await createPayment(
      db,
      topic,
      await registerCustomer(db, topic),
      'pm_card_authenticationRequired',
    );
    const { state } = await until(
      paymentId,
      (s) => s.state.status === 'requires_action',
      'no requires_action',
    );
    expect(state.nextAction?.type).toBe('use_stripe_sdk');
  });

  it('authorises, captures part, and refunds part', async () => {
    const paymentId = await createPayment(db, topic, await registerCustomer(db, topic), 'pm_card_visa', {
      captureMethod: 'manual',
    });
    await until(paymentId, (s) => s.state.status === 'authorized', 'not authorised');
    await paymentCommand(db, topic, paymentId, {
      type: 'CapturePayment',
      data: { paymentId, amount: 1500n, now: new Date().toISOString() },
    });
    await until(paymentId, (s) => s.state.capturedAmount === 1500n, 'not captured');
    await paymentCommand(db, topic, paymentId, {
      type: 'RefundPayment',
      data: { paymentId, refundId: 'rf_1', amount: 500n, reason: null, now: new Date().toISOString() },
    });
    const { state } = await until(paymentId, (s) => s.state.refundedAmount === 500n, 'not refunded');
    expect(state.status).toBe('succeeded');
    const charge = sim.charges().find((c) => c.paymentIntent === state.intentId);
    expect(charge).toMatchObject({ amount: 1500, refunded: 500 });
  });

  it('records a timeout after Stripe charged as an unknown outcome, never a second intent', async () => {
    sim.inject({ path: /\/confirm$/, kind: 'apply_then_hang', times: 4 });
    const paymentId = await createPayment(db, topic, await registerCustomer(db, topic), 'pm_card_visa');
    const { state } = await until(paymentId, (s) => s.state.unknownOutcome !== null, 'no unknown outcome');
    expect(state.unknownOutcome).toMatchObject({ operation: 'confirm', attempt: 1 });
    sim.faults.splice(0);
    const intents = sim.intentsFor(paymentId);
    expect(intents).toHaveLength(1);
    expect(sim.charges().filter((c) => c.paymentIntent === intents[0]?.['id'])).toHaveLength(1);
  });

  it('calls Stripe once when the same work message is delivered twice', async () => {
    const paymentId = await createPayment(db, topic, await registerCustomer(db, topic), 'pm_card_visa');
    await until(paymentId, (s) => s.state.status === 'succeeded', 'payment did not succeed');
    const calls = () =>
      sim.requests.filter((r) => r.idempotencyKey?.startsWith(`ledger:${paymentId}:`)).length;
    const before = calls();
    // Re-send the PaymentCreated message as the relay would after a crash.
    const created = (await paymentState(db, paymentId)).history[0];
    const producer = testKafka('dup').producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        {
          key: paymentId,
          value: JSON.stringify({ ...created, type: 'PaymentCreated.v1' }),
          headers: { 'event-id': created?.eventId ?? '', 'event-type': 'PaymentCreated.v1' },
        },
      ],
    });
    await producer.disconnect();
    await waitFor(
      async () =>
        (
          await db
            .selectFrom('executor_inbox')
            .select('outcome')
            .where('event_id', '=', created?.eventId ?? '')
            .execute()
        ).length === 1,
      { timeoutMs: 10_000, describe: () => 'inbox row missing' },
    );
    await new Promise((r) => setTimeout(r, 1_000)); // let a wrong second handling show itself
    expect(calls()).toBe(before);
  });
});

describe('many payments in flight per partition', () => {
  it('charges payments concurrently, and handles two messages of one payment in order', async () => {
    // One transaction: the relay publishes it all together, so the executor's fetches hold many
    // payments' messages and, for some payments, their PaymentCreated and PaymentCancelRequested.
    const customer = await registerCustomer(db, topic);
    const charged = Array.from({ length: 40 }, () => newPayment(customer));
    const canceled = Array.from({ length: 10 }, () => newPayment(customer));
    const idOf = (c: (typeof charged)[number]) => (c.data as { paymentId: string }).paymentId;
    await paymentCommandsAtOnce(db, topic, [
      ...charged.map((c) => ({ paymentId: idOf(c), commands: [c] })),
      ...canceled.map((c) => ({
        paymentId: idOf(c),
        commands: [
          c,
          {
            type: 'CancelPayment' as const,
            data: { paymentId: idOf(c), reason: 'changed mind', now: new Date().toISOString() },
          },
        ],
      })),
    ]);
    for (const c of charged) {
      const { state, types } = await until(idOf(c), (s) => s.state.status === 'succeeded', 'not charged');
      expect(types).toEqual([
        'PaymentCreated',
        'PaymentSubmitted',
        'PaymentIntentCreated',
        'PaymentSubmitted',
        'PaymentSucceeded',
      ]);
      const intents = sim.intentsFor(idOf(c));
      expect(intents).toHaveLength(1);
      expect(sim.charges().filter((ch) => ch.paymentIntent === intents[0]?.['id'])).toHaveLength(1);
      expect(state.capturedAmount).toBe(2000n);
    }
    for (const c of canceled) {
      const paymentId = idOf(c);
      const { history } = await until(paymentId, (s) => s.state.status === 'canceled', 'not canceled');
      const [created, cancelRequested] = history;
      await waitFor(
        async () =>
          (
            await db
              .selectFrom('executor_inbox')
              .select('event_id')
              .where('stream_id', '=', paymentId)
              .execute()
          ).length === 2,
        { timeoutMs: 30_000, describe: () => `the cancel request of ${paymentId} was not handled` },
      );
      const inbox = await db
        .selectFrom('executor_inbox')
        .select(['event_id', 'outcome'])
        .where('stream_id', '=', paymentId)
        .execute();
      // In order: PaymentCreated is handled first (it sees the cancel request in the history and
      // cancels without calling Stripe); the cancel request comes second and finds nothing to do.
      expect(history.map((e) => e.type)).toEqual([
        'PaymentCreated',
        'PaymentCancelRequested',
        'PaymentCanceled',
      ]);
      expect(history[2]?.metadata.causationId).toBe(created?.eventId);
      expect(new Map(inbox.map((r) => [r.event_id, r.outcome]))).toEqual(
        new Map([
          [created?.eventId, 'applied'],
          [cancelRequested?.eventId, 'skipped'],
        ]),
      );
      expect(sim.intentsFor(paymentId)).toHaveLength(0);
    }
  });
});

describe('crashes and lost keys', () => {
  it('after a SIGKILL between the Stripe call and the outcome commit, reuses the key: one charge', async () => {
    await executor?.close();
    executor = null;
    const spawnExecutor = () => {
      const child = spawn(process.execPath, [MAIN], {
        env: { ...process.env, ...executorEnv() },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      return child;
    };
    sim.inject({ path: /\/confirm$/, kind: 'apply_then_hang', times: 1 });
    const first = spawnExecutor();
    const paymentId = await createPayment(db, topic, await registerCustomer(db, topic), 'pm_card_visa');
    await waitFor(
      async () =>
        sim.charges().some((c) => sim.intentsFor(paymentId).some((pi) => pi['id'] === c.paymentIntent)),
      {
        timeoutMs: 30_000,
        describe: () => 'the confirm never reached Stripe',
      },
    );
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    sim.faults.splice(0);
    const second = spawnExecutor();
    await until(paymentId, (s) => s.state.status === 'succeeded', 'payment did not succeed after restart');
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));
    const intents = sim.intentsFor(paymentId);
    expect(intents).toHaveLength(1);
    expect(sim.charges().filter((c) => c.paymentIntent === intents[0]?.['id'])).toHaveLength(1);
    const confirmKeys = sim.requests
      .filter((r) => r.path.endsWith('/confirm') && r.idempotencyKey?.startsWith(`ledger:${paymentId}:`))
      .map((r) => r.idempotencyKey);
    expect(new Set(confirmKeys)).toEqual(new Set([idempotencyKey(paymentId, 'confirm', 1)]));
    executor = await startExecutor(loadExecutorConfig(executorEnv()));
  });

  it('looks the intent up instead of creating a second one when its key is past retention', async () => {
    const gateway = simulatorGateway();
    const customer = await registerCustomer(db, topic);
    const paymentId = await createPayment(db, topic, customer, 'pm_card_visa');
    // The past: the create was submitted 25 h ago and Stripe created the intent, then we crashed.
    const long = new Date(Date.now() - 25 * 3600 * 1000).toISOString();
    const key = idempotencyKey(paymentId, 'create_intent', 1);
    await appendEvents(db, topic, paymentId, [
      {
        type: 'PaymentSubmitted',
        data: { paymentId, operation: 'create_intent', attempt: 1, idempotencyKey: key, at: long },
      },
    ]);
    const stripe = new Stripe('sk_test_x', {
      host: '127.0.0.1',
      port: simPort,
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    const original = await stripe.paymentIntents.create(
      {
        amount: 2000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        capture_method: 'automatic',
        metadata: { ledger_payment_id: paymentId },
      },
      { idempotencyKey: key },
    );
    sim.clock.advance(25 * 3600 * 1000); // Stripe forgets the key
    const direct = directExecutor({ gateway, eventsTopic: topic });
    const created = (await paymentState(db, paymentId)).history[0];
    await direct.handle(message(created?.eventId ?? '', paymentId, 'PaymentCreated.v1', created?.data ?? {}));
    const { state } = await paymentState(db, paymentId);
    expect(state.intentId).toBe(original.id);
    expect(sim.intentsFor(paymentId)).toHaveLength(1);
    expect(state.status).toBe('succeeded');
  });

  it('never charges a payment canceled before the executor reached it', async () => {
    // The running executor may get there first: either way nothing reaches Stripe.
    const unused = topic;
    const direct = directExecutor({ eventsTopic: unused });
    const paymentId = await createPayment(db, unused, await registerCustomer(db, unused), 'pm_card_visa');
    await paymentCommand(db, unused, paymentId, {
      type: 'CancelPayment',
      data: { paymentId, reason: 'changed mind', now: new Date().toISOString() },
    });
    const created = (await paymentState(db, paymentId)).history[0];
    await direct.handle(message(created?.eventId ?? '', paymentId, 'PaymentCreated.v1', created?.data ?? {}));
    const { state } = await paymentState(db, paymentId);
    expect(state.status).toBe('canceled');
    expect(sim.intentsFor(paymentId)).toHaveLength(0);
  });

  it('sees a cancel appended by another writer while it holds the payment: cancels the intent, never confirms it', async () => {
    // A topic nobody consumes: only the executor below handles this payment.
    const quiet = await createTestTopic('exec-quiet', 1);
    let canceledMeanwhile = false;
    /** Another writer appends a cancel while the create call is answered, after the executor's last write. */
    class CancelDuringCreate extends StripeGateway {
      override async createPaymentIntent(
        ...args: Parameters<StripeGateway['createPaymentIntent']>
      ): ReturnType<StripeGateway['createPaymentIntent']> {
        const created = await super.createPaymentIntent(...args);
        const paymentId = args[0].paymentId;
        await paymentCommand(db, quiet, paymentId, {
          type: 'CancelPayment',
          data: { paymentId, reason: 'changed mind', now: new Date().toISOString() },
        });
        canceledMeanwhile = true;
        return created;
      }
    }
    const direct = directExecutor({
      gateway: simulatorGateway('sk_test_x', {}, CancelDuringCreate),
      eventsTopic: quiet,
    });
    const paymentId = await createPayment(db, quiet, await registerCustomer(db, quiet), 'pm_card_visa');
    const created = (await paymentState(db, paymentId)).history[0];
    await direct.handle(message(created?.eventId ?? '', paymentId, 'PaymentCreated.v1', created?.data ?? {}));
    expect(canceledMeanwhile).toBe(true);
    const { state, types } = await paymentState(db, paymentId);
    expect(state.status).toBe('canceled');
    expect(types).not.toContain('PaymentSucceeded');
    const intents = sim.intentsFor(paymentId);
    expect(intents).toHaveLength(1);
    expect(intents[0]?.['status']).toBe('canceled');
    expect(
      sim.requests.filter((r) => r.path === `/v1/payment_intents/${String(intents[0]?.['id'])}/confirm`),
    ).toEqual([]);
  });

  it('dead-letters a message that keeps failing, with its reason, and moves on', async () => {
    // The 401 opens the breaker at once; with no cooldown the next delivery is its probe.
    const solo = await soloPayment(
      simulatorGateway('sk_live_wrong', { breaker: new CircuitBreaker({ cooldownMs: 0 }) }),
    );
    await expect(solo.direct.handle(solo.msg)).rejects.toThrow(/api_key_invalid/);
    await solo.direct.handle(solo.msg);
    await waitFor(async () => solo.dlq.length === 1, {
      timeoutMs: 5_000,
      describe: () => 'nothing dead-lettered',
    });
    expect(solo.dlq[0]?.headers['dlq-reason']).toMatch(/api_key_invalid/);
    expect(solo.dlq[0]?.headers['dlq-deliveries']).toBe('2');
    expect(await solo.inbox()).toBe('dead_lettered');
    await solo.stop();
  });

  it('waits while the breaker is open instead of dead-lettering, then charges once Stripe is back', async () => {
    const breaker = new CircuitBreaker({ cooldownMs: 3_600_000 });
    const solo = await soloPayment(simulatorGateway('sk_test_x', { breaker }));
    breaker.failure(true); // Stripe went down a moment ago: calls are paused
    const before = sim.requests.length;
    for (let delivery = 1; delivery <= 4; delivery++) {
      // Twice maxDeliveries: none of these counts, since none reached Stripe.
      await expect(solo.direct.handle(solo.msg)).rejects.toBeInstanceOf(StripePausedError);
    }
    expect(sim.requests.length).toBe(before);
    expect(solo.dlq).toEqual([]);
    expect(await solo.inbox()).toBeUndefined();
    breaker.success(); // Stripe answers again
    await solo.direct.handle(solo.msg);
    const { state, types } = await paymentState(db, solo.paymentId);
    expect(state.status).toBe('succeeded');
    expect(types.filter((t) => t === 'PaymentSubmitted')).toHaveLength(2); // one per call, no retry attempts
    expect(sim.intentsFor(solo.paymentId)).toHaveLength(1);
    expect(await solo.inbox()).toBe('applied');
    expect(solo.dlq).toEqual([]);
    await solo.stop();
  });

  it('does not count a call Stripe rate-limited through all its attempts either', async () => {
    const solo = await soloPayment(simulatorGateway('sk_test_x', { maxAttempts: 1 }));
    sim.inject({ path: /^\/v1\/payment_intents$/, kind: 'rate_limit', times: 3 });
    for (let delivery = 1; delivery <= 3; delivery++) {
      await expect(solo.direct.handle(solo.msg)).rejects.toBeInstanceOf(StripePausedError);
    }
    expect(solo.dlq).toEqual([]);
    await solo.direct.handle(solo.msg); // the limit lifted: the same key goes through
    const { state, history } = await paymentState(db, solo.paymentId);
    expect(state.status).toBe('succeeded');
    const creates = history.filter(
      (e) => e.type === 'PaymentSubmitted' && e.data['operation'] === 'create_intent',
    );
    expect(creates.map((e) => e.data['attempt'])).toEqual([1]); // one submission, its key reused
    expect(sim.intentsFor(solo.paymentId)).toHaveLength(1);
    expect(solo.dlq).toEqual([]);
    await solo.stop();
  });
});

function message(
  eventId: string,
  streamId: string,
  type: string,
  data: Record<string, unknown>,
): IncomingMessage {
  return {
    topic,
    partition: 0,
    offset: '0',
    key: streamId,
    value: JSON.stringify({ eventId, type, streamId, data, metadata: { correlationId: 'c' } }),
    headers: { 'event-id': eventId, 'event-type': type },
  };
}

// Last, over everything the tests above sent through the relay: what consumers of the events topic
// receive is what the published JSON Schemas (schemas/json/events) promise, type by type. A domain
// event whose stored form drifted from its published schema fails here.
describe('the events topic after the run', () => {
  it('carries only messages that match the published envelope and data schemas', async () => {
    const consumer = testKafka('contract-check').consumer({ groupId: `${topic}.contract-check` });
    const seen: { type: string; error: string | null }[] = [];
    let lastAt = Date.now();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message: m }) => {
          lastAt = Date.now();
          let type = '?';
          try {
            const envelope = parsePublishedEvent(JSON.parse(m.value?.toString() ?? 'null'));
            type = envelope.type;
            seen.push({ type, error: null });
          } catch (error) {
            seen.push({ type, error: `${(error as Error).message}\n${m.value?.toString()}` });
          }
        },
      });
      // Everything was published long ago (the relay polls every 100 ms): read until quiet.
      await waitFor(async () => seen.length > 0 && Date.now() - lastAt > 3_000, {
        timeoutMs: 60_000,
        describe: () => `the topic went quiet only after ${seen.length} messages`,
      });
    } finally {
      await consumer.disconnect();
    }
    expect(seen.filter((s) => s.error !== null).map((s) => s.error)).toEqual([]);
    const types = new Set(seen.map((s) => s.type));
    for (const type of [
      'CustomerRegistered.v1',
      'PaymentCreated.v1',
      'PaymentSubmitted.v1',
      'PaymentIntentCreated.v1',
      'PaymentSucceeded.v1',
      'PaymentFailed.v1',
    ]) {
      expect(types, `no ${type} was published`).toContain(type);
    }
  });
});
