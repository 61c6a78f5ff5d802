export {
  StripeExecutor,
  StripePausedError,
  TransientError,
  KEY_RETENTION_MS,
  type ExecutorDeps,
} from './stripeExecutor.ts';
export { startExecutor, type RunningExecutor } from './main.ts';
export { loadExecutorConfig, requiredEnvironment, type ExecutorConfig } from './config.ts';
export { createExecutorMetrics, type ExecutorMetrics } from './executorMetrics.ts';
