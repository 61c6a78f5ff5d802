import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The relay's Prometheus metrics. */
export function createRelayMetrics(instance: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ instance_id: instance });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    lagRows: new Gauge({
      name: 'outbox_lag_rows',
      help: 'Outbox rows not yet published.',
      registers: [registry],
    }),
    lagSeconds: new Gauge({
      name: 'outbox_lag_seconds',
      help: 'Age of the oldest unpublished outbox row (seconds since its commit).',
      registers: [registry],
    }),
    published: new Counter({
      name: 'outbox_published_total',
      help: 'Messages published and acknowledged.',
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'outbox_batch_size',
      help: 'Messages per published batch.',
      buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 5000],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'outbox_relay_errors_total',
      help: 'Failed publish or read attempts, by stage.',
      labelNames: ['stage'] as const,
      registers: [registry],
    }),
    leaseHeld: new Gauge({
      name: 'outbox_relay_lease_held',
      help: '1 when this process holds the partition lease (is the active relay).',
      labelNames: ['partition'] as const,
      registers: [registry],
    }),
    deleted: new Counter({
      name: 'outbox_retention_deleted_total',
      help: 'Published rows removed.',
      registers: [registry],
    }),
  };
}

export type RelayMetrics = ReturnType<typeof createRelayMetrics>;
