import type { Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import { openDatabase } from './connect.ts';
import { migrationProvider } from './migrations/index.ts';

/** Brings the schema to the latest migration (idempotent; concurrent callers are serialized). */
export async function migrateToLatest(db: Kysely<any>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${String(error)}`, { cause: error });
  }
}

/**
 * Migrates the PostgreSQL database at `url` over a connection of its own, then closes it. The
 * URL is the schema owner's: the services' own role (a member of `ledger_app`) may not run DDL,
 * and must not, or the history's protection would be theirs to lift.
 */
export async function migrateDatabase(url: string): Promise<void> {
  const db = await openDatabase({ kind: 'postgres', url, poolSize: 1 });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
}
