import { sql, type Kysely } from 'kysely';

// Frozen in time. The read model behind GET /v1/payments: one row per payment, updated in the
// same transaction as the events it derives from, rebuildable from `events` at any time.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE payment_summaries (
      payment_id        text PRIMARY KEY,
      customer_id       text        NOT NULL,
      created_by        text        NOT NULL,
      status            text        NOT NULL,
      currency          text        NOT NULL,
      amount            bigint      NOT NULL,
      amount_captured   bigint      NOT NULL,
      amount_refunded   bigint      NOT NULL,
      outcome_unknown   boolean     NOT NULL,
      version           integer     NOT NULL,
      last_position     bigint      NOT NULL,
      created_at        timestamptz NOT NULL,
      updated_at        timestamptz NOT NULL
    )`.execute(db);
  // Newest first with a (created_at, payment_id) cursor.
  await sql`CREATE INDEX payment_summaries_created ON payment_summaries (created_at DESC, payment_id DESC)`.execute(
    db,
  );
  await sql`CREATE INDEX payment_summaries_customer ON payment_summaries (customer_id, created_at DESC)`.execute(
    db,
  );
  await sql`CREATE INDEX payment_summaries_status ON payment_summaries (status, created_at DESC)`.execute(db);
  await sql.raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON payment_summaries TO ledger_app`).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are never rolled back');
}
