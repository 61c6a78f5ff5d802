export * from './errors.ts';
export * from './money/money.ts';
export type * from './journal/postings.ts';
export { applyPostings, assertBalanced, trialBalance, type Balances } from './journal/balances.ts';
export type * from './payments/paymentCommands.ts';
export type * from './payments/paymentEvents.ts';
export {
  initialPaymentState,
  pendingRefundTotal,
  statusRank,
  type PaymentState,
  type PaymentStatus,
} from './payments/paymentState.ts';
export { evolvePayment } from './payments/evolvePayment.ts';
export { decidePayment } from './payments/decidePayment.ts';
export type * from './customers/customerModel.ts';
export { initialCustomerState, evolveCustomer, decideCustomer } from './customers/customerDecider.ts';
export {
  SCHEMA_VERSION,
  customerEventTypes,
  fromStoredCustomerEvent,
  fromStoredPaymentEvent,
  paymentEventTypes,
  toStoredData,
} from './serialization/storedEvent.ts';
