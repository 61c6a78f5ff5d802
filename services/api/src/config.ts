import { z } from 'zod';
import { parseCredentials, type Credential } from './auth/credentials.ts';

/**
 * The API's environment. Parsed once at start; a missing or bad variable stops the start with a
 * message naming it. Nothing else in the service reads `process.env`.
 */
const Environment = z.object({
  /** PostgreSQL URL; unset = embedded PGlite under LEDGER_DATA_DIR. */
  DATABASE_URL: z.string().url().optional(),
  /**
   * The schema owner's PostgreSQL URL, used only to run migrations at start; unset = DATABASE_URL.
   * Set it when DATABASE_URL's role is a member of ledger_app (as it should be in production).
   */
  MIGRATION_DATABASE_URL: z.string().url().optional(),
  /** Embedded mode's data folder (PGlite). */
  LEDGER_DATA_DIR: z.string().default('.data/pglite'),
  /** Service credentials (JSON array, secrets as sha256 hashes); see README. Required with DATABASE_URL. */
  API_CREDENTIALS: z.string().optional(),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** Kafka topic every ledger event is announced on (outbox rows carry it). */
  LEDGER_EVENTS_TOPIC: z.string().default('ledger.events.v1'),
  /** Group commit: most commands per transaction, and transactions in flight. */
  COMMIT_MAX_BATCH: z.coerce.number().int().min(1).max(1000).default(100),
  COMMIT_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(64).default(2),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** Processes serving the port (node:cluster), each with its own pool and group commit; PostgreSQL only. */
  API_PROCESSES: z.coerce.number().int().min(1).max(32).default(1),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** Variables a deployment must set (docker-compose and the README list them). */
export const requiredEnvironment = ['DATABASE_URL', 'API_CREDENTIALS'] as const;

/** Every variable the API reads, for docs and deployment checks. */
export const environmentVariables = Object.keys(Environment.shape);

/**
 * Well-known credentials of the embedded mode only (no DATABASE_URL): a local playground, like
 * Stripe's test keys. A real deployment must configure API_CREDENTIALS.
 */
export const EMBEDDED_CREDENTIALS = [
  { id: 'dev-writer', secret: 'dev-writer-secret', scopes: ['payments:write'] },
  { id: 'dev-finance', secret: 'dev-finance-secret', scopes: ['ledger:read'] },
  { id: 'dev-auditor', secret: 'dev-auditor-secret', scopes: ['audit:read'] },
] as const;

export interface ApiConfig {
  readonly database:
    | { kind: 'postgres'; url: string; migrationUrl: string; poolSize: number }
    | { kind: 'pglite'; dataDir: string };
  readonly credentials: readonly Credential[];
  readonly host: string;
  readonly port: number;
  readonly eventsTopic: string;
  readonly commit: { readonly maxBatch: number; readonly maxInFlight: number };
  /** API processes on the port (1 in embedded mode). */
  readonly processes: number;
  readonly logLevel: string;
  readonly embedded: boolean;
}

/** Parses the environment into a frozen config; throws an Error naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): ApiConfig {
  const parsed = Environment.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid API configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const embedded = e.DATABASE_URL === undefined;
  let credentials: Credential[];
  if (e.API_CREDENTIALS !== undefined) {
    credentials = parseCredentials(e.API_CREDENTIALS);
  } else if (embedded) {
    credentials = parseCredentials(
      JSON.stringify(EMBEDDED_CREDENTIALS.map((c) => ({ id: c.id, secret: c.secret, scopes: c.scopes }))),
    );
  } else {
    throw new Error(
      'invalid API configuration:\n  API_CREDENTIALS: required when DATABASE_URL is set (see README)',
    );
  }
  return Object.freeze({
    database: embedded
      ? { kind: 'pglite' as const, dataDir: e.LEDGER_DATA_DIR }
      : {
          kind: 'postgres' as const,
          url: e.DATABASE_URL as string,
          migrationUrl: e.MIGRATION_DATABASE_URL ?? (e.DATABASE_URL as string),
          poolSize: e.DATABASE_POOL_SIZE,
        },
    credentials,
    host: e.HOST,
    port: e.PORT,
    eventsTopic: e.LEDGER_EVENTS_TOPIC,
    commit: { maxBatch: e.COMMIT_MAX_BATCH, maxInFlight: e.COMMIT_MAX_IN_FLIGHT },
    // PGlite lives inside one process: the embedded mode always runs one.
    processes: embedded ? 1 : e.API_PROCESSES,
    logLevel: e.LOG_LEVEL,
    embedded,
  });
}
