export { foldPayment, foldCustomer } from './foldStreams.ts';
export { projectPaymentSummaries } from './paymentSummaries.ts';
