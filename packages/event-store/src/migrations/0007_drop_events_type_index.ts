import { sql, type Kysely } from 'kysely';

// Frozen in time. `events_type_recorded` (type, recorded_at), made in 0001 for reports that
// never came to read it (finance reads payment_summaries; auditors read by position): every
// appended event paid an index entry and its WAL for nothing. A reader that needs events by type
// and time adds the index it needs with its own migration (CREATE INDEX CONCURRENTLY on a live
// ledger).

export async function up(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX events_type_recorded`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are never rolled back');
}
