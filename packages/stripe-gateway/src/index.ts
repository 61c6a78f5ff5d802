export {
  StripeGateway,
  type GatewayOptions,
  type GatewayObserver,
  type GatewayResult,
  type IntentView,
} from './stripeGateway.ts';
export {
  CIRCUIT_OPEN,
  classify,
  notActedOn,
  failureKinds,
  type FailureKind,
  type GatewayFailure,
  type RawStripeFailure,
} from './errorMap.ts';
export { idempotencyKey } from './idempotencyKeys.ts';
export { backoffDelay, CircuitBreaker, TokenBucket, type BreakerState, type Grant } from './resilience.ts';
