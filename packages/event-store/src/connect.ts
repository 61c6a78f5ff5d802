import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema/database.ts';

/** Where the ledger's database is: a PostgreSQL server, or an embedded PGlite data folder. */
export type DatabaseTarget =
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize?: number }
  | { readonly kind: 'pglite'; readonly dataDir: string | null };

/** The pg pool behind each handle opened here (group commit talks to it directly). */
const pools = new WeakMap<Kysely<Database>, pg.Pool>();

/** The pg pool of a handle opened by `openDatabase` on PostgreSQL; undefined otherwise. */
export function poolOf(db: Kysely<Database>): pg.Pool | undefined {
  return pools.get(db);
}

/** Opens a kysely handle on the target. Close it with `db.destroy()`. */
export async function openDatabase(target: DatabaseTarget): Promise<Kysely<Database>> {
  if (target.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: target.url,
      max: target.poolSize ?? 10,
      // A connection that cannot be had in time is an error, not a hung request.
      connectionTimeoutMillis: 10_000,
    });
    // An idle client's error (server restart) must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    pools.set(db, pool);
    return db;
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = target.dataDir === null ? new PGlite() : new PGlite(target.dataDir);
  await pglite.waitReady;
  return new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
}
