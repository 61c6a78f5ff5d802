export {
  StripeSimulator,
  type Fault,
  type SimCharge,
  type SimClock,
  type SimulatorOptions,
  type WebhookOptions,
} from './stripeSimulator.ts';
export { testPaymentMethods, behaviourOf, type CardBehaviour } from './testCards.ts';
export { signatureHeader } from './webhookSignature.ts';
export { parseForm } from './formBody.ts';
