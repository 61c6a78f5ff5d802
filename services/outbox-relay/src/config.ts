import { z } from 'zod';

/**
 * The relay's environment, parsed once at start; a missing or bad variable stops it with a
 * message naming it. Nothing else in the service reads `process.env`.
 */
const Environment = z.object({
  DATABASE_URL: z.string().url(),
  KAFKA_BROKERS: z.string().min(1),
  /** Outbox partition this relay serves; one active relay per partition (advisory-lock lease). */
  RELAY_PARTITION: z
    .string()
    .regex(/^[a-z0-9_-]{1,64}$/)
    .default('outbox'),
  RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  /** How long to wait for more rows before publishing a short batch (0 = publish at once). */
  RELAY_LINGER_MS: z.coerce.number().int().min(0).max(10_000).default(0),
  /** Fallback poll when no NOTIFY arrives (NOTIFY is only a hint). */
  RELAY_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  /** How often published rows are removed from the outbox. */
  RELAY_RETENTION_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  /** Partitions of topics the relay creates when missing. */
  TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(12),
  LEDGER_EVENTS_TOPIC: z.string().default('ledger.events.v1'),
  METRICS_HOST: z.string().default('127.0.0.1'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9464),
});

/** Variables a deployment must set. */
export const requiredEnvironment = ['DATABASE_URL', 'KAFKA_BROKERS'] as const;

export interface RelayConfig {
  readonly databaseUrl: string;
  readonly kafkaBrokers: readonly string[];
  readonly partition: string;
  readonly batchSize: number;
  readonly lingerMs: number;
  readonly pollIntervalMs: number;
  readonly retentionIntervalMs: number;
  readonly topicPartitions: number;
  readonly eventsTopic: string;
  readonly metricsHost: string;
  readonly metricsPort: number;
}

/** Parses the environment into a frozen config; throws naming every bad variable. */
export function loadRelayConfig(env: Record<string, string | undefined>): RelayConfig {
  const parsed = Environment.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid outbox-relay configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return Object.freeze({
    databaseUrl: e.DATABASE_URL,
    kafkaBrokers: e.KAFKA_BROKERS.split(',').map((b) => b.trim()),
    partition: e.RELAY_PARTITION,
    batchSize: e.RELAY_BATCH_SIZE,
    lingerMs: e.RELAY_LINGER_MS,
    pollIntervalMs: e.RELAY_POLL_INTERVAL_MS,
    retentionIntervalMs: e.RELAY_RETENTION_INTERVAL_MS,
    topicPartitions: e.TOPIC_PARTITIONS,
    eventsTopic: e.LEDGER_EVENTS_TOPIC,
    metricsHost: e.METRICS_HOST,
    metricsPort: e.METRICS_PORT,
  });
}
