import cluster from 'node:cluster';
import { mkdirSync } from 'node:fs';
import type { Kysely } from 'kysely';
import {
  CommandBatcher,
  migrateDatabase,
  migrateToLatest,
  openDatabase,
  OutboxHint,
  type Database,
} from '@payledger/event-store';
import { paymentSummaryRows } from '@payledger/projections';
import { buildApp } from './app.ts';
import { loadConfig, type ApiConfig } from './config.ts';
import { clusterMetricsReader, serveClusterMetrics } from './http/clusterMetrics.ts';
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
  // On PostgreSQL the schema owner migrates over a connection of its own; the pool is the
  // service's role (README: a member of ledger_app, which cannot change history).
  if (config.database.kind === 'postgres') await migrateDatabase(config.database.migrationUrl);
  const db = await openDatabase(
    config.database.kind === 'postgres'
      ? { kind: 'postgres', url: config.database.url, poolSize: config.database.poolSize }
      : { kind: 'pglite', dataDir: config.database.dataDir },
  );
  if (config.database.kind === 'pglite') await migrateToLatest(db);
  const metrics = createMetrics();
  // After each commit, the outbox relay hears of the new rows (migration 0010: not from inside
  // the transaction). Best effort: the relay also polls.
  const hint = new OutboxHint(db, {
    onError: (error) => console.error(`outbox hint failed (the relay polls): ${(error as Error).message}`),
  });
  const batcher = new CommandBatcher(db, {
    topic: config.eventsTopic,
    maxBatch: config.commit.maxBatch,
    maxInFlight: config.commit.maxInFlight,
    summarize: paymentSummaryRows,
    onBatch: (commands) => metrics.commitBatch.observe(commands),
    onCommitted: () => hint.poke(),
  });
  const app = buildApp(
    {
      db,
      batcher,
      credentials: config.credentials,
      metrics,
      // One of several processes: /metrics answers for all of them.
      ...(cluster.isWorker ? { metricsText: clusterMetricsReader(metrics.registry) } : {}),
    },
    { log: { level: config.logLevel } },
  );
  const address = await app.listen({ host: config.host, port: config.port });
  return {
    url: address,
    db,
    async close() {
      await app.close();
      await hint.close();
      await db.destroy();
    },
  };
}

/**
 * Runs `config.processes` API processes on one port (node:cluster hands each connection to one of
 * them): migrates once, then forks; a worker that dies is replaced; SIGTERM/SIGINT stop them all.
 */
async function runPrimary(config: ApiConfig & { database: { kind: 'postgres' } }): Promise<void> {
  await migrateDatabase(config.database.migrationUrl);
  serveClusterMetrics();
  let stopping = false;
  const fork = () => cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    console.error(`API process ${worker.process.pid} exited (${signal ?? code}); starting another`);
    fork();
  });
  for (let i = 0; i < config.processes; i++) fork();
  console.log(`ledger API on ${config.host}:${config.port} (${config.processes} processes)`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {});
      let left = workers.length;
      if (left === 0) process.exit(0);
      for (const w of workers) {
        w?.once('exit', () => {
          if (--left === 0) process.exit(0);
        });
        w?.process.kill('SIGTERM');
      }
    });
  }
}

if (import.meta.main) {
  let config: ApiConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  if (cluster.isPrimary && config.processes > 1 && config.database.kind === 'postgres') {
    await runPrimary(config as ApiConfig & { database: { kind: 'postgres' } });
  } else {
    const api = await startApi(config);
    if (cluster.isPrimary) {
      console.log(
        config.embedded
          ? `ledger API on ${api.url} (embedded: PGlite in ${config.database.kind === 'pglite' ? config.database.dataDir : ''}; dev credentials in README)`
          : `ledger API on ${api.url}`,
      );
    }
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        void api.close().then(() => process.exit(0));
      });
    }
  }
}
