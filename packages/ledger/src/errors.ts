/** Codes of the domain's typed errors: broken rules and bad input (never expected outcomes). */
export const ledgerErrorCodes = [
  'invalid_amount',
  'unknown_currency',
  'currency_mismatch',
  'invalid_command',
  'payment_not_found',
  'payment_already_exists',
  'invalid_transition',
  'capture_exceeds_authorized',
  'refund_exceeds_captured',
  'customer_not_found',
  'customer_already_exists',
  'payment_method_not_saved',
  'unbalanced_postings',
] as const;

export type LedgerErrorCode = (typeof ledgerErrorCodes)[number];

/** The domain's one error class; `code` is stable and mapped to HTTP by the API. */
export class LedgerError extends Error {
  readonly code: LedgerErrorCode;

  constructor(code: LedgerErrorCode, message: string) {
    super(message);
    this.name = 'LedgerError';
    this.code = code;
  }
}
