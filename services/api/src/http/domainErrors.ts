import { EventStoreError, type EventStoreErrorCode } from '@payledger/event-store';
import { LedgerError, type LedgerErrorCode } from '@payledger/ledger';
import { ApiError, type ApiErrorCode } from './problems.ts';

/** Every domain error code's API code (the compiler finds a missing one). */
const fromLedger: Record<LedgerErrorCode, ApiErrorCode> = {
  invalid_amount: 'invalid_amount',
  unknown_currency: 'unknown_currency',
  currency_mismatch: 'currency_mismatch',
  invalid_command: 'invalid_request',
  payment_not_found: 'payment_not_found',
  payment_already_exists: 'payment_already_exists',
  invalid_transition: 'invalid_transition',
  capture_exceeds_authorized: 'capture_exceeds_authorized',
  refund_exceeds_captured: 'refund_exceeds_captured',
  customer_not_found: 'customer_not_found',
  customer_already_exists: 'customer_already_exists',
  payment_method_not_saved: 'payment_method_not_saved',
  unbalanced_postings: 'internal_error',
};

const fromStore: Record<EventStoreErrorCode, ApiErrorCode> = {
  stream_version_conflict: 'stream_version_conflict',
  // The routes answer with their own not-found first; this is the fallback.
  stream_type_mismatch: 'not_found',
  idempotency_key_reused: 'idempotency_key_reused',
  hash_mismatch: 'internal_error',
};

/** Maps a domain or store error to an ApiError; anything else is returned unchanged. */
export function toApiError(error: unknown): unknown {
  if (error instanceof LedgerError) return new ApiError(fromLedger[error.code], error.message);
  if (error instanceof EventStoreError) return new ApiError(fromStore[error.code], error.message);
  return error;
}
