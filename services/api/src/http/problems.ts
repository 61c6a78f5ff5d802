/**
 * Every error code the API answers with, and its HTTP status. `Record<ApiErrorCode, number>`
 * makes the compiler find a code without a status. Rendered as RFC 9457 problem+json.
 */
export const apiErrorStatus = {
  // Bad input: nothing stored.
  invalid_request: 400,
  invalid_json: 400,
  invalid_amount: 400,
  unknown_currency: 400,
  card_data_refused: 400,
  idempotency_key_missing: 400,
  idempotency_key_invalid: 400,
  unsupported_media_type: 415,
  body_too_large: 413,
  // Who you are and what you may do.
  unauthenticated: 401,
  forbidden: 403,
  // State.
  not_found: 404,
  payment_not_found: 404,
  customer_not_found: 404,
  method_not_allowed: 405,
  payment_already_exists: 409,
  customer_already_exists: 409,
  invalid_transition: 409,
  stream_version_conflict: 409,
  idempotency_key_reused: 422,
  capture_exceeds_authorized: 422,
  refund_exceeds_captured: 422,
  payment_method_not_saved: 422,
  currency_mismatch: 422,
  // Ours.
  internal_error: 500,
  not_ready: 503,
} as const satisfies Record<string, number>;

export type ApiErrorCode = keyof typeof apiErrorStatus;

/** An error the API renders as problem+json with a stable code. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly errors: readonly { path: string; message: string }[] | undefined;

  constructor(code: ApiErrorCode, detail: string, errors?: readonly { path: string; message: string }[]) {
    super(detail);
    this.name = 'ApiError';
    this.code = code;
    this.errors = errors;
  }

  get status(): number {
    return apiErrorStatus[this.code];
  }
}

const titles: Record<ApiErrorCode, string> = {
  invalid_request: 'The request is not valid',
  invalid_json: 'The body is not valid JSON',
  invalid_amount: 'The amount is not valid for its currency',
  unknown_currency: 'The currency is not supported',
  card_data_refused: 'Card data is not accepted',
  idempotency_key_missing: 'Idempotency-Key header is required',
  idempotency_key_invalid: 'Idempotency-Key header is not valid',
  unsupported_media_type: 'Content-Type must be application/json',
  body_too_large: 'The body is too large',
  unauthenticated: 'Authentication required',
  forbidden: 'Not allowed for this credential',
  not_found: 'Not found',
  payment_not_found: 'Payment not found',
  customer_not_found: 'Customer not found',
  method_not_allowed: 'Method not allowed',
  payment_already_exists: 'Payment already exists',
  customer_already_exists: 'Customer already exists',
  invalid_transition: 'The payment cannot do that in its current state',
  stream_version_conflict: 'The payment changed meanwhile',
  idempotency_key_reused: 'Idempotency-Key reused with a different request',
  capture_exceeds_authorized: 'Capture exceeds the authorised amount',
  refund_exceeds_captured: 'Refund exceeds what is left to refund',
  payment_method_not_saved: 'Payment method not saved for this customer',
  currency_mismatch: 'Currencies do not match',
  internal_error: 'Internal error',
  not_ready: 'Not ready',
};

/** The RFC 9457 body of an ApiError. */
export function problemOf(error: ApiError, instance?: string) {
  return {
    type: `https://docs.payledger.dev/problems/${error.code}`,
    title: titles[error.code],
    status: error.status,
    detail: error.message,
    code: error.code,
    ...(instance !== undefined ? { instance } : {}),
    ...(error.errors !== undefined ? { errors: error.errors } : {}),
  };
}
