import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The executor's Prometheus metrics. */
export function createExecutorMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    stripeLatency: new Histogram({
      name: 'stripe_call_duration_seconds',
      help: 'Stripe call latency by operation and outcome (p50/p95 via histogram_quantile).',
      labelNames: ['operation', 'outcome'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    outcomes: new Counter({
      name: 'stripe_payment_outcomes_total',
      help: 'Payment outcomes by result and decline code.',
      labelNames: ['result', 'decline_code'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'stripe_retries_total',
      help: 'Retried Stripe calls by operation.',
      labelNames: ['operation'] as const,
      registers: [registry],
    }),
    breakerOpen: new Gauge({
      name: 'stripe_breaker_open',
      help: '1 while the circuit breaker refuses calls.',
      registers: [registry],
    }),
    limiterWait: new Histogram({
      name: 'stripe_limiter_wait_seconds',
      help: 'Time spent waiting for the client-side rate limiter.',
      buckets: [0, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    unknownOpen: new Gauge({
      name: 'stripe_unknown_outcomes_open',
      help: 'Payments with an unknown Stripe outcome awaiting reconciliation.',
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'executor_dead_lettered_total',
      help: 'Messages sent to the dead-letter topic.',
      registers: [registry],
    }),
    handled: new Counter({
      name: 'executor_messages_total',
      help: 'Messages handled by result.',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
  };
}

export type ExecutorMetrics = ReturnType<typeof createExecutorMetrics>;
