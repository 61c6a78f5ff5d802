import { sql, type Kysely } from 'kysely';

// Frozen in time. The Stripe executor's inbox: one row per ledger event it has fully handled,
// written in the same transaction as the outcome, so a redelivered message is skipped.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE executor_inbox (
      event_id      uuid PRIMARY KEY,
      event_type    text        NOT NULL,
      stream_id     text        NOT NULL,
      outcome       text        NOT NULL,
      handled_at    timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql.raw(`GRANT SELECT, INSERT ON executor_inbox TO ledger_app`).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are never rolled back');
}
