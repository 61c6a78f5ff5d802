// The one public entry of @payledger/ledger: the pure payment domain (no I/O, no clock, no randomness).
export * from './errors.ts';
export * from './money/money.ts';
export type * from './journal/postings.ts';
export { applyPostings, assertBalanced, trialBalance } from './journal/balances.ts';
export type { BalanceKey, Balances } from './journal/balances.ts';
export type * from './payments/paymentCommands.ts';
export type * from './payments/paymentEvents.ts';
export {
  decidePayment,
  evolvePayment,
  initialPaymentState,
  pendingRefundTotal,
  refundableAmount,
  statusRank,
} from './payments/paymentDecider.ts';
export type { PaymentState, PaymentStatus, UnknownOutcome } from './payments/paymentDecider.ts';
export type * from './customers/customerModel.ts';
export { decideCustomer, evolveCustomer, initialCustomerState } from './customers/customerDecider.ts';
export {
  SCHEMA_VERSION,
  customerEventTypes,
  fromStoredCustomerEvent,
  fromStoredPaymentEvent,
  paymentEventTypes,
  toStoredData,
} from './serialization/storedEvent.ts';
