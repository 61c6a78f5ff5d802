/**
 * What a failed Stripe call means for the ledger (STRIPE.md, "Errors"), one table in code:
 * - `declined`: an expected business outcome (the card said no): record PaymentFailed; never retry.
 * - `needs_customer`: the customer must act (3-D Secure, authentication_required off session).
 * - `retryable`: transient (connection, timeout, 409 key in use, 429, 5xx): retry with the same key.
 * - `unknown_outcome`: a transient failure that outlived the retries, after which the charge may
 *   or may not have happened: record outcome_unknown and let reconciliation decide; never a new PI.
 * - `rejected`: Stripe refused the request before doing anything (invalid_request_error): record it.
 * - `check_state`: Stripe says the object is not in the state we thought (retrieve it).
 * - `our_bug`: same key with other parameters (idempotency_error): alert; nothing was charged.
 * - `auth`: bad or unauthorised API key: open the breaker, alert.
 */
export const failureKinds = [
  'declined',
  'needs_customer',
  'retryable',
  'unknown_outcome',
  'rejected',
  'check_state',
  'our_bug',
  'auth',
] as const;
export type FailureKind = (typeof failureKinds)[number];

/** A Stripe failure as the ledger sees it. */
/** `GatewayFailure.code` of a call the circuit breaker refused: nothing was sent to Stripe. */
export const CIRCUIT_OPEN = 'circuit_open';

/**
 * True when Stripe did not act on the call: the circuit breaker refused it (nothing was sent),
 * Stripe rate-limited it (429, before executing anything), or another request with the same key
 * was still running (409 `idempotency_key_in_use`). Such a call may go again later with the same
 * key, and its failure says nothing about the request itself.
 */
export function notActedOn(failure: Pick<GatewayFailure, 'code' | 'status'>): boolean {
  return failure.code === CIRCUIT_OPEN || failure.status === 429 || failure.code === 'idempotency_key_in_use';
}

export interface GatewayFailure {
  readonly kind: FailureKind;
  /** Stripe's `code` (card_declined, rate_limit, ...) or `connection_error` / `timeout`. */
  readonly code: string;
  readonly declineCode: string | null;
  readonly message: string;
  /** HTTP status, null when no response arrived. */
  readonly status: number | null;
  /** `Stripe-Should-Retry` when Stripe sent it. */
  readonly shouldRetry: boolean | null;
  /** processing_error: Stripe suggests one more try, with a NEW attempt (new key). */
  readonly retryWithNewAttempt: boolean;
}

/** The rows of the table: first match wins. `status` 0 = no response. */
const rules: readonly {
  readonly type?: string;
  readonly code?: string;
  readonly status?: (s: number) => boolean;
  readonly kind: FailureKind;
}[] = [
  { code: 'authentication_required', kind: 'needs_customer' },
  { code: 'payment_intent_authentication_failure', kind: 'declined' },
  { type: 'card_error', kind: 'declined' },
  { code: 'idempotency_key_in_use', kind: 'retryable' },
  { type: 'idempotency_error', kind: 'our_bug' },
  { status: (s) => s === 429, kind: 'retryable' },
  { code: 'payment_intent_unexpected_state', kind: 'check_state' },
  { status: (s) => s === 401 || s === 403, kind: 'auth' },
  { type: 'authentication_error', kind: 'auth' },
  { status: (s) => s === 0 || s >= 500, kind: 'retryable' },
  { type: 'api_error', kind: 'retryable' },
  { type: 'invalid_request_error', kind: 'rejected' },
  { status: (s) => s >= 400 && s < 500, kind: 'rejected' },
];

/** The raw facts of a failed call, from an SDK error or a connection problem. */
export interface RawStripeFailure {
  readonly type: string | null;
  readonly code: string | null;
  readonly declineCode: string | null;
  readonly status: number | null;
  readonly message: string;
  readonly shouldRetry: boolean | null;
}

/** Classifies a failure by the table above. */
export function classify(raw: RawStripeFailure): GatewayFailure {
  const status = raw.status ?? 0;
  const rule = rules.find(
    (r) =>
      (r.type === undefined || r.type === raw.type) &&
      (r.code === undefined || r.code === raw.code) &&
      (r.status === undefined || r.status(status)),
  );
  return {
    kind: rule?.kind ?? 'rejected',
    code: raw.code ?? (raw.status === null ? 'connection_error' : (raw.type ?? 'unknown')),
    declineCode: raw.declineCode,
    message: raw.message,
    status: raw.status,
    shouldRetry: raw.shouldRetry,
    retryWithNewAttempt: raw.code === 'processing_error',
  };
}
