import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { parseForm } from './formBody.ts';
import { behaviourOf } from './testCards.ts';
import { signatureHeader } from './webhookSignature.ts';

type Obj = Record<string, unknown>;

/** A controllable clock (milliseconds since the epoch). */
export interface SimClock {
  now(): number;
}

/** One scripted fault: applies to the next `times` requests matching `method` and `path`. */
export interface Fault {
  readonly method?: string;
  readonly path?: RegExp;
  /**
   * `latency`: wait `ms`, then answer normally. `status`: answer `status` (500/502/503) as an
   * api_error after starting execution (so Stripe saves it for the key). `rate_limit`: 429 before
   * execution (nothing saved), with `Stripe-Should-Retry` when `shouldRetry` is set. `reset`: drop
   * the connection before execution. `apply_then_drop`: execute (the effect happens and is saved
   * for the key), then drop the connection without answering. `apply_then_hang`: execute, then
   * never answer (the client times out).
   */
  readonly kind: 'latency' | 'status' | 'rate_limit' | 'reset' | 'apply_then_drop' | 'apply_then_hang';
  readonly ms?: number;
  readonly status?: number;
  readonly shouldRetry?: boolean;
  times: number;
}

/** Webhook delivery: where, signed with which secrets, and how unreliably. */
export interface WebhookOptions {
  readonly url: string;
  /** Active endpoint secrets (`whsec_...`); one `v1` signature per secret. */
  readonly secrets: readonly string[];
  /** Deliver every event twice. */
  duplicate?: boolean;
  /** Hold events and deliver each batch of `reorderWindow` in reverse order. */
  reorderWindow?: number;
  /** Delay before each delivery. */
  delayMs?: number;
}

export interface SimulatorOptions {
  /** Secret keys accepted (`sk_test_...`); default: any `sk_test_`/`rk_test_` key. */
  readonly apiKeys?: readonly string[];
  readonly clock?: SimClock;
  /** How long Stripe keeps an idempotency key's result (default 24 h). */
  readonly idempotencyRetentionMs?: number;
  /** The simulator's own rate limit in requests per second (default: none). */
  readonly rateLimitPerSecond?: number;
  readonly webhook?: WebhookOptions;
}

/** A movement of money on the simulated Stripe account, for tests to count. */
export interface SimCharge {
  readonly paymentIntent: string;
  readonly charge: string;
  readonly amount: number;
  readonly currency: string;
  readonly refunded: number;
}

class StripeError extends Error {
  readonly status: number;
  readonly body: Obj;
  readonly headers: Record<string, string>;

  constructor(status: number, body: Obj, headers: Record<string, string> = {}) {
    super(String(body['message'] ?? 'stripe error'));
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

const err = (
  status: number,
  type: string,
  message: string,
  extra: Obj = {},
  headers: Record<string, string> = {},
) => new StripeError(status, { type, message, ...extra }, headers);

const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
  'isk',
]);
const MINIMUM: Record<string, number> = { usd: 50, eur: 50, gbp: 30, cad: 50, aud: 50, chf: 50, jpy: 50 };

/**
 * Random hex for object ids, drawn from a pool filled 4 KiB at a time: a request makes several
 * ids, and a call into the system's random source for each one was a tenth of the simulator's CPU.
 */
const randomPool = { bytes: Buffer.alloc(0), at: 0 };
function randomHex(bytes: number): string {
  if (randomPool.at + bytes > randomPool.bytes.length) {
    randomPool.bytes = randomBytes(4096);
    randomPool.at = 0;
  }
  randomPool.at += bytes;
  return randomPool.bytes.toString('hex', randomPool.at - bytes, randomPool.at);
}

/**
 * An event as kept: a shallow copy of its object taken when it happened (the simulator only ever
 * replaces an object's fields, never changes a nested value in place, so the copy stays as it
 * was), deep-copied into a Stripe event only when something reads it.
 */
interface KeptEvent {
  readonly head: Obj;
  readonly object: Obj;
  built?: Obj;
}

/**
 * A stateful Stripe API simulator for tests and the embedded mode: the official `stripe` SDK
 * talks to it (host/port/protocol options). It implements the endpoints the executor and the
 * reconciler use with Stripe's idempotency semantics, the test PaymentMethods, scripted faults,
 * signed webhooks, and a record of every charge so tests can count money on Stripe's side.
 */
export class StripeSimulator {
  readonly #options: SimulatorOptions;
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();
  #offsetMs = 0;
  readonly clock: SimClock & { advance(ms: number): void };
  readonly faults: Fault[] = [];
  #webhook: WebhookOptions | undefined;
  readonly #customers = new Map<string, Obj>();
  readonly #paymentMethods = new Map<string, Obj>();
  readonly #intents = new Map<string, Obj>();
  readonly #charges = new Map<string, Obj>();
  readonly #refunds = new Map<string, Obj>();
  readonly #events: KeptEvent[] = [];
  readonly #eventIndex = new Map<string, KeptEvent>();
  readonly #idempotency = new Map<string, { hash: string; at: number; status: number; body: Obj | null }>();
  readonly #windowStarts: number[] = [];
  #pendingDeliveries: Obj[] = [];
  #deliveries: Promise<void> = Promise.resolve();
  /** Requests received, by `METHOD path` (including rejected ones). */
  readonly requests: { method: string; path: string; idempotencyKey: string | null; at: number }[] = [];

  constructor(options: SimulatorOptions = {}) {
    this.#options = options;
    this.#webhook = options.webhook;
    const base = options.clock;
    this.clock = {
      now: () => (base?.now() ?? Date.now()) + this.#offsetMs,
      advance: (ms: number) => {
        this.#offsetMs += ms;
      },
    };
  }

  /** Starts listening (port 0 = any free port); returns the base URL. */
  async start(port = 0, host = '127.0.0.1'): Promise<{ url: string; host: string; port: number }> {
    const server = createServer((req, res) => {
      // When the request arrived (its head was parsed), before waiting for its body.
      const arrived = this.clock.now();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body =
          chunks.length === 1
            ? (chunks[0] as Buffer).toString('utf8')
            : Buffer.concat(chunks).toString('utf8');
        void this.#handle(req, res, arrived, body);
      });
    });
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    this.#server = server;
    const address = server.address();
    const actual = typeof address === 'object' && address !== null ? address.port : port;
    return { url: `http://${host}:${actual}`, host, port: actual };
  }

  async stop(): Promise<void> {
    await this.#deliveries.catch(() => {});
    for (const s of this.#sockets) s.destroy();
    await new Promise((r) => this.#server?.close(r) ?? r(undefined));
    this.#server = null;
  }

  /** Changes webhook delivery (e.g. after the receiver started). */
  configureWebhooks(webhook: WebhookOptions | undefined): void {
    this.#webhook = webhook;
  }

  /** Adds a scripted fault for the next `times` matching requests. */
  inject(fault: Omit<Fault, 'times'> & { times?: number }): void {
    this.faults.push({ ...fault, times: fault.times ?? 1 });
  }

  /** Every successful charge, for tests to count money on Stripe's side. */
  charges(): SimCharge[] {
    return [...this.#charges.values()].map((c) => ({
      paymentIntent: String(c['payment_intent']),
      charge: String(c['id']),
      amount: Number(c['amount_captured'] ?? c['amount']),
      currency: String(c['currency']),
      refunded: Number(c['amount_refunded']),
    }));
  }

  /** Every PaymentIntent, in creation order. */
  intents(): Obj[] {
    return [...this.#intents.values()];
  }

  /** PaymentIntents whose metadata.ledger_payment_id is `paymentId`. */
  intentsFor(paymentId: string): Obj[] {
    return [...this.#intents.values()].filter(
      (pi) => (pi['metadata'] as Obj)['ledger_payment_id'] === paymentId,
    );
  }

  /** Every event created so far (what GET /v1/events lists). */
  events(): readonly Obj[] {
    return this.#events.map(built);
  }

  /** Resolves when every webhook delivery started so far has finished. */
  async flushWebhooks(): Promise<void> {
    this.#flushReorder();
    await this.#deliveries;
  }

  // ---------------------------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse, arrived: number, body: string): Promise<void> {
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const method = req.method ?? 'GET';
    const path = queryAt < 0 ? target : target.slice(0, queryAt);
    const search = queryAt < 0 ? '' : target.slice(queryAt + 1);
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
    this.requests.push({ method, path, idempotencyKey: key, at: arrived });
    const requestId = `req_${randomHex(7)}`;
    const send = (status: number, payload: Obj, headers: Record<string, string> = {}): void => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'request-id': requestId,
        'stripe-version': '2025-01-01',
        ...headers,
      });
      res.end(JSON.stringify(payload));
    };
    const sendError = (e: StripeError): void =>
      send(
        e.status,
        { error: { ...e.body, request_log_url: `https://dashboard.stripe.com/test/logs/${requestId}` } },
        e.headers,
      );

    try {
      const fault = this.#takeFault(method, path);
      if (fault?.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      this.#authenticate(req.headers.authorization);
      if (fault?.kind === 'rate_limit' || this.#overRateLimit()) {
        const headers: Record<string, string> = {};
        if (fault?.shouldRetry !== undefined) headers['stripe-should-retry'] = String(fault.shouldRetry);
        throw err(
          429,
          'invalid_request_error',
          'Too many requests hit the API too quickly.',
          { code: 'rate_limit' },
          headers,
        );
      }
      const params = method === 'GET' ? parseForm(search) : parseForm(body);
      const idem =
        method === 'POST' && key !== null ? this.#idempotencyCheck(key, method, path, params) : null;
      if (idem?.replay !== undefined) {
        if (fault?.kind === 'apply_then_drop') {
          req.socket.destroy();
          return;
        }
        if (fault?.kind === 'apply_then_hang') return;
        send(idem.replay.status, idem.replay.body, {
          'idempotent-replayed': 'true',
          'idempotency-key': key ?? '',
        });
        return;
      }
      let status = 200;
      let payload: Obj;
      try {
        // Validation happens before execution: a 400 from it is not saved for the key.
        const action = this.#route(method, path, params);
        if (idem !== null)
          this.#idempotency.set(idem.key, { hash: idem.hash, at: this.clock.now(), status: 0, body: null });
        // Latency is spent executing: a concurrent request with the same key sees it in use.
        if (fault?.kind === 'latency') await new Promise((r) => setTimeout(r, fault.ms ?? 1000));
        if (fault?.kind === 'status') {
          throw err(fault.status ?? 500, 'api_error', 'An unknown error occurred (simulated).');
        }
        payload = action();
      } catch (error) {
        if (!(error instanceof StripeError)) throw error;
        const executed = idem !== null && this.#idempotency.get(idem.key)?.status === 0;
        if (executed && idem !== null) {
          this.#idempotency.set(idem.key, {
            hash: idem.hash,
            at: this.clock.now(),
            status: error.status,
            body: { error: error.body },
          });
        }
        throw error;
      }
      if (idem !== null)
        this.#idempotency.set(idem.key, { hash: idem.hash, at: this.clock.now(), status, body: payload });
      if (fault?.kind === 'apply_then_drop') {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'apply_then_hang') return;
      status = 200;
      send(status, payload, key !== null ? { 'idempotency-key': key } : {});
    } catch (error) {
      if (error instanceof StripeError) sendError(error);
      else sendError(err(500, 'api_error', `simulator bug: ${(error as Error).message}`));
    }
  }

  #takeFault(method: string, path: string): Fault | undefined {
    const fault = this.faults.find(
      (f) =>
        f.times > 0 &&
        (f.method === undefined || f.method === method) &&
        (f.path === undefined || f.path.test(path)),
    );
    if (fault !== undefined) fault.times--;
    return fault;
  }

  #authenticate(header: string | undefined): void {
    const key = /^Bearer (\S+)$/.exec(header ?? '')?.[1];
    const ok = key !== undefined && (this.#options.apiKeys?.includes(key) ?? /^(sk|rk)_test_/.test(key));
    if (!ok)
      throw err(401, 'invalid_request_error', 'Invalid API Key provided.', { code: 'api_key_invalid' });
  }

  #overRateLimit(): boolean {
    const limit = this.#options.rateLimitPerSecond;
    if (limit === undefined) return false;
    const now = this.clock.now();
    while (this.#windowStarts.length > 0 && (this.#windowStarts[0] as number) <= now - 1000)
      this.#windowStarts.shift();
    if (this.#windowStarts.length >= limit) return true;
    this.#windowStarts.push(now);
    return false;
  }

  #idempotencyCheck(
    key: string,
    method: string,
    path: string,
    params: Obj,
  ): { key: string; hash: string; replay?: { status: number; body: Obj } } {
    // The request itself stands for its parameters (a digest of it would only cost CPU here).
    const hash = JSON.stringify([method, path, params]);
    const existing = this.#idempotency.get(key);
    const retention = this.#options.idempotencyRetentionMs ?? 24 * 3600 * 1000;
    if (existing === undefined || existing.at + retention < this.clock.now()) {
      this.#idempotency.delete(key);
      return { key, hash };
    }
    if (existing.hash !== hash) {
      throw err(
        400,
        'idempotency_error',
        `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
      );
    }
    if (existing.status === 0 || existing.body === null) {
      throw err(
        409,
        'idempotency_error',
        'There is currently another in-progress request using this Stripe token.',
        { code: 'idempotency_key_in_use' },
      );
    }
    return { key, hash, replay: { status: existing.status, body: existing.body } };
  }

  /** Validates a request and returns the action that executes it. */
  #route(method: string, path: string, p: Obj): () => Obj {
    const seg = path.split('/').filter(Boolean); // ['v1', ...]
    if (seg[0] !== 'v1')
      throw err(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
    const [, resource, id, action] = seg as [
      string,
      string | undefined,
      string | undefined,
      string | undefined,
    ];
    if (resource === 'customers' && method === 'POST' && id === undefined)
      return () => this.#createCustomer(p);
    if (resource === 'customers' && method === 'POST' && id !== undefined) {
      const customer = this.#get(this.#customers, id, 'customer');
      return () => this.#updateCustomer(customer, p);
    }
    if (resource === 'customers' && method === 'GET' && id !== undefined) {
      const customer = this.#get(this.#customers, id, 'customer');
      return () => customer;
    }
    if (resource === 'payment_methods' && method === 'POST' && id !== undefined && action === 'attach') {
      const customer = this.#get(this.#customers, required(p, 'customer'), 'customer');
      return () => this.#attach(id, customer);
    }
    if (resource === 'payment_intents') {
      if (method === 'POST' && id === undefined) {
        const amount = positiveInt(p, 'amount');
        const currency = required(p, 'currency').toLowerCase();
        const minimum = MINIMUM[currency];
        if (minimum !== undefined && amount < minimum) {
          throw err(400, 'invalid_request_error', `Amount must be at least ${minimum} ${currency}`, {
            code: 'amount_too_small',
            param: 'amount',
          });
        }
        if (p['customer'] !== undefined) this.#get(this.#customers, String(p['customer']), 'customer');
        return () => this.#createIntent(p, amount, currency);
      }
      if (method === 'GET' && id === 'search') return () => this.#searchIntents(String(p['query'] ?? ''));
      if (method === 'GET' && id === undefined)
        return () =>
          this.#list(
            [...this.#intents.values()].filter(
              (pi) => p['customer'] === undefined || pi['customer'] === p['customer'],
            ),
            p,
          );
      if (id === undefined)
        throw err(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
      const pi = this.#get(this.#intents, id, 'payment_intent');
      if (method === 'GET' && action === undefined) return () => pi;
      if (method === 'POST' && action === 'confirm') return () => this.#confirm(pi, p);
      if (method === 'POST' && action === 'capture') return () => this.#capture(pi, p);
      if (method === 'POST' && action === 'cancel') return () => this.#cancel(pi);
    }
    if (resource === 'refunds') {
      if (method === 'POST' && id === undefined) {
        const pi = this.#get(this.#intents, required(p, 'payment_intent'), 'payment_intent');
        return () => this.#refund(pi, p);
      }
      if (method === 'GET' && id !== undefined) {
        const refund = this.#get(this.#refunds, id, 'refund');
        return () => refund;
      }
    }
    if (resource === 'events' && method === 'GET') {
      if (id !== undefined) {
        const event = this.#eventIndex.get(id);
        if (event === undefined)
          throw err(404, 'invalid_request_error', `No such event: '${id}'`, { code: 'resource_missing' });
        return () => built(event);
      }
      return () =>
        this.#list(
          [...this.#events]
            .reverse()
            .filter((e) => p['type'] === undefined || e.head['type'] === p['type'])
            .map(built),
          p,
        );
    }
    throw err(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
  }

  #get(map: Map<string, Obj>, id: string, kind: string): Obj {
    const found = map.get(id);
    if (found === undefined)
      throw err(404, 'invalid_request_error', `No such ${kind}: '${id}'`, {
        code: 'resource_missing',
        param: 'id',
      });
    return found;
  }

  #list(items: Obj[], p: Obj): Obj {
    const limit = Math.min(Number(p['limit'] ?? 10), 100);
    let start = 0;
    if (typeof p['starting_after'] === 'string')
      start = items.findIndex((i) => i['id'] === p['starting_after']) + 1;
    const page = items.slice(start, start + limit);
    return { object: 'list', data: page, has_more: start + limit < items.length, url: '/v1/list' };
  }

  #now(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  #createCustomer(p: Obj): Obj {
    const customer: Obj = {
      id: `cus_${randomHex(7)}`,
      object: 'customer',
      created: this.#now(),
      email: p['email'] ?? null,
      name: p['name'] ?? null,
      metadata: (p['metadata'] as Obj) ?? {},
      invoice_settings: {
        default_payment_method: null,
        custom_fields: null,
        footer: null,
        rendering_options: null,
      },
      livemode: false,
    };
    this.#customers.set(String(customer['id']), customer);
    this.#emit('customer.created', customer);
    return customer;
  }

  #updateCustomer(customer: Obj, p: Obj): Obj {
    const settings = p['invoice_settings'] as Obj | undefined;
    if (settings?.['default_payment_method'] !== undefined) {
      const pm = String(settings['default_payment_method']);
      const method = this.#paymentMethods.get(pm);
      if (method === undefined || method['customer'] !== customer['id']) {
        throw err(
          400,
          'invalid_request_error',
          `The payment method ${pm} is not attached to this customer.`,
          { code: 'resource_missing' },
        );
      }
      customer['invoice_settings'] = { ...(customer['invoice_settings'] as Obj), default_payment_method: pm };
    }
    if (p['metadata'] !== undefined)
      customer['metadata'] = { ...(customer['metadata'] as Obj), ...(p['metadata'] as Obj) };
    if (p['email'] !== undefined) customer['email'] = p['email'];
    return customer;
  }

  #attach(pm: string, customer: Obj): Obj {
    if (!pm.startsWith('pm_'))
      throw err(404, 'invalid_request_error', `No such PaymentMethod: '${pm}'`, { code: 'resource_missing' });
    const method: Obj = {
      id: pm,
      object: 'payment_method',
      type: 'card',
      card: { brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2034 },
      customer: customer['id'],
      created: this.#now(),
      livemode: false,
      metadata: {},
    };
    this.#paymentMethods.set(pm, method);
    this.#emit('payment_method.attached', method);
    return method;
  }

  #createIntent(p: Obj, amount: number, currency: string): Obj {
    const id = `pi_${randomHex(12)}`;
    const pi: Obj = {
      id,
      object: 'payment_intent',
      amount,
      amount_capturable: 0,
      amount_received: 0,
      currency,
      customer: p['customer'] ?? null,
      payment_method: p['payment_method'] ?? null,
      capture_method: p['capture_method'] ?? 'automatic_async',
      confirmation_method: 'automatic',
      client_secret: `${id}_secret_${randomHex(8)}`,
      created: this.#now(),
      description: p['description'] ?? null,
      metadata: (p['metadata'] as Obj) ?? {},
      status: p['payment_method'] !== undefined ? 'requires_confirmation' : 'requires_payment_method',
      next_action: null,
      last_payment_error: null,
      latest_charge: null,
      canceled_at: null,
      cancellation_reason: null,
      setup_future_usage: p['setup_future_usage'] ?? null,
      payment_method_types: ['card'],
      livemode: false,
    };
    this.#intents.set(id, pi);
    this.#emit('payment_intent.created', pi);
    if (p['confirm'] === 'true') return this.#confirm(pi, p);
    return pi;
  }

  #confirm(pi: Obj, p: Obj): Obj {
    if (p['payment_method'] !== undefined) pi['payment_method'] = p['payment_method'];
    const status = pi['status'];
    if (
      status !== 'requires_confirmation' &&
      status !== 'requires_payment_method' &&
      status !== 'requires_action'
    ) {
      throw err(
        400,
        'invalid_request_error',
        `You cannot confirm this PaymentIntent because it has a status of ${String(status)}.`,
        {
          code: 'payment_intent_unexpected_state',
          payment_intent: pi,
        },
      );
    }
    if (pi['payment_method'] === null) {
      throw err(
        400,
        'invalid_request_error',
        'You cannot confirm this PaymentIntent because it has no payment method.',
        { code: 'payment_intent_unexpected_state' },
      );
    }
    const pm = String(pi['payment_method']);
    const offSession = p['off_session'] === 'true';
    const behaviour = behaviourOf(pm);
    if (behaviour.kind === 'declines')
      return this.#decline(pi, behaviour.code, behaviour.declineCode, behaviour.message);
    if (behaviour.kind === 'requires_action') {
      const setUp =
        behaviour.unlessOffSessionSetUp && this.#paymentMethods.get(pm)?.['customer'] === pi['customer'];
      if (!setUp) {
        if (offSession) {
          return this.#decline(
            pi,
            'authentication_required',
            'authentication_required',
            'This payment requires authentication.',
          );
        }
        if (status !== 'requires_action') {
          pi['status'] = 'requires_action';
          pi['next_action'] = {
            type: 'use_stripe_sdk',
            use_stripe_sdk: {
              type: 'three_d_secure_redirect',
              stripe_js: 'https://hooks.stripe.com/3d_secure_2/hosted',
            },
          };
          this.#emit('payment_intent.requires_action', pi);
          return pi;
        }
      }
    }
    return this.#succeed(pi, behaviour.kind === 'succeeds' ? behaviour : {});
  }

  #decline(pi: Obj, code: string, declineCode: string | null, message: string): never {
    const chargeId = `ch_${randomHex(12)}`;
    const error: Obj = {
      type: 'card_error',
      code,
      ...(declineCode !== null ? { decline_code: declineCode } : {}),
      message,
      charge: chargeId,
      payment_method: { id: pi['payment_method'], object: 'payment_method', type: 'card' },
    };
    pi['status'] = 'requires_payment_method';
    pi['last_payment_error'] = error;
    pi['latest_charge'] = chargeId;
    pi['next_action'] = null;
    this.#emit('payment_intent.payment_failed', pi);
    throw new StripeError(402, { ...error, payment_intent: { ...pi } });
  }

  #succeed(pi: Obj, behaviour: { readonly dispute?: boolean; readonly refundFails?: boolean }): Obj {
    const manual = pi['capture_method'] === 'manual';
    const amount = Number(pi['amount']);
    const chargeId = `ch_${randomHex(12)}`;
    const fee = ZERO_DECIMAL.has(String(pi['currency']))
      ? Math.round(amount * 0.036)
      : Math.round(amount * 0.029 + 30);
    const charge: Obj = {
      id: chargeId,
      object: 'charge',
      amount,
      amount_captured: manual ? 0 : amount,
      amount_refunded: 0,
      captured: !manual,
      currency: pi['currency'],
      customer: pi['customer'],
      payment_intent: pi['id'],
      payment_method: pi['payment_method'],
      balance_transaction: manual
        ? null
        : {
            id: `txn_${randomHex(12)}`,
            object: 'balance_transaction',
            amount,
            fee,
            net: amount - fee,
            currency: pi['currency'],
          },
      status: 'succeeded',
      paid: true,
      refunded: false,
      disputed: false,
      created: this.#now(),
      metadata: pi['metadata'],
      livemode: false,
      _refundFails: behaviour.refundFails === true,
    };
    this.#charges.set(chargeId, charge);
    pi['latest_charge'] = chargeId;
    pi['next_action'] = null;
    pi['last_payment_error'] = null;
    if (manual) {
      pi['status'] = 'requires_capture';
      pi['amount_capturable'] = amount;
      this.#emit('payment_intent.amount_capturable_updated', pi);
    } else {
      pi['status'] = 'succeeded';
      pi['amount_received'] = amount;
      this.#emit('charge.succeeded', publicCharge(charge));
      this.#emit('payment_intent.succeeded', pi);
    }
    if (behaviour.dispute === true && !manual) {
      charge['disputed'] = true;
      this.#emit('charge.dispute.created', {
        id: `dp_${randomHex(12)}`,
        object: 'dispute',
        amount,
        currency: pi['currency'],
        charge: chargeId,
        payment_intent: pi['id'],
        reason: 'fraudulent',
        status: 'needs_response',
        created: this.#now(),
        livemode: false,
      });
    }
    return pi;
  }

  #capture(pi: Obj, p: Obj): Obj {
    if (pi['status'] !== 'requires_capture') {
      throw err(
        400,
        'invalid_request_error',
        `This PaymentIntent could not be captured because it has a status of ${String(pi['status'])}.`,
        {
          code: 'payment_intent_unexpected_state',
          payment_intent: pi,
        },
      );
    }
    const capturable = Number(pi['amount_capturable']);
    const amount = p['amount_to_capture'] === undefined ? capturable : positiveInt(p, 'amount_to_capture');
    if (amount > capturable) {
      throw err(
        400,
        'invalid_request_error',
        `The amount to capture (${amount}) exceeds the capturable amount (${capturable}).`,
        { code: 'amount_too_large', param: 'amount_to_capture' },
      );
    }
    const charge = this.#charges.get(String(pi['latest_charge'])) as Obj;
    charge['amount_captured'] = amount;
    charge['captured'] = true;
    const fee = Math.round(amount * 0.029 + 30);
    charge['balance_transaction'] = {
      id: `txn_${randomHex(12)}`,
      object: 'balance_transaction',
      amount,
      fee,
      net: amount - fee,
      currency: pi['currency'],
    };
    pi['status'] = 'succeeded';
    pi['amount_received'] = amount;
    pi['amount_capturable'] = 0;
    this.#emit('charge.captured', publicCharge(charge));
    this.#emit('payment_intent.succeeded', pi);
    return pi;
  }

  #cancel(pi: Obj): Obj {
    if (pi['status'] === 'succeeded' || pi['status'] === 'canceled') {
      throw err(
        400,
        'invalid_request_error',
        `You cannot cancel this PaymentIntent because it has a status of ${String(pi['status'])}.`,
        {
          code: 'payment_intent_unexpected_state',
          payment_intent: pi,
        },
      );
    }
    pi['status'] = 'canceled';
    pi['canceled_at'] = this.#now();
    pi['cancellation_reason'] = 'requested_by_customer';
    pi['amount_capturable'] = 0;
    this.#emit('payment_intent.canceled', pi);
    return pi;
  }

  #refund(pi: Obj, p: Obj): Obj {
    if (pi['status'] !== 'succeeded') {
      throw err(
        400,
        'invalid_request_error',
        `This PaymentIntent (${String(pi['id'])}) does not have a successful charge to refund.`,
        { code: 'charge_not_refundable' },
      );
    }
    const charge = this.#charges.get(String(pi['latest_charge'])) as Obj;
    const left = Number(charge['amount_captured']) - Number(charge['amount_refunded']);
    const amount = p['amount'] === undefined ? left : positiveInt(p, 'amount');
    if (left <= 0)
      throw err(400, 'invalid_request_error', `Charge ${String(charge['id'])} has already been refunded.`, {
        code: 'charge_already_refunded',
      });
    if (amount > left) {
      throw err(
        400,
        'invalid_request_error',
        `Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`,
        { code: 'amount_too_large', param: 'amount' },
      );
    }
    const refund: Obj = {
      id: `re_${randomHex(12)}`,
      object: 'refund',
      amount,
      currency: pi['currency'],
      charge: charge['id'],
      payment_intent: pi['id'],
      metadata: (p['metadata'] as Obj) ?? {},
      reason: p['reason'] ?? null,
      created: this.#now(),
      status: charge['_refundFails'] === true ? 'pending' : 'succeeded',
      failure_reason: null,
    };
    this.#refunds.set(String(refund['id']), refund);
    if (charge['_refundFails'] === true) {
      // Fails asynchronously: the API answers pending, then refund.failed arrives.
      this.#emit('refund.created', refund);
      queueMicrotask(() => {
        refund['status'] = 'failed';
        refund['failure_reason'] = 'expired_or_canceled_card';
        this.#emit('refund.failed', refund);
      });
      return refund;
    }
    charge['amount_refunded'] = Number(charge['amount_refunded']) + amount;
    charge['refunded'] = charge['amount_refunded'] === charge['amount_captured'];
    this.#emit('refund.created', refund);
    this.#emit('charge.refunded', publicCharge(charge));
    return refund;
  }

  #searchIntents(query: string): Obj {
    // Supports the query the reconciler uses: metadata['ledger_payment_id']:'<id>'
    const m = /metadata\['([^']+)'\]:'([^']*)'/.exec(query);
    if (m === null)
      throw err(400, 'invalid_request_error', `Unsupported search query: ${query}`, {
        code: 'parameter_invalid_string',
      });
    const [, field, value] = m as unknown as [string, string, string];
    const data = [...this.#intents.values()].filter((pi) => (pi['metadata'] as Obj)[field] === value);
    return {
      object: 'search_result',
      data,
      has_more: false,
      url: '/v1/payment_intents/search',
      next_page: null,
    };
  }

  #emit(type: string, object: Obj): void {
    // The object as it is now (it changes later): see KeptEvent.
    const event: KeptEvent = {
      head: {
        id: `evt_${randomHex(12)}`,
        object: 'event',
        api_version: '2025-01-01',
        created: this.#now(),
        type,
        livemode: false,
        pending_webhooks: this.#webhook === undefined ? 0 : 1,
        request: { id: null, idempotency_key: null },
      },
      object: publicObject(object),
    };
    this.#events.push(event);
    this.#eventIndex.set(String(event.head['id']), event);
    if (this.#webhook === undefined) return;
    this.#pendingDeliveries.push(built(event));
    const window = this.#webhook.reorderWindow ?? 1;
    if (this.#pendingDeliveries.length >= window) this.#flushReorder();
  }

  #flushReorder(): void {
    const webhook = this.#webhook;
    if (webhook === undefined || this.#pendingDeliveries.length === 0) return;
    const batch =
      (webhook.reorderWindow ?? 1) > 1
        ? [...this.#pendingDeliveries].reverse()
        : [...this.#pendingDeliveries];
    this.#pendingDeliveries = [];
    for (const event of batch) {
      const copies = webhook.duplicate === true ? 2 : 1;
      for (let i = 0; i < copies; i++)
        this.#deliveries = this.#deliveries.then(() => this.#deliver(webhook, event));
    }
  }

  async #deliver(webhook: WebhookOptions, event: Obj): Promise<void> {
    if (webhook.delayMs !== undefined) await new Promise((r) => setTimeout(r, webhook.delayMs));
    const payload = JSON.stringify(event, null, 2);
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const res = await fetch(webhook.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'stripe-signature': signatureHeader(payload, webhook.secrets, this.#now()),
            'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          },
          body: payload,
          signal: AbortSignal.timeout(10_000),
        });
        if (res.ok) return;
      } catch {
        // retried below, as Stripe retries failed deliveries
      }
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

function required(p: Obj, name: string): string {
  const v = p[name];
  if (typeof v !== 'string' || v === '') {
    throw err(400, 'invalid_request_error', `Missing required param: ${name}.`, {
      code: 'parameter_missing',
      param: name,
    });
  }
  return v;
}

function positiveInt(p: Obj, name: string): number {
  const raw = required(p, name);
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) {
    throw err(400, 'invalid_request_error', `Invalid positive integer: ${name}`, {
      code: 'parameter_invalid_integer',
      param: name,
    });
  }
  return Number(raw);
}

/** The event as Stripe shows it (built once, on first read). */
function built(event: KeptEvent): Obj {
  event.built ??= { ...event.head, data: { object: structuredClone(event.object) } };
  return event.built;
}

function publicCharge(charge: Obj): Obj {
  return publicObject(charge);
}

/** A shallow copy without the simulator's own `_` fields. */
function publicObject(object: Obj): Obj {
  const copy: Obj = {};
  for (const key in object) if (key[0] !== '_') copy[key] = object[key];
  return copy;
}
