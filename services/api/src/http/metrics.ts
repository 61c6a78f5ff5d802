import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The API's Prometheus metrics (one registry per app, so tests can build several apps). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'ledger_api_requests_total',
      help: 'HTTP requests by method, route and status.',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'ledger_api_request_duration_seconds',
      help: 'HTTP request latency by method and route.',
      labelNames: ['method', 'route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'ledger_api_errors_total',
      help: 'Error responses by stable error code.',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    commitBatch: new Histogram({
      name: 'ledger_commit_batch_commands',
      help: 'Commands per group-commit transaction (larger batches: less CPU per command).',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers: [registry],
    }),
    commands: new Counter({
      name: 'ledger_api_commands_total',
      help: 'Commands by type and result (applied, replayed, rejected).',
      labelNames: ['command', 'result'] as const,
      registers: [registry],
    }),
  };
}

export type ApiMetrics = ReturnType<typeof createMetrics>;
