import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { createTestDatabase, type TestDatabase } from '@payledger/testkit/vitest';
import {
  CommandBatcher,
  migrateToLatest,
  openDatabase,
  verifyStreams,
  readStream,
  type Database,
} from '@payledger/event-store';
import { paymentSummaryRows } from '@payledger/projections';
import { buildApp } from './app.ts';
import { createMetrics } from './http/metrics.ts';
import { parseCredentials } from './auth/credentials.ts';

const credentials = parseCredentials(
  JSON.stringify([
    { id: 'orders', secret: 'orders-secret-123', scopes: ['payments:write'] },
    { id: 'billing', secret: 'billing-secret-123', scopes: ['payments:write'] },
    { id: 'finance', secret: 'finance-secret-123', scopes: ['ledger:read'] },
    { id: 'auditor', secret: 'auditor-secret-123', scopes: ['audit:read'] },
  ]),
);
const auth = {
  orders: 'Bearer orders.orders-secret-123',
  billing: 'Bearer billing.billing-secret-123',
  finance: 'Bearer finance.finance-secret-123',
  auditor: 'Bearer auditor.auditor-secret-123',
};

let database: TestDatabase;
let db: Kysely<Database>;
let app: FastifyInstance;
let batcher: CommandBatcher;
let keySeq = 0;
const newKey = (): string => `key-${Date.now()}-${keySeq++}`;

async function post(
  path: string,
  body: unknown,
  opts: { as?: keyof typeof auth; key?: string | null; raw?: string; contentType?: string } = {},
) {
  const headers: Record<string, string> = {
    authorization: auth[opts.as ?? 'orders'],
    'content-type': opts.contentType ?? 'application/json',
  };
  const key = opts.key === undefined ? newKey() : opts.key;
  if (key !== null) headers['idempotency-key'] = key;
  return await app.inject({ method: 'POST', url: path, headers, payload: opts.raw ?? JSON.stringify(body) });
}

async function get(path: string, as: keyof typeof auth = 'orders') {
  return await app.inject({ method: 'GET', url: path, headers: { authorization: auth[as] } });
}

async function counts() {
  const [events, keys] = await Promise.all([
    db.selectFrom('events').select(db.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    db.selectFrom('idempotency_keys').select(db.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { events: Number(events.n), keys: Number(keys.n) };
}

async function customer(id = `cust-${keySeq++}-${Math.random().toString(36).slice(2)}`) {
  const res = await post('/v1/customers', { customerId: id, email: `${id}@example.com` });
  expect(res.statusCode).toBe(201);
  return id;
}

beforeAll(async () => {
  database = await createTestDatabase('api');
  db = await openDatabase({ kind: 'postgres', url: database.url, poolSize: 20 });
  await migrateToLatest(db);
  const metrics = createMetrics();
  batcher = new CommandBatcher(db, {
    topic: 'ledger.events.v1',
    summarize: paymentSummaryRows,
    onBatch: (commands) => metrics.commitBatch.observe(commands),
  });
  app = buildApp({ db, batcher, credentials, metrics });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await db.destroy();
  await database.drop();
});

describe('authentication and scopes', () => {
  it('answers 401 problem+json without or with a wrong credential', async () => {
    const none = await app.inject({ method: 'GET', url: '/v1/payments' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['content-type']).toContain('application/problem+json');
    expect(none.headers['www-authenticate']).toContain('Bearer');
    expect(none.json()).toMatchObject({ status: 401, code: 'unauthenticated' });
    const wrong = await app.inject({
      method: 'GET',
      url: '/v1/payments',
      headers: { authorization: 'Bearer orders.not-the-secret' },
    });
    expect(wrong.statusCode).toBe(401);
  });

  it('refuses every command to readers with 403, storing nothing', async () => {
    const customerId = await customer();
    const created = await post('/v1/payments', {
      customerId,
      paymentMethodId: 'pm_card_visa',
      amount: 500,
      currency: 'USD',
    });
    const id = created.json().id as string;
    const commands: Array<[string, unknown]> = [
      ['/v1/customers', { email: 'r@example.com' }],
      [`/v1/customers/${customerId}/payment-methods`, { paymentMethodId: 'pm_card_visa' }],
      ['/v1/payments', { customerId, paymentMethodId: 'pm_card_visa', amount: 500, currency: 'USD' }],
      [`/v1/payments/${id}/capture`, {}],
      [`/v1/payments/${id}/cancel`, {}],
      [`/v1/payments/${id}/refunds`, {}],
    ];
    const before = await counts();
    for (const as of ['finance', 'auditor'] as const) {
      for (const [path, body] of commands) {
        const res = await post(path, body, { as });
        expect([res.statusCode, res.json().code], `${as} POST ${path}`).toEqual([403, 'forbidden']);
      }
    }
    expect(await counts()).toEqual(before);
  });

  it("lists a writer's own payments only; readers list everyone's", async () => {
    const customerId = await customer();
    const created = await post('/v1/payments', {
      customerId,
      paymentMethodId: 'pm_card_visa',
      amount: 700,
      currency: 'USD',
    });
    const id = created.json().id as string;
    const listed = async (as: keyof typeof auth) =>
      ((await get(`/v1/payments?customerId=${customerId}`, as)).json().data as { id: string }[]).map(
        (p) => p.id,
      );
    expect(await listed('orders')).toEqual([id]);
    expect(await listed('billing')).toEqual([]);
    expect(await listed('finance')).toEqual([id]);
    expect(await listed('auditor')).toEqual([id]);
  });

  it('answers 403 when the credential lacks the scope', async () => {
    const res = await post('/v1/customers', { email: 'a@example.com' }, { as: 'finance' });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('forbidden');
  });
});

describe("a writer's customers are its own", () => {
  it('another writer can neither read nor change nor charge them; readers see them', async () => {
    const customerId = await customer(); // registered by orders
    const status = async (res: Awaited<ReturnType<typeof get>>) => [res.statusCode, res.json().code];
    expect(await status(await get(`/v1/customers/${customerId}`, 'billing'))).toEqual([
      404,
      'customer_not_found',
    ]);
    const before = await counts();
    const save = await post(
      `/v1/customers/${customerId}/payment-methods`,
      { paymentMethodId: 'pm_card_mastercard', setAsDefault: true },
      { as: 'billing' },
    );
    expect(await status(save)).toEqual([404, 'customer_not_found']);
    const charge = await post(
      '/v1/payments',
      { customerId, paymentMethodId: 'pm_card_visa', amount: 1000, currency: 'USD' },
      { as: 'billing' },
    );
    expect(await status(charge)).toEqual([404, 'customer_not_found']);
    const register = await post('/v1/customers', { customerId, email: 'b@example.com' }, { as: 'billing' });
    expect(await status(register)).toEqual([409, 'customer_already_exists']);
    expect(await counts()).toEqual(before);
    // Its owner still charges it (the customer is cached as seen by then), readers read it.
    const own = await post('/v1/payments', {
      customerId,
      paymentMethodId: 'pm_card_visa',
      amount: 1000,
      currency: 'USD',
    });
    expect(own.statusCode).toBe(201);
    expect((await get(`/v1/customers/${customerId}`, 'finance')).statusCode).toBe(200);
    expect((await get(`/v1/customers/${customerId}`, 'auditor')).statusCode).toBe(200);
    expect((await get(`/v1/customers/${customerId}`, 'orders')).statusCode).toBe(200);
    // Once cached by the owner's payment, the other writer is still refused.
    const again = await post(
      '/v1/payments',
      { customerId, paymentMethodId: 'pm_card_visa', amount: 1000, currency: 'USD' },
      { as: 'billing' },
    );
    expect(await status(again)).toEqual([404, 'customer_not_found']);
  });
});

describe('payments', () => {
  it('creates a payment durably, records the caller, and reads it back with its history', async () => {
    const customerId = await customer();
    const created = await post(
      '/v1/payments',
      {
        customerId,
        paymentMethodId: 'pm_card_visa',
        amount: 2000,
        currency: 'usd',
        description: 'order 42',
        metadata: { order: '42' },
      },
      { key: 'create-1' },
    );
    expect(created.statusCode).toBe(201);
    const payment = created.json();
    expect(payment).toMatchObject({
      customerId,
      amount: 2000,
      currency: 'USD',
      status: 'pending',
      captureMethod: 'automatic',
      version: 1,
    });
    expect(created.headers.location).toBe(`/v1/payments/${payment.id}`);

    const read = await get(`/v1/payments/${payment.id}`);
    expect(read.statusCode).toBe(200);
    const { events } = read.json();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'PaymentCreated',
      metadata: { actor: 'orders' },
      data: { amount: '2000', currency: 'USD' },
    });
    expect(verifyStreams(await readStream(db, payment.id))).toEqual([]);

    const outbox = await db.selectFrom('outbox').selectAll().where('message_key', '=', payment.id).execute();
    expect(outbox).toHaveLength(1);
    expect(outbox[0]?.event_id).toBe(events[0].eventId);
  });

  it('replays the original response for the same key and body and appends nothing', async () => {
    const customerId = await customer();
    const body = { customerId, paymentMethodId: 'pm_card_visa', amount: 500, currency: 'EUR' };
    const first = await post('/v1/payments', body, { key: 'replay-me' });
    const before = await counts();
    const second = await post('/v1/payments', body, { key: 'replay-me' });
    expect(second.statusCode).toBe(first.statusCode);
    expect(second.json()).toEqual(first.json());
    expect(second.headers.location).toBe(`/v1/payments/${first.json().id}`);
    expect(await counts()).toEqual(before);
  });

  it('refuses the same key with a different body', async () => {
    const customerId = await customer();
    await post(
      '/v1/payments',
      { customerId, paymentMethodId: 'pm_card_visa', amount: 500, currency: 'EUR' },
      { key: 'k-diff' },
    );
    const res = await post(
      '/v1/payments',
      { customerId, paymentMethodId: 'pm_card_visa', amount: 501, currency: 'EUR' },
      { key: 'k-diff' },
    );
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('idempotency_key_reused');
  });

  it('applies concurrent duplicates exactly once', async () => {
    const customerId = await customer();
    const body = { customerId, paymentMethodId: 'pm_card_visa', amount: 700, currency: 'GBP' };
    const responses = await Promise.all(
      Array.from({ length: 25 }, () => post('/v1/payments', body, { key: 'concurrent' })),
    );
    const ids = new Set(responses.map((r) => r.json().id));
    expect(responses.every((r) => r.statusCode === 201)).toBe(true);
    expect(ids.size).toBe(1);
    const rows = await db
      .selectFrom('payment_summaries')
      .select('payment_id')
      .where('customer_id', '=', customerId)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('refuses a transition the payment cannot make with 409 and stores nothing', async () => {
    const customerId = await customer();
    const created = (
      await post('/v1/payments', {
        customerId,
        paymentMethodId: 'pm_card_visa',
        amount: 900,
        currency: 'USD',
      })
    ).json();
    const before = await counts();
    const capture = await post(`/v1/payments/${created.id}/capture`, {});
    expect(capture.statusCode).toBe(409);
    expect(capture.json().code).toBe('invalid_transition');
    const refund = await post(`/v1/payments/${created.id}/refunds`, { amount: 100 });
    expect(refund.statusCode).toBe(409);
    expect(await counts()).toEqual(before);
    const cancel = await post(`/v1/payments/${created.id}/cancel`, { reason: 'customer changed mind' });
    expect(cancel.statusCode).toBe(202);
  });

  it('hides one writer’s payments from another, not from finance', async () => {
    const customerId = await customer();
    const created = (
      await post('/v1/payments', {
        customerId,
        paymentMethodId: 'pm_card_visa',
        amount: 900,
        currency: 'USD',
      })
    ).json();
    expect((await get(`/v1/payments/${created.id}`, 'billing')).statusCode).toBe(404);
    expect((await post(`/v1/payments/${created.id}/cancel`, {}, { as: 'billing' })).statusCode).toBe(404);
    expect((await get(`/v1/payments/${created.id}`, 'finance')).statusCode).toBe(200);
    expect((await get(`/v1/payments/${created.id}`, 'auditor')).statusCode).toBe(200);
  });

  it('lists payments newest first with filters and cursor pagination', async () => {
    const customerId = await customer();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await post('/v1/payments', {
        customerId,
        paymentMethodId: 'pm_card_visa',
        amount: 1000 + i * 10,
        currency: i % 2 === 0 ? 'USD' : 'JPY',
      });
      ids.push(res.json().id);
    }
    const page1 = (await get(`/v1/payments?customerId=${customerId}&limit=2`, 'finance')).json();
    expect(page1.data.map((p: { id: string }) => p.id)).toEqual([ids[4], ids[3]]);
    const page2 = (
      await get(`/v1/payments?customerId=${customerId}&limit=2&cursor=${page1.nextCursor}`, 'finance')
    ).json();
    const page3 = (
      await get(`/v1/payments?customerId=${customerId}&limit=2&cursor=${page2.nextCursor}`, 'finance')
    ).json();
    expect([...page2.data, ...page3.data].map((p: { id: string }) => p.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(page3.nextCursor).toBeNull();
    const jpy = (await get(`/v1/payments?customerId=${customerId}&currency=jpy`, 'finance')).json();
    expect(jpy.data.map((p: { currency: string }) => p.currency)).toEqual(['JPY', 'JPY']);
    const bad = await get(`/v1/payments?cursor=nonsense`, 'finance');
    expect(bad.statusCode).toBe(400);
  });

  it('charges off-session only with a saved payment method', async () => {
    const customerId = await customer();
    const refused = await post('/v1/payments', {
      customerId,
      amount: 1500,
      currency: 'USD',
      offSession: true,
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().code).toBe('payment_method_not_saved');
    const saved = await post(`/v1/customers/${customerId}/payment-methods`, {
      paymentMethodId: 'pm_card_visa',
    });
    expect(saved.statusCode).toBe(202);
    const charged = await post('/v1/payments', {
      customerId,
      amount: 1500,
      currency: 'USD',
      offSession: true,
    });
    expect(charged.statusCode).toBe(201);
    expect(charged.json()).toMatchObject({ paymentMethodId: 'pm_card_visa', offSession: true });
  });
});

describe('bad input gets a clear 4xx and stores nothing', () => {
  const valid = { customerId: 'someone', paymentMethodId: 'pm_card_visa', amount: 2000, currency: 'USD' };
  const cases: Array<[string, () => ReturnType<typeof post>, number, string]> = [
    ['malformed JSON', () => post('/v1/payments', null, { raw: '{"amount": 20' }), 400, 'invalid_json'],
    ['unknown field', () => post('/v1/payments', { ...valid, surprise: true }), 400, 'invalid_request'],
    ['wrong type', () => post('/v1/payments', { ...valid, amount: '2000' }), 400, 'invalid_amount'],
    ['zero amount', () => post('/v1/payments', { ...valid, amount: 0 }), 400, 'invalid_amount'],
    ['negative amount', () => post('/v1/payments', { ...valid, amount: -5 }), 400, 'invalid_amount'],
    ['fractional amount', () => post('/v1/payments', { ...valid, amount: 20.5 }), 400, 'invalid_amount'],
    [
      'too large amount',
      () => post('/v1/payments', { ...valid, amount: 100_000_000 }),
      400,
      'invalid_amount',
    ],
    ['unknown currency', () => post('/v1/payments', { ...valid, currency: 'XYZ' }), 400, 'unknown_currency'],
    [
      'mixed-case currency',
      () => post('/v1/payments', { ...valid, currency: 'Usd' }),
      400,
      'unknown_currency',
    ],
    [
      'KWD amount not ending in 0',
      () => post('/v1/payments', { ...valid, currency: 'KWD', amount: 1005 }),
      400,
      'invalid_amount',
    ],
    [
      'oversized body',
      () => post('/v1/payments', { ...valid, description: 'x'.repeat(70_000) }),
      413,
      'body_too_large',
    ],
    [
      'missing Idempotency-Key',
      () => post('/v1/payments', valid, { key: null }),
      400,
      'idempotency_key_missing',
    ],
    [
      'oversized Idempotency-Key',
      () => post('/v1/payments', valid, { key: 'k'.repeat(256) }),
      400,
      'idempotency_key_invalid',
    ],
    [
      'card number in metadata',
      () => post('/v1/payments', { ...valid, metadata: { note: '4242 4242 4242 4242' } }),
      400,
      'card_data_refused',
    ],
    [
      'card number as a number',
      () => post('/v1/payments', { ...valid, amount: 4000000000000002 }),
      400,
      'card_data_refused',
    ],
    [
      'card number hidden in JSON escapes',
      () =>
        post('/v1/payments', null, {
          raw: JSON.stringify({ ...valid, description: 'x' }).replace('"x"', '"\\u0034242424242424242"'),
        }),
      400,
      'card_data_refused',
    ],
    [
      'card number as a number in exponent form',
      () =>
        post('/v1/payments', null, { raw: JSON.stringify(valid).replace('2000', '4.242424242424242e15') }),
      400,
      'card_data_refused',
    ],
    [
      'card number as the Idempotency-Key',
      () => post('/v1/payments', valid, { key: '4242424242424242' }),
      400,
      'card_data_refused',
    ],
    [
      'card number glued to a reference',
      () => post('/v1/payments', { ...valid, metadata: { ref: 'ref-4242424242424242' } }),
      400,
      'card_data_refused',
    ],
    [
      'card number as payment method',
      () => post('/v1/payments', { ...valid, paymentMethodId: '5555555555554444' }),
      400,
      'card_data_refused',
    ],
    [
      'NUL character in a string (PostgreSQL cannot store it)',
      () => post('/v1/payments', { ...valid, description: 'before\u0000after' }),
      400,
      'invalid_request',
    ],
    [
      'NUL character in a metadata key',
      () => post('/v1/payments', { ...valid, metadata: { 'a\u0000b': 'x' } }),
      400,
      'invalid_request',
    ],
    [
      'not JSON',
      () => post('/v1/payments', null, { raw: 'amount=5', contentType: 'application/x-www-form-urlencoded' }),
      415,
      'unsupported_media_type',
    ],
    [
      'unknown customer',
      () => post('/v1/payments', { ...valid, customerId: 'nobody-here' }),
      404,
      'customer_not_found',
    ],
  ];
  beforeAll(async () => {
    await customer('someone');
  });
  for (const [name, send, status, code] of cases) {
    it(name, async () => {
      const before = await counts();
      const res = await send();
      expect(res.statusCode).toBe(status);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ status, code });
      expect(res.json().detail.length).toBeGreaterThan(10);
      expect(await counts()).toEqual(before);
    });
  }
});

describe('ids and cursors that name nothing get a 4xx, never a 500', () => {
  const problemOf = (res: Awaited<ReturnType<typeof get>>) => ({
    status: res.statusCode,
    code: res.json().code,
  });

  it('a path id outside the id alphabet (NUL included) is an object that does not exist', async () => {
    expect(problemOf(await get('/v1/customers/%00'))).toEqual({ status: 404, code: 'customer_not_found' });
    const before = await counts();
    const save = await post('/v1/customers/a%00b/payment-methods', { paymentMethodId: 'pm_card_visa' });
    expect(problemOf(save)).toEqual({ status: 404, code: 'customer_not_found' });
    expect(problemOf(await get('/v1/payments/a%00b'))).toEqual({ status: 404, code: 'payment_not_found' });
    expect(await counts()).toEqual(before);
  });

  it('a forged or altered cursor is refused as invalid', async () => {
    const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const cursor of [
      forge(['1', 'x']), // JavaScript parses "1" as a date, PostgreSQL does not
      forge(['2026-12-05T10:00:00.000Z', 'pay\u0000x']),
      forge(['2026-12-05 10:00', 'pay_x']),
      'not-base64-json',
    ]) {
      const res = await get(`/v1/payments?cursor=${encodeURIComponent(cursor)}`);
      expect(problemOf(res)).toEqual({ status: 400, code: 'invalid_request' });
    }
  });

  it('a date filter PostgreSQL cannot hold (year 0000) is refused as invalid', async () => {
    const res = await get('/v1/payments?createdTo=0000-02-29T20%3A23%3A03.6Z');
    expect(problemOf(res)).toEqual({ status: 400, code: 'invalid_request' });
  });

  it('an email with more than 64 characters before the @ is refused, nothing stored', async () => {
    const before = await counts();
    const res = await post('/v1/customers', { email: `${'a'.repeat(65)}@example.com` });
    expect(problemOf(res)).toEqual({ status: 400, code: 'invalid_request' });
    expect(await counts()).toEqual(before);
  });

  it("another kind of object's id is not found, and nothing is stored", async () => {
    const customerId = await customer();
    const created = await post('/v1/payments', {
      customerId,
      paymentMethodId: 'pm_card_visa',
      amount: 1000,
      currency: 'USD',
    });
    const paymentId = created.json().id as string;
    const before = await counts();
    const asCustomer = await post('/v1/payments', {
      customerId: paymentId,
      paymentMethodId: 'pm_card_visa',
      amount: 1000,
      currency: 'USD',
    });
    expect(problemOf(asCustomer)).toEqual({ status: 404, code: 'customer_not_found' });
    const save = await post(`/v1/customers/${paymentId}/payment-methods`, {
      paymentMethodId: 'pm_card_visa',
    });
    expect(problemOf(save)).toEqual({ status: 404, code: 'customer_not_found' });
    expect(problemOf(await get(`/v1/customers/${paymentId}`))).toEqual({
      status: 404,
      code: 'customer_not_found',
    });
    const register = await post('/v1/customers', { customerId: paymentId, email: 'x@example.com' });
    expect(problemOf(register)).toEqual({ status: 409, code: 'customer_already_exists' });
    const capture = await post(`/v1/payments/${customerId}/capture`, {});
    expect(problemOf(capture)).toEqual({ status: 404, code: 'payment_not_found' });
    expect(problemOf(await get(`/v1/payments/${customerId}`))).toEqual({
      status: 404,
      code: 'payment_not_found',
    });
    expect(await counts()).toEqual(before);
  });
});

describe('logs', () => {
  it('never hold a secret, an idempotency key or a card number, and a card number in a URL is refused', async () => {
    const lines: string[] = [];
    const logged = buildApp(
      { db, batcher, credentials, metrics: createMetrics() },
      { log: { level: 'info', stream: { write: (line) => lines.push(line) } } },
    );
    await logged.ready();
    try {
      const headers = { authorization: auth.orders, 'idempotency-key': 'secret-key-to-hide' };
      const inUrl = await logged.inject({
        method: 'GET',
        url: '/v1/payments?customerId=4242424242424242',
        headers,
      });
      expect(inUrl.statusCode).toBe(400);
      expect(inUrl.json().code).toBe('card_data_refused');
      const inPath = await logged.inject({ method: 'GET', url: '/v1/payments/4242-4242-4242-4242', headers });
      expect(inPath.json().code).toBe('card_data_refused');
      const encoded = await logged.inject({
        method: 'GET',
        url: '/v1/payments/4242%204242%204242%204242',
        headers,
      });
      expect(encoded.json().code).toBe('card_data_refused');
      await logged.inject({ method: 'GET', url: '/v1/payments', headers });
    } finally {
      await logged.close();
    }
    const log = lines.join('');
    expect(log).toContain('incoming request');
    expect(log).toContain('[card number]');
    expect(log).not.toMatch(/4242.?4242/);
    expect(log).not.toContain('orders-secret-123');
    expect(log).not.toContain('secret-key-to-hide');
  });
});

describe('methods', () => {
  it('answers 405 with Allow for a method a known path does not answer, 404 for an unknown path', async () => {
    for (const [method, url, allow] of [
      ['DELETE', '/v1/payments/pay_x', 'GET, HEAD'],
      ['PUT', '/v1/payments', 'POST, GET, HEAD'],
      ['GET', '/v1/payments/pay_x/capture', 'POST'],
      ['TRACE', '/health/live', 'GET, HEAD'],
    ] as const) {
      const res = await app.inject({ method, url, headers: { authorization: auth.orders } });
      expect(res.statusCode, `${method} ${url}`).toBe(405);
      expect(res.headers['allow']).toBe(allow);
      expect(res.json()).toMatchObject({ status: 405, code: 'method_not_allowed' });
    }
    const unknown = await app.inject({
      method: 'GET',
      url: '/v1/nothing',
      headers: { authorization: auth.orders },
    });
    expect(unknown.statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/v1/nothing' })).statusCode).toBe(401);
  });
});

describe('operations', () => {
  it('serves health, readiness, metrics and an OpenAPI document', async () => {
    expect((await app.inject({ url: '/health/live' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/health/ready' })).json()).toEqual({ status: 'ready' });
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.body).toContain('ledger_api_requests_total');
    expect(metrics.body).toContain('ledger_api_request_duration_seconds_bucket');
    expect(metrics.body).toMatch(/ledger_api_errors_total\{code="unauthenticated"\} \d+/);
    // Every command so far went through a group commit: their count is the histogram's sum.
    const committed = /ledger_commit_batch_commands_sum (\d+)/.exec(metrics.body);
    expect(Number(committed?.[1])).toBeGreaterThan(0);
    expect(metrics.body).toMatch(/ledger_commit_batch_commands_bucket\{le="1"\} \d+/);
    const doc = (await app.inject({ url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/payments', '/v1/payments/{paymentId}/refunds']),
    );
  });
});
