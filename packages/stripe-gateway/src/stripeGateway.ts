import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import Stripe from 'stripe';
import {
  CIRCUIT_OPEN,
  classify,
  notActedOn,
  type GatewayFailure,
  type RawStripeFailure,
} from './errorMap.ts';
import { backoffDelay, CircuitBreaker, TokenBucket } from './resilience.ts';

export interface GatewayOptions {
  /** `sk_test_...` / `sk_live_...` / `rk_...`: from the environment, never logged. */
  readonly secretKey: string;
  /** Point the SDK elsewhere (the simulator): host, port, protocol. */
  readonly host?: string;
  readonly port?: number;
  readonly protocol?: 'http' | 'https';
  /** Timeout of every call (default 10 s): a hung Stripe must not block a worker. */
  readonly timeoutMs?: number;
  /** Attempts per call including the first (default 4), for transient failures only. */
  readonly maxAttempts?: number;
  readonly backoffBaseMs?: number;
  readonly backoffCapMs?: number;
  /**
   * Connections kept open to Stripe (default 64). Calls beyond it queue for a free connection
   * instead of opening (and then closing) one each: many payments in flight must not churn sockets.
   */
  readonly maxConnections?: number;
  /** Client-side rate limit; default 25/s for test keys, 100/s for live keys; 0 = off. */
  readonly ratePerSecond?: number;
  readonly breaker?: CircuitBreaker;
  /** Observability hooks (metrics). */
  readonly observe?: GatewayObserver;
}

/** What the gateway reports for metrics. */
export interface GatewayObserver {
  call?(operation: string, durationMs: number, outcome: 'ok' | GatewayFailure['kind']): void;
  retry?(operation: string, failure: GatewayFailure): void;
  limiterWait?(ms: number): void;
}

/** The result of a Stripe call: the object, or what the failure means. */
export type GatewayResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly failure: GatewayFailure };

/** A PaymentIntent as the executor needs it. */
export interface IntentView {
  readonly id: string;
  readonly status: string;
  readonly amount: number;
  readonly amountCapturable: number;
  readonly amountReceived: number;
  readonly latestCharge: string | null;
  readonly nextAction: { readonly type: string; readonly redirectUrl: string | null } | null;
  readonly lastError: {
    readonly code: string;
    readonly declineCode: string | null;
    readonly message: string;
  } | null;
  readonly metadata: Readonly<Record<string, string>>;
}

function intentView(pi: Stripe.PaymentIntent): IntentView {
  const redirect = pi.next_action?.redirect_to_url?.url ?? null;
  return {
    id: pi.id,
    status: pi.status,
    amount: pi.amount,
    amountCapturable: pi.amount_capturable,
    amountReceived: pi.amount_received,
    latestCharge: typeof pi.latest_charge === 'string' ? pi.latest_charge : (pi.latest_charge?.id ?? null),
    nextAction: pi.next_action === null ? null : { type: pi.next_action.type, redirectUrl: redirect },
    lastError:
      pi.last_payment_error === null
        ? null
        : {
            code: pi.last_payment_error.code ?? 'unknown',
            declineCode: pi.last_payment_error.decline_code ?? null,
            message: pi.last_payment_error.message ?? '',
          },
    metadata: pi.metadata,
  };
}

/** Raw facts of anything a Stripe call threw. */
function rawFailure(error: unknown): RawStripeFailure {
  if (error instanceof Stripe.errors.StripeError) {
    const connection = error instanceof Stripe.errors.StripeConnectionError;
    const header = error.headers?.['stripe-should-retry'];
    return {
      type: connection ? null : (error.rawType ?? error.type ?? null),
      code: connection ? 'connection_error' : (error.code ?? null),
      // The SDK gives '' for an absent decline code.
      declineCode: error.decline_code !== undefined && error.decline_code !== '' ? error.decline_code : null,
      status: connection ? null : (error.statusCode ?? null),
      message: error.message,
      shouldRetry: header === undefined ? null : header === 'true',
    };
  }
  return {
    type: null,
    code: 'connection_error',
    declineCode: null,
    status: null,
    message: String(error),
    shouldRetry: null,
  };
}

/**
 * Starts an SDK call with V8's stack capture off while the SDK sets the request up. The SDK
 * records its caller's stack on every request (`new Error().stack` in `StripeResource`, only to
 * append it to the stack of an error it may raise later): ~30 us of CPU per call here, about a
 * sixth of the SDK's cost per call. Nothing of ours reads that stack (failures are classified by
 * type, code and status). The limit is restored before the call's first await returns.
 */
function withoutCallSiteStack<T>(start: () => Promise<T>): Promise<T> {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return start();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * The only place that talks to Stripe. The SDK's own retries are off (it adds a random key per
 * POST that a restart forgets); every call carries OUR deterministic Idempotency-Key, and the retry
 * policy is ours: transient failures only, exponential backoff with full jitter, Stripe-Should-Retry
 * honoured, a maximum of attempts, a circuit breaker and a client-side rate limiter.
 */
export class StripeGateway {
  readonly #stripe: Stripe;
  readonly #options: GatewayOptions;
  readonly breaker: CircuitBreaker;
  readonly #limiter: TokenBucket | null;

  constructor(options: GatewayOptions) {
    this.#options = options;
    const sockets = options.maxConnections ?? 64;
    const agentOptions = { keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets };
    this.#stripe = new Stripe(options.secretKey, {
      maxNetworkRetries: 0,
      httpAgent: options.protocol === 'http' ? new HttpAgent(agentOptions) : new HttpsAgent(agentOptions),
      timeout: options.timeoutMs ?? 10_000,
      ...(options.host !== undefined ? { host: options.host } : {}),
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.protocol !== undefined ? { protocol: options.protocol } : {}),
      appInfo: { name: 'payment-ledger' },
      // Its request telemetry (latency of the previous call in a header) costs CPU on every call and, on a
      // busy executor, overflows its buffer ("Request metrics buffer is full"); we have our own.
      telemetry: false,
    });
    this.breaker = options.breaker ?? new CircuitBreaker();
    const rate = options.ratePerSecond ?? (options.secretKey.includes('_live_') ? 100 : 25);
    this.#limiter = rate > 0 ? new TokenBucket(rate) : null;
  }

  /** The SDK's webhook helper (signature verification lives with the webhook path). */
  get webhooks(): Stripe['webhooks'] {
    return this.#stripe.webhooks;
  }

  async createCustomer(
    p: { ledgerCustomerId: string; email: string; name: string | null },
    key: string,
  ): Promise<GatewayResult<{ id: string }>> {
    return await this.#call('customers.create', async (s) => {
      const c = await s.customers.create(
        {
          email: p.email,
          ...(p.name !== null ? { name: p.name } : {}),
          metadata: { ledger_customer_id: p.ledgerCustomerId },
        },
        { idempotencyKey: key },
      );
      return { id: c.id };
    });
  }

  async attachPaymentMethod(
    paymentMethod: string,
    stripeCustomer: string,
    setAsDefault: boolean,
    key: string,
  ): Promise<GatewayResult<{ id: string }>> {
    return await this.#call('payment_methods.attach', async (s) => {
      const pm = await s.paymentMethods.attach(
        paymentMethod,
        { customer: stripeCustomer },
        { idempotencyKey: key },
      );
      if (setAsDefault) {
        await s.customers.update(
          stripeCustomer,
          { invoice_settings: { default_payment_method: pm.id } },
          { idempotencyKey: `${key}:default` },
        );
      }
      return { id: pm.id };
    });
  }

  /** Step one of a charge: an UNCONFIRMED PaymentIntent (a duplicate create moves no money). */
  async createPaymentIntent(
    p: {
      paymentId: string;
      amount: number;
      currency: string;
      customer: string | null;
      paymentMethod: string;
      captureMethod: 'automatic' | 'manual';
      description: string | null;
    },
    key: string,
  ): Promise<GatewayResult<IntentView>> {
    return await this.#call('payment_intents.create', async (s) =>
      intentView(
        await s.paymentIntents.create(
          {
            amount: p.amount,
            currency: p.currency.toLowerCase(),
            ...(p.customer !== null ? { customer: p.customer } : {}),
            payment_method: p.paymentMethod,
            capture_method: p.captureMethod,
            ...(p.description !== null ? { description: p.description } : {}),
            metadata: { ledger_payment_id: p.paymentId },
          },
          { idempotencyKey: key },
        ),
      ),
    );
  }

  /** Step two: confirm THAT intent (Stripe refuses to confirm a succeeded intent twice). */
  async confirmPaymentIntent(
    intentId: string,
    offSession: boolean,
    key: string,
  ): Promise<GatewayResult<IntentView>> {
    return await this.#call('payment_intents.confirm', async (s) =>
      intentView(
        await s.paymentIntents.confirm(intentId, offSession ? { off_session: true } : {}, {
          idempotencyKey: key,
        }),
      ),
    );
  }

  async capturePaymentIntent(
    intentId: string,
    amount: number,
    key: string,
  ): Promise<GatewayResult<IntentView>> {
    return await this.#call('payment_intents.capture', async (s) =>
      intentView(
        await s.paymentIntents.capture(intentId, { amount_to_capture: amount }, { idempotencyKey: key }),
      ),
    );
  }

  async cancelPaymentIntent(intentId: string, key: string): Promise<GatewayResult<IntentView>> {
    return await this.#call('payment_intents.cancel', async (s) =>
      intentView(await s.paymentIntents.cancel(intentId, {}, { idempotencyKey: key })),
    );
  }

  async createRefund(
    p: { intentId: string; amount: number; refundId: string },
    key: string,
  ): Promise<GatewayResult<{ id: string; status: string; amount: number }>> {
    return await this.#call('refunds.create', async (s) => {
      const r = await s.refunds.create(
        { payment_intent: p.intentId, amount: p.amount, metadata: { ledger_refund_id: p.refundId } },
        { idempotencyKey: key },
      );
      return { id: r.id, status: r.status ?? 'pending', amount: r.amount };
    });
  }

  async retrievePaymentIntent(intentId: string): Promise<GatewayResult<IntentView>> {
    return await this.#call('payment_intents.retrieve', async (s) =>
      intentView(await s.paymentIntents.retrieve(intentId)),
    );
  }

  /** The intents Stripe holds for a ledger payment (by metadata), for reconciliation. */
  async findIntents(paymentId: string): Promise<GatewayResult<IntentView[]>> {
    return await this.#call('payment_intents.search', async (s) =>
      (
        await s.paymentIntents.search({
          query: `metadata['ledger_payment_id']:'${paymentId.replaceAll("'", '')}'`,
        })
      ).data.map(intentView),
    );
  }

  async #call<T>(operation: string, fn: (stripe: Stripe) => Promise<T>): Promise<GatewayResult<T>> {
    const maxAttempts = this.#options.maxAttempts ?? 4;
    const observe = this.#options.observe;
    let last: GatewayFailure | null = null;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (!this.breaker.allow()) {
        if (last !== null) break; // earlier attempts may have executed: decided below
        const failure = classify({
          type: null,
          code: CIRCUIT_OPEN,
          declineCode: null,
          status: 503,
          message: 'circuit breaker open: Stripe calls paused, nothing was sent',
          shouldRetry: null,
        });
        return { ok: false, failure };
      }
      const grant = this.#limiter === null ? null : await this.#limiter.acquire();
      if (grant !== null) observe?.limiterWait?.(grant.waitedMs);
      const started = performance.now();
      try {
        let value: T;
        try {
          value = await withoutCallSiteStack(() => fn(this.#stripe));
        } finally {
          // Answered, failed or timed out: the call holds its slot a window longer (TokenBucket).
          grant?.release();
        }
        this.breaker.success();
        observe?.call?.(operation, performance.now() - started, 'ok');
        return { ok: true, value };
      } catch (error) {
        const failure = classify(rawFailure(error));
        observe?.call?.(operation, performance.now() - started, failure.kind);
        if (failure.kind !== 'retryable') {
          if (failure.kind === 'auth') this.breaker.failure(true);
          else this.breaker.success(); // Stripe answered: it is up
          return { ok: false, failure };
        }
        // 429 and 409 are flow control (Stripe is up, we are early or fast): they do not trip the breaker.
        if (notActedOn(failure)) this.breaker.success();
        else this.breaker.failure();
        last = failure;
        if (failure.shouldRetry === false || attempt === maxAttempts) break;
        observe?.retry?.(operation, failure);
        await new Promise((r) =>
          setTimeout(
            r,
            backoffDelay(
              attempt - 1,
              this.#options.backoffBaseMs ?? 1000,
              this.#options.backoffCapMs ?? 8000,
            ),
          ),
        );
      }
    }
    // Transient failures outlived the retries: a 429/409 never executed; anything else may have.
    const neverExecuted = last !== null && notActedOn(last);
    return {
      ok: false,
      failure: { ...(last as GatewayFailure), kind: neverExecuted ? 'retryable' : 'unknown_outcome' },
    };
  }
}
