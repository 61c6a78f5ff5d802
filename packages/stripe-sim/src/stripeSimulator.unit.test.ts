import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import Stripe from 'stripe';
import { StripeSimulator } from './stripeSimulator.ts';

// The official SDK against the simulator: what the gateway and the tests rely on.
let sim: StripeSimulator;
let stripe: Stripe;
let webhookServer: Server;
const received: { body: string; signature: string }[] = [];
const secrets = ['whsec_old_secret', 'whsec_new_secret'];

beforeAll(async () => {
  webhookServer = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ body, signature: String(req.headers['stripe-signature']) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => webhookServer.listen(0, '127.0.0.1', r));
  const address = webhookServer.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  sim = new StripeSimulator({ webhook: { url: `http://127.0.0.1:${port}/webhooks/stripe`, secrets } });
  const { port: simPort } = await sim.start();
  stripe = new Stripe('sk_test_simulator', {
    host: '127.0.0.1',
    port: simPort,
    protocol: 'http',
    maxNetworkRetries: 0,
    timeout: 2_000,
  });
});
afterAll(async () => {
  await sim.stop();
  await new Promise((r) => webhookServer.close(r));
});

async function intent(pm: string, extra: Partial<Stripe.PaymentIntentCreateParams> = {}, key?: string) {
  const customer = await stripe.customers.create({ email: 'a@example.com' });
  return await stripe.paymentIntents.create(
    {
      amount: 2000,
      currency: 'usd',
      customer: customer.id,
      payment_method: pm,
      metadata: { ledger_payment_id: `pay_${Math.random()}` },
      ...extra,
    },
    key !== undefined ? { idempotencyKey: key } : {},
  );
}

describe('payment intents with test cards', () => {
  it('creates unconfirmed, then confirms a Visa to succeeded and records the charge', async () => {
    const pi = await intent('pm_card_visa');
    expect(pi.status).toBe('requires_confirmation');
    const confirmed = await stripe.paymentIntents.confirm(pi.id);
    expect(confirmed.status).toBe('succeeded');
    expect(sim.charges().filter((c) => c.paymentIntent === pi.id)).toEqual([
      expect.objectContaining({ amount: 2000, currency: 'usd' }),
    ]);
    // Stripe refuses to confirm a succeeded intent twice.
    await expect(stripe.paymentIntents.confirm(pi.id)).rejects.toMatchObject({
      code: 'payment_intent_unexpected_state',
    });
  });

  it.each([
    ['pm_card_chargeDeclined', 'card_declined', 'generic_decline'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'card_declined', 'insufficient_funds'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', undefined],
    ['pm_card_chargeDeclinedIncorrectCvc', 'incorrect_cvc', undefined],
    ['pm_card_chargeDeclinedProcessingError', 'processing_error', undefined],
    ['pm_card_chargeCustomerFail', 'card_declined', 'generic_decline'],
  ])('%s declines with %s', async (pm, code, declineCode) => {
    const pi = await intent(pm);
    const error = await stripe.paymentIntents.confirm(pi.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(error).toMatchObject({ statusCode: 402, code });
    expect((error as Stripe.errors.StripeCardError).decline_code || undefined).toBe(declineCode);
    expect(sim.charges().some((c) => c.paymentIntent === pi.id)).toBe(false);
  });

  it('asks for 3-D Secure on session and declines authentication_required off session', async () => {
    const onSession = await stripe.paymentIntents.confirm(
      (await intent('pm_card_authenticationRequired')).id,
    );
    expect(onSession.status).toBe('requires_action');
    expect(onSession.next_action?.type).toBe('use_stripe_sdk');
    const off = await intent('pm_card_authenticationRequired');
    await expect(stripe.paymentIntents.confirm(off.id, { off_session: true })).rejects.toMatchObject({
      code: 'authentication_required',
    });
  });

  it('captures part of a manual authorisation and refunds within what was captured', async () => {
    const pi = await stripe.paymentIntents.confirm(
      (await intent('pm_card_visa', { capture_method: 'manual' })).id,
    );
    expect(pi.status).toBe('requires_capture');
    const captured = await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 1500 });
    expect(captured.amount_received).toBe(1500);
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 500 });
    expect(refund.status).toBe('succeeded');
    await expect(stripe.refunds.create({ payment_intent: pi.id, amount: 1001 })).rejects.toMatchObject({
      code: 'amount_too_large',
    });
    expect(sim.charges().find((c) => c.paymentIntent === pi.id)).toMatchObject({
      amount: 1500,
      refunded: 500,
    });
  });

  it('finds intents by ledger metadata', async () => {
    const pi = await intent('pm_card_visa', { metadata: { ledger_payment_id: 'pay_search_me' } });
    const found = await stripe.paymentIntents.search({
      query: "metadata['ledger_payment_id']:'pay_search_me'",
    });
    expect(found.data.map((p) => p.id)).toEqual([pi.id]);
  });
});

describe('idempotency like Stripe', () => {
  it('replays the first result with Idempotent-Replayed and refuses other parameters', async () => {
    const customer = await stripe.customers.create({ email: 'i@example.com' });
    const params = { amount: 1000, currency: 'usd', customer: customer.id, payment_method: 'pm_card_visa' };
    const first = await stripe.paymentIntents.create(params, { idempotencyKey: 'idem-1' });
    const again = await stripe.paymentIntents.create(params, { idempotencyKey: 'idem-1' });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    const other = await stripe.paymentIntents
      .create({ ...params, amount: 1001 }, { idempotencyKey: 'idem-1' })
      .catch((e: unknown) => e);
    expect(other).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
  });

  it('answers 409 idempotency_key_in_use while the first request runs', async () => {
    const customer = await stripe.customers.create({ email: 'c@example.com' });
    sim.inject({ method: 'POST', path: /^\/v1\/payment_intents$/, kind: 'latency', ms: 300 });
    const params = { amount: 1000, currency: 'usd', customer: customer.id };
    const slow = stripe.paymentIntents.create(params, { idempotencyKey: 'in-use' });
    await new Promise((r) => setTimeout(r, 50));
    const concurrent = await stripe.paymentIntents
      .create(params, { idempotencyKey: 'in-use' })
      .catch((e: unknown) => e);
    expect(concurrent).toMatchObject({ statusCode: 409, code: 'idempotency_key_in_use' });
    expect((await slow).status).toBe('requires_payment_method');
  });

  it('saves nothing for a validation failure, but saves a 500 once execution started', async () => {
    await expect(
      stripe.paymentIntents.create({ currency: 'usd' } as Stripe.PaymentIntentCreateParams, {
        idempotencyKey: 'val',
      }),
    ).rejects.toMatchObject({
      code: 'parameter_missing',
    });
    const ok = await stripe.paymentIntents.create(
      { amount: 900, currency: 'usd' },
      { idempotencyKey: 'val' },
    );
    expect(ok.amount).toBe(900);
    sim.inject({ method: 'POST', path: /^\/v1\/payment_intents$/, kind: 'status', status: 500 });
    const e1 = await stripe.paymentIntents
      .create({ amount: 900, currency: 'usd' }, { idempotencyKey: 'five-hundred' })
      .catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(Stripe.errors.StripeAPIError);
    const e2 = await stripe.paymentIntents
      .create({ amount: 900, currency: 'usd' }, { idempotencyKey: 'five-hundred' })
      .catch((e: unknown) => e);
    expect(e2).toMatchObject({ statusCode: 500 });
  });

  it('forgets a key after the retention window (24 h on the simulator clock)', async () => {
    const params = { amount: 700, currency: 'usd' };
    const a = await stripe.paymentIntents.create(params, { idempotencyKey: 'old-key' });
    sim.clock.advance(25 * 3600 * 1000);
    const b = await stripe.paymentIntents.create(params, { idempotencyKey: 'old-key' });
    expect(b.id).not.toBe(a.id);
  });
});

describe('faults', () => {
  it('applies the effect and drops the connection: a retry with the same key sees the result', async () => {
    const customer = await stripe.customers.create({ email: 'd@example.com' });
    const pi = await stripe.paymentIntents.create({
      amount: 1200,
      currency: 'usd',
      customer: customer.id,
      payment_method: 'pm_card_visa',
    });
    // stripe-node retries a closed connection once by itself (same key): drop both.
    sim.inject({ method: 'POST', path: /\/confirm$/, kind: 'apply_then_drop', times: 2 });
    const lost = await stripe.paymentIntents
      .confirm(pi.id, {}, { idempotencyKey: 'confirm-drop' })
      .catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(sim.charges().filter((c) => c.paymentIntent === pi.id)).toHaveLength(1); // it did charge
    const replay = await stripe.paymentIntents.confirm(pi.id, {}, { idempotencyKey: 'confirm-drop' });
    expect(replay.status).toBe('succeeded');
    expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(sim.charges().filter((c) => c.paymentIntent === pi.id)).toHaveLength(1);
  });

  it('rate-limits with 429 and Stripe-Should-Retry', async () => {
    sim.inject({ kind: 'rate_limit', shouldRetry: true });
    const e = await stripe.customers.create({ email: 'r@example.com' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect((e as Stripe.errors.StripeError).headers?.['stripe-should-retry']).toBe('true');
  });

  it('refuses a bad API key with 401', async () => {
    const bad = new Stripe('sk_live_nope', {
      host: '127.0.0.1',
      port: (await sim.start(0)).port,
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    await expect(bad.customers.create({})).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
  });
});

describe('webhooks', () => {
  it('signs every delivery with one v1 per active secret, verifiable by the SDK', async () => {
    await intent('pm_card_visa').then((pi) => stripe.paymentIntents.confirm(pi.id));
    await sim.flushWebhooks();
    const delivery = received.find((r) => r.body.includes('"payment_intent.succeeded"'));
    expect(delivery).toBeDefined();
    const header = delivery?.signature ?? '';
    expect(header.match(/v1=/g)).toHaveLength(2);
    for (const secret of secrets) {
      const event = stripe.webhooks.constructEvent(delivery?.body ?? '', header, secret);
      expect(event.type).toBe('payment_intent.succeeded');
    }
    expect(() => stripe.webhooks.constructEvent(delivery?.body ?? '', header, 'whsec_wrong')).toThrow();
  });
});
