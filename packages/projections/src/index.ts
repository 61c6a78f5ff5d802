export { foldPayment, foldCustomer } from './foldStreams.ts';
export { paymentSummaryRows } from './paymentSummaries.ts';
