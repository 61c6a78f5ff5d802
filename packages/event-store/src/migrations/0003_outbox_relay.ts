import { sql, type Kysely } from 'kysely';

// Frozen in time. The relay's checkpoint (compare-and-set) and a wake-up hint for it.

export async function up(db: Kysely<any>): Promise<void> {
  // One row per outbox partition: everything at or below (last_transaction_id, last_id) in
  // visibility order has been published and acknowledged.
  await sql`
    CREATE TABLE outbox_checkpoints (
      name                 text PRIMARY KEY,
      last_transaction_id  xid8        NOT NULL DEFAULT '0',
      last_id              bigint      NOT NULL DEFAULT 0,
      updated_at           timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  // NOTIFY is only a hint (delivered at commit, lost if nobody listens): the relay also polls.
  await sql`
    CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('ledger_outbox', '');
      RETURN NULL;
    END
    $$`.execute(db);
  await sql`
    CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
      FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox()`.execute(db);
  await sql.raw(`GRANT SELECT, INSERT, UPDATE ON outbox_checkpoints TO ledger_app`).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are never rolled back');
}
