import { z } from 'zod';

/**
 * The executor's environment, parsed once at start; a missing or bad variable stops it naming it.
 * STRIPE_SECRET_KEY is never logged.
 */
const Environment = z.object({
  DATABASE_URL: z.string().url(),
  /** The schema owner's URL, used only to run migrations at start; unset = DATABASE_URL. */
  MIGRATION_DATABASE_URL: z.string().url().optional(),
  KAFKA_BROKERS: z.string().min(1),
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_\S+$/, 'a Stripe secret key (sk_test_..., sk_live_... or rk_...)'),
  /** Point the SDK at the simulator (or a proxy): host, port, protocol. */
  STRIPE_API_HOST: z.string().optional(),
  STRIPE_API_PORT: z.coerce.number().int().min(1).max(65_535).optional(),
  STRIPE_API_PROTOCOL: z.enum(['http', 'https']).optional(),
  STRIPE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  STRIPE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(4),
  /** Client-side rate limit; default by key mode (25/s test, 100/s live); 0 = off. */
  STRIPE_RATE_PER_SECOND: z.coerce.number().min(0).max(10_000).optional(),
  /** The circuit breaker: consecutive transient failures that open it, and how long it stays open. */
  STRIPE_BREAKER_THRESHOLD: z.coerce.number().int().min(1).max(1_000).default(5),
  STRIPE_BREAKER_COOLDOWN_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  LEDGER_EVENTS_TOPIC: z.string().default('ledger.events.v1'),
  EXECUTOR_GROUP_ID: z.string().default('stripe-executor'),
  DEAD_LETTER_TOPIC: z.string().default('ledger.stripe-executor.dlq.v1'),
  /** Deliveries of one message before it is dead-lettered. */
  EXECUTOR_MAX_DELIVERIES: z.coerce.number().int().min(1).max(100).default(5),
  /** Partitions handled at once (per-payment order is kept: a payment lives on one partition). */
  EXECUTOR_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** Messages of one partition handled at once: different payments overlap, one payment stays in order. */
  EXECUTOR_CONCURRENCY_PER_PARTITION: z.coerce.number().int().min(1).max(256).default(128),
  /** Most ledger writes committed together in one transaction (group commit). */
  EXECUTOR_WRITE_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
  /** Group-commit transactions in flight at once. */
  EXECUTOR_WRITES_IN_FLIGHT: z.coerce.number().int().min(1).max(32).default(2),
  /** PostgreSQL connections of the executor (reads, group-committed writes, inbox rows). */
  EXECUTOR_DB_POOL_SIZE: z.coerce.number().int().min(2).max(64).default(6),
  /** A dead executor's partitions move to a live one after this long (broker minimum 6 s). */
  EXECUTOR_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(10_000),
  METRICS_HOST: z.string().default('127.0.0.1'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9465),
});

/** Variables a deployment must set. */
export const requiredEnvironment = ['DATABASE_URL', 'KAFKA_BROKERS', 'STRIPE_SECRET_KEY'] as const;

export type ExecutorConfig = Readonly<{
  databaseUrl: string;
  /** The schema owner's URL for migrations at start (DATABASE_URL unless set apart). */
  migrationDatabaseUrl: string;
  kafkaBrokers: readonly string[];
  stripe: {
    secretKey: string;
    host: string | undefined;
    port: number | undefined;
    protocol: 'http' | 'https' | undefined;
    timeoutMs: number;
    maxAttempts: number;
    ratePerSecond: number | undefined;
    breakerThreshold: number;
    breakerCooldownMs: number;
  };
  eventsTopic: string;
  groupId: string;
  deadLetterTopic: string;
  maxDeliveries: number;
  sessionTimeoutMs: number;
  concurrency: number;
  concurrencyPerPartition: number;
  dbPoolSize: number;
  writeBatch: number;
  writesInFlight: number;
  metricsHost: string;
  metricsPort: number;
}>;

/** Parses the environment into a frozen config; throws naming every bad variable (never its value). */
export function loadExecutorConfig(env: Record<string, string | undefined>): ExecutorConfig {
  const parsed = Environment.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid stripe-executor configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return Object.freeze({
    databaseUrl: e.DATABASE_URL,
    migrationDatabaseUrl: e.MIGRATION_DATABASE_URL ?? e.DATABASE_URL,
    kafkaBrokers: e.KAFKA_BROKERS.split(',').map((b) => b.trim()),
    stripe: {
      secretKey: e.STRIPE_SECRET_KEY,
      host: e.STRIPE_API_HOST,
      port: e.STRIPE_API_PORT,
      protocol: e.STRIPE_API_PROTOCOL,
      timeoutMs: e.STRIPE_TIMEOUT_MS,
      maxAttempts: e.STRIPE_MAX_ATTEMPTS,
      ratePerSecond: e.STRIPE_RATE_PER_SECOND,
      breakerThreshold: e.STRIPE_BREAKER_THRESHOLD,
      breakerCooldownMs: e.STRIPE_BREAKER_COOLDOWN_MS,
    },
    eventsTopic: e.LEDGER_EVENTS_TOPIC,
    groupId: e.EXECUTOR_GROUP_ID,
    deadLetterTopic: e.DEAD_LETTER_TOPIC,
    maxDeliveries: e.EXECUTOR_MAX_DELIVERIES,
    sessionTimeoutMs: e.EXECUTOR_SESSION_TIMEOUT_MS,
    concurrency: e.EXECUTOR_CONCURRENCY,
    concurrencyPerPartition: e.EXECUTOR_CONCURRENCY_PER_PARTITION,
    dbPoolSize: e.EXECUTOR_DB_POOL_SIZE,
    writeBatch: e.EXECUTOR_WRITE_BATCH,
    writesInFlight: e.EXECUTOR_WRITES_IN_FLIGHT,
    metricsHost: e.METRICS_HOST,
    metricsPort: e.METRICS_PORT,
  });
}
