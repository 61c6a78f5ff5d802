import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StripeSimulator } from '@payledger/stripe-sim';
import { CIRCUIT_OPEN, classify, notActedOn } from './errorMap.ts';
import { idempotencyKey } from './idempotencyKeys.ts';
import { CircuitBreaker, TokenBucket, backoffDelay, type Grant } from './resilience.ts';
import { StripeGateway, type GatewayOptions } from './stripeGateway.ts';

let sim: StripeSimulator;
let port: number;
const gateway = (over: Partial<GatewayOptions> = {}) =>
  new StripeGateway({
    secretKey: 'sk_test_gateway',
    host: '127.0.0.1',
    port,
    protocol: 'http',
    backoffBaseMs: 5,
    backoffCapMs: 20,
    ratePerSecond: 0,
    // Far above an ordinary call even on a busy CI machine; the timeout test sets its own.
    timeoutMs: 5_000,
    ...over,
  });

beforeAll(async () => {
  sim = new StripeSimulator();
  port = (await sim.start()).port;
});
afterAll(async () => sim.stop());

async function newIntent(
  g: StripeGateway,
  pm: string,
  paymentId = `pay_${Math.random().toString(36).slice(2)}`,
) {
  const created = await g.createPaymentIntent(
    {
      paymentId,
      amount: 2000,
      currency: 'USD',
      customer: null,
      paymentMethod: pm,
      captureMethod: 'automatic',
      description: null,
    },
    idempotencyKey(paymentId, 'create_intent', 1),
  );
  if (!created.ok) throw new Error(created.failure.message);
  return { paymentId, intent: created.value };
}

describe('idempotency keys', () => {
  it('are a deterministic function of payment, operation and attempt', () => {
    expect(idempotencyKey('pay_1', 'confirm', 1)).toBe(idempotencyKey('pay_1', 'confirm', 1));
    expect(idempotencyKey('pay_1', 'confirm', 2)).not.toBe(idempotencyKey('pay_1', 'confirm', 1));
    expect(idempotencyKey('pay_1', 'capture', 1)).not.toBe(idempotencyKey('pay_1', 'confirm', 1));
    expect(idempotencyKey('p'.repeat(300), 'confirm', 1).length).toBeLessThanOrEqual(255);
  });
});

describe('error map (STRIPE.md table)', () => {
  const row = (type: string | null, code: string | null, status: number | null) =>
    classify({ type, code, declineCode: null, status, message: '', shouldRetry: null }).kind;
  it.each([
    ['card_error', 'card_declined', 402, 'declined'],
    ['card_error', 'expired_card', 402, 'declined'],
    ['card_error', 'incorrect_cvc', 402, 'declined'],
    ['card_error', 'processing_error', 402, 'declined'],
    ['card_error', 'authentication_required', 402, 'needs_customer'],
    ['invalid_request_error', 'payment_intent_authentication_failure', 400, 'declined'],
    ['invalid_request_error', 'rate_limit', 429, 'retryable'],
    ['idempotency_error', 'idempotency_key_in_use', 409, 'retryable'],
    ['idempotency_error', null, 400, 'our_bug'],
    ['invalid_request_error', 'parameter_missing', 400, 'rejected'],
    ['invalid_request_error', 'amount_too_small', 400, 'rejected'],
    ['invalid_request_error', 'resource_missing', 404, 'rejected'],
    ['invalid_request_error', 'payment_intent_unexpected_state', 400, 'check_state'],
    ['invalid_request_error', 'api_key_invalid', 401, 'auth'],
    ['invalid_request_error', null, 403, 'auth'],
    ['api_error', null, 500, 'retryable'],
    ['api_error', null, 502, 'retryable'],
    ['api_error', null, 503, 'retryable'],
    ['api_error', null, 504, 'retryable'],
    [null, 'connection_error', null, 'retryable'],
  ] as const)('%s %s %s -> %s', (type, code, status, kind) => {
    expect(row(type, code, status)).toBe(kind);
  });
  it('marks processing_error for one more try with a new attempt', () => {
    expect(
      classify({
        type: 'card_error',
        code: 'processing_error',
        declineCode: null,
        status: 402,
        message: '',
        shouldRetry: null,
      }).retryWithNewAttempt,
    ).toBe(true);
  });
  it.each([
    [CIRCUIT_OPEN, 503, true], // the breaker refused it: nothing was sent
    ['rate_limit', 429, true],
    ['lock_timeout', 429, true],
    ['idempotency_key_in_use', 409, true],
    ['api_error', 500, false], // may have executed
    ['timeout', null, false],
    ['connection_error', null, false],
    ['api_key_invalid', 401, false],
    ['card_declined', 402, false],
  ] as const)('says whether Stripe acted on the call: %s %s -> %s', (code, status, expected) => {
    expect(notActedOn({ code, status })).toBe(expected);
  });
});

describe('gateway against the simulator', () => {
  it('creates unconfirmed, then confirms and succeeds', async () => {
    const g = gateway();
    const { paymentId, intent } = await newIntent(g, 'pm_card_visa');
    expect(intent.status).toBe('requires_confirmation');
    const confirmed = await g.confirmPaymentIntent(intent.id, false, idempotencyKey(paymentId, 'confirm', 1));
    expect(confirmed.ok && confirmed.value.status).toBe('succeeded');
  });

  it('does not capture the caller stack the SDK records per request, and restores the limit', async () => {
    const g = gateway();
    // Count the stacks V8 formats with a frame of the SDK's request setup (StripeResource).
    const original = Error.prepareStackTrace;
    let sdkStacks = 0;
    Error.prepareStackTrace = (error, frames) => {
      if (frames.some((f) => /StripeResource/.test(f.getFileName() ?? ''))) sdkStacks++;
      return original === undefined ? String(error) : original(error, frames);
    };
    const limit = Error.stackTraceLimit;
    try {
      const { paymentId, intent } = await newIntent(g, 'pm_card_visa');
      const confirmed = await g.confirmPaymentIntent(
        intent.id,
        false,
        idempotencyKey(paymentId, 'confirm', 1),
      );
      expect(confirmed.ok).toBe(true);
    } finally {
      Error.prepareStackTrace = original;
    }
    expect(sdkStacks).toBe(0);
    expect(Error.stackTraceLimit).toBe(limit);
  });

  it('reports a decline with its codes and does not retry it', async () => {
    const g = gateway();
    const { paymentId, intent } = await newIntent(g, 'pm_card_chargeDeclinedInsufficientFunds');
    const before = sim.requests.length;
    const result = await g.confirmPaymentIntent(intent.id, false, idempotencyKey(paymentId, 'confirm', 1));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.failure).toMatchObject({
      kind: 'declined',
      code: 'card_declined',
      declineCode: 'insufficient_funds',
      status: 402,
    });
    expect(sim.requests.length - before).toBe(1);
  });

  it('retries 5xx with the same key and succeeds when Stripe recovers', async () => {
    const g = gateway();
    const { paymentId, intent } = await newIntent(g, 'pm_card_visa');
    // Injected before execution would be saved for the key; a 502 from a proxy is not: use latency-free 429+5xx mix.
    sim.inject({ path: /\/confirm$/, kind: 'rate_limit', times: 2 });
    const key = idempotencyKey(paymentId, 'confirm', 1);
    const result = await g.confirmPaymentIntent(intent.id, false, key);
    expect(result.ok && result.value.status).toBe('succeeded');
    const confirms = sim.requests.filter((r) => r.path.endsWith(`${intent.id}/confirm`));
    expect(confirms).toHaveLength(3);
    expect(new Set(confirms.map((r) => r.idempotencyKey))).toEqual(new Set([key]));
  });

  it('retries a connection reset with the same key and succeeds', async () => {
    const g = gateway();
    const { paymentId, intent } = await newIntent(g, 'pm_card_visa');
    sim.inject({ path: /\/confirm$/, kind: 'reset', times: 2 });
    const key = idempotencyKey(paymentId, 'confirm', 1);
    const result = await g.confirmPaymentIntent(intent.id, false, key);
    expect(result.ok && result.value.status).toBe('succeeded');
    const confirms = sim.requests.filter((r) => r.path.endsWith(`${intent.id}/confirm`));
    expect(new Set(confirms.map((r) => r.idempotencyKey))).toEqual(new Set([key]));
    expect(sim.charges().filter((c) => c.paymentIntent === intent.id)).toHaveLength(1);
  });

  it.each([[500], [502], [503]])(
    'gives up on a persistent %s as an unknown outcome, never as a failure',
    async (status) => {
      const g = gateway({ maxAttempts: 3 });
      const { paymentId, intent } = await newIntent(g, 'pm_card_visa');
      sim.inject({ path: /\/confirm$/, kind: 'status', status, times: 1 });
      const key = idempotencyKey(paymentId, 'confirm', 1);
      const result = await g.confirmPaymentIntent(intent.id, false, key);
      expect(!result.ok && result.failure).toMatchObject({ kind: 'unknown_outcome', status });
      // Stripe saved the error for the key: every retry replayed it, none executed again.
      const confirms = sim.requests.filter((r) => r.path.endsWith(`${intent.id}/confirm`));
      expect(confirms).toHaveLength(3);
      expect(new Set(confirms.map((r) => r.idempotencyKey))).toEqual(new Set([key]));
    },
  );

  it('treats a timeout after Stripe charged as an unknown outcome', async () => {
    const g = gateway({ maxAttempts: 2, timeoutMs: 200 });
    const { paymentId, intent } = await newIntent(g, 'pm_card_visa');
    sim.inject({ path: /\/confirm$/, kind: 'apply_then_hang', times: 10 });
    const result = await g.confirmPaymentIntent(intent.id, false, idempotencyKey(paymentId, 'confirm', 1));
    expect(!result.ok && result.failure.kind).toBe('unknown_outcome');
    expect(sim.charges().filter((c) => c.paymentIntent === intent.id)).toHaveLength(1);
    sim.faults.splice(0);
    const retrieved = await g.retrievePaymentIntent(intent.id);
    expect(retrieved.ok && retrieved.value.status).toBe('succeeded');
  });

  it('stops retrying when Stripe-Should-Retry is false', async () => {
    const g = gateway();
    sim.inject({ path: /\/customers$/, kind: 'rate_limit', shouldRetry: false, times: 5 });
    const before = sim.requests.length;
    const result = await g.createCustomer(
      { ledgerCustomerId: 'c1', email: 'c1@example.com', name: null },
      'cust-key-1',
    );
    expect(!result.ok && result.failure.kind).toBe('retryable');
    expect(sim.requests.length - before).toBe(1);
    sim.faults.splice(0);
  });

  it('reports a reused key with other parameters as our bug', async () => {
    const g = gateway();
    await g.createCustomer({ ledgerCustomerId: 'c2', email: 'a@example.com', name: null }, 'cust-key-2');
    const again = await g.createCustomer(
      { ledgerCustomerId: 'c2', email: 'b@example.com', name: null },
      'cust-key-2',
    );
    expect(!again.ok && again.failure.kind).toBe('our_bug');
  });

  it('opens the breaker on a bad key and refuses calls without sending them', async () => {
    const g = gateway({ secretKey: 'sk_live_wrong' });
    const first = await g.createCustomer(
      { ledgerCustomerId: 'c3', email: 'c@example.com', name: null },
      'k3',
    );
    expect(!first.ok && first.failure.kind).toBe('auth');
    expect(g.breaker.state).toBe('open');
    const before = sim.requests.length;
    const second = await g.createCustomer(
      { ledgerCustomerId: 'c3', email: 'c@example.com', name: null },
      'k3',
    );
    expect(!second.ok && second.failure.code).toBe('circuit_open');
    expect(sim.requests.length).toBe(before);
  });
});

describe('resilience parts', () => {
  it('backs off exponentially with full jitter under a cap', () => {
    expect(backoffDelay(0, 1000, 8000, () => 0.999)).toBeLessThan(1000);
    expect(backoffDelay(3, 1000, 8000, () => 0.999)).toBeLessThan(8000);
    expect(backoffDelay(10, 1000, 8000, () => 0.999)).toBeLessThan(8000);
    expect(backoffDelay(2, 1000, 8000, () => 0)).toBe(0);
  });

  it('breaker: opens after N transient failures, half-opens after the cooldown, closes on a good probe', () => {
    let now = 0;
    const b = new CircuitBreaker({ threshold: 3, cooldownMs: 1000, now: () => now });
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
    now = 1000;
    expect(b.state).toBe('half_open');
    expect(b.allow()).toBe(true);
    expect(b.allow()).toBe(false); // one probe at a time
    b.success();
    expect(b.state).toBe('closed');
  });

  it('limiter never lets more than the rate through in any one-second window', async () => {
    const bucket = new TokenBucket(50);
    const times: number[] = [];
    const start = performance.now();
    while (performance.now() - start < 1500) {
      const grant = await bucket.acquire();
      times.push(performance.now());
      grant.release();
    }
    for (const t of times) expect(times.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(50);
    expect(times.length).toBeGreaterThanOrEqual(70);
  });
});

describe('limiter slots', () => {
  it('a call holds its slot until a window after it is over, however late it reaches Stripe', async () => {
    let now = 0;
    const bucket = new TokenBucket(2, { windowMs: 100, now: () => now });
    const first = await bucket.acquire();
    now = 250; // past the gap between grants
    const second = await bucket.acquire();
    let third: Grant | null = null;
    const waiting = bucket.acquire().then((g) => (third = g));
    // Seconds after both grants, but the first call is still in flight and the second just ended:
    // both still hold their slots (the first may not even have reached Stripe yet).
    now = 5000;
    second.release();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(third).toBeNull();
    // A window after the second call ended, its slot is free again; the first still holds its own.
    now = 5100;
    await waiting;
    expect(third).not.toBeNull();
    first.release();
    (third as Grant | null)?.release();
  });
});

describe('limiter pacing', () => {
  it('lets the grants a late timer owed go at once, at most four beyond the one due', async () => {
    let now = 0;
    const bucket = new TokenBucket(10, { windowMs: 1000, now: () => now }); // 50 ms apart
    (await bucket.acquire()).release();
    now = 5000; // the event loop was busy: the pacing is far behind its schedule
    const granted: number[] = [];
    const pending = Array.from({ length: 7 }, (_, i) => bucket.acquire().then(() => granted.push(i)));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(granted).toEqual([0, 1, 2, 3, 4]);
    now = 5100; // back on schedule: one grant per 50 ms again
    await Promise.all(pending);
    expect(granted).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe('429 storm', () => {
  it('limiter and backoff keep calls under the limit and every call completes', async () => {
    const limited = new StripeSimulator({ rateLimitPerSecond: 20 });
    const { port: limitedPort } = await limited.start();
    try {
      const g = new StripeGateway({
        secretKey: 'sk_test_storm',
        host: '127.0.0.1',
        port: limitedPort,
        protocol: 'http',
        ratePerSecond: 15,
        backoffBaseMs: 50,
        backoffCapMs: 400,
        maxAttempts: 6,
      });
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          g.createCustomer(
            { ledgerCustomerId: `s${i}`, email: `s${i}@example.com`, name: null },
            `storm-${i}`,
          ),
        ),
      );
      expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.failure.code)).toEqual([]);
      const times = limited.requests.map((r) => r.at).sort((a, b) => a - b);
      for (const t of times)
        expect(times.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(15);
    } finally {
      await limited.stop();
    }
  });
});
