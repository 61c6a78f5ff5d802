// Brings a benchmark's fresh PostgreSQL cluster to the WAL state of a server that has been running.
//
// A cluster made by initdb has one WAL segment. Every further 16 MB of WAL creates a file and, with
// `wal_init_zero` on (the default), writes 16 MB of zeros and fsyncs it while the WAL writer lock
// is held: every commit of the server waits behind it. At the ingest bench's rates that is a new
// segment every 1-2 s, and the commit stalls it makes were the largest part of the latency tail, of
// pgbench's own transaction as much as of the ledger's. A server in service recycles the segments
// of finished checkpoints instead (renamed, already allocated and zeroed). This creates the segments
// once before measuring, and keeps them for recycling, as such a server has them.
import pg from 'pg';

export interface WalWarmup {
  segments: number;
  seconds: number;
}

/**
 * Creates `segments` WAL segments (pg_switch_wal after a one-row write each), sets min_wal_size so
 * checkpoints keep them for reuse, and checkpoints. Only for a cluster the bench owns: it runs
 * ALTER SYSTEM.
 */
export async function warmUpWal(adminUrl: string, segments: number): Promise<WalWarmup> {
  const started = performance.now();
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const size = Number(
      (await c.query("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'")).rows[0].setting,
    );
    const maxWal = Number(
      (await c.query("SELECT setting FROM pg_settings WHERE name = 'max_wal_size'")).rows[0].setting,
    );
    // min_wal_size and max_wal_size are in MB; keep the warmed segments within both.
    const mb = Math.min(maxWal, Math.ceil((segments * size) / (1024 * 1024)));
    await c.query(`ALTER SYSTEM SET min_wal_size = '${mb}MB'`);
    await c.query('SELECT pg_reload_conf()');
    await c.query('CREATE TABLE IF NOT EXISTS bench_wal_warmup (n int)');
    for (let i = 0; i < segments; i++) {
      // A switch needs WAL written since the last one.
      await c.query('INSERT INTO bench_wal_warmup VALUES ($1)', [i]);
      await c.query('SELECT pg_switch_wal()');
    }
    await c.query('DROP TABLE bench_wal_warmup');
    await c.query('CHECKPOINT');
    const files = Number((await c.query('SELECT count(*) AS n FROM pg_ls_waldir()')).rows[0].n);
    return { segments: files, seconds: (performance.now() - started) / 1000 };
  } finally {
    await c.end();
  }
}
