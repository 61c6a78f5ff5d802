import { mkdirSync } from 'node:fs';
import type { Kysely } from 'kysely';
import { CommandBatcher, migrateToLatest, openDatabase, type Database } from '@payledger/event-store';
import { projectPaymentSummaries } from '@payledger/projections';
import { buildApp } from './app.ts';
import { loadConfig, type ApiConfig } from './config.ts';
import { createMetrics } from './http/metrics.ts';

/** A running API and how to stop it (used by the embedded start too). */
export interface RunningApi {
  readonly url: string;
  /** The API's database handle (the embedded start shares it with the in-process relay). */
  readonly db: Kysely<Database>;
  close(): Promise<void>;
}

/** Opens the database, migrates it, and serves the API until `close()`. */
export async function startApi(config: ApiConfig): Promise<RunningApi> {
  if (config.database.kind === 'pglite') mkdirSync(config.database.dataDir, { recursive: true });
  const db = await openDatabase(
    config.database.kind === 'postgres'
      ? { kind: 'postgres', url: config.database.url, poolSize: config.database.poolSize }
      : { kind: 'pglite', dataDir: config.database.dataDir },
  );
  await migrateToLatest(db);
  const batcher = new CommandBatcher(db, {
    topic: config.eventsTopic,
    maxBatch: config.commit.maxBatch,
    maxInFlight: config.commit.maxInFlight,
    onAppended: projectPaymentSummaries,
  });
  const app = buildApp(
    { db, batcher, credentials: config.credentials, metrics: createMetrics() },
    {
      logger: {
        level: config.logLevel,
        // Secrets never reach the log.
        redact: ['req.headers.authorization', 'req.headers["idempotency-key"]'],
      },
    },
  );
  const address = await app.listen({ host: config.host, port: config.port });
  return {
    url: address,
    db,
    async close() {
      await app.close();
      await db.destroy();
    },
  };
}

if (import.meta.main) {
  let config: ApiConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  const api = await startApi(config);
  console.log(
    config.embedded
      ? `ledger API on ${api.url} (embedded: PGlite in ${config.database.kind === 'pglite' ? config.database.dataDir : ''}; dev credentials in README)`
      : `ledger API on ${api.url}`,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void api.close().then(() => process.exit(0));
    });
  }
}
