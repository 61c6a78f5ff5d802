import { sql, type Kysely } from 'kysely';

// Frozen in time: once landed, never edited. Uses Kysely<any> and imports no application code.
// Runs on PostgreSQL 15+ and on PGlite (PostgreSQL 18 in WebAssembly).

/** The role the application connects as (via a LOGIN role that is a member of it). */
const APP_ROLE = 'ledger_app';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE events (
      position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      event_id        uuid        NOT NULL UNIQUE,
      stream_id       text        NOT NULL,
      stream_type     text        NOT NULL,
      stream_version  integer     NOT NULL CHECK (stream_version > 0),
      type            text        NOT NULL,
      schema_version  integer     NOT NULL,
      data            jsonb       NOT NULL,
      metadata        jsonb       NOT NULL,
      recorded_at     timestamptz NOT NULL,
      transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
      prev_hash       text        NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
      hash            text        NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
      UNIQUE (stream_id, stream_version)
    )`.execute(db);
  await sql`CREATE INDEX events_visibility ON events (transaction_id, position)`.execute(db);
  await sql`CREATE INDEX events_type_recorded ON events (type, recorded_at)`.execute(db);

  await sql`
    CREATE TABLE streams (
      stream_id   text PRIMARY KEY,
      stream_type text        NOT NULL,
      version     integer     NOT NULL,
      last_hash   text        NOT NULL,
      updated_at  timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE outbox (
      id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
      event_id        uuid        NOT NULL,
      message_key     text        NOT NULL,
      topic           text        NOT NULL,
      type            text        NOT NULL,
      schema_version  integer     NOT NULL,
      payload         jsonb       NOT NULL,
      headers         jsonb       NOT NULL,
      created_at      timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX outbox_visibility ON outbox (transaction_id, id)`.execute(db);

  await sql`
    CREATE TABLE idempotency_keys (
      caller       text        NOT NULL,
      key          text        NOT NULL,
      fingerprint  text        NOT NULL,
      status_code  integer,
      response     jsonb,
      created_at   timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (caller, key)
    )`.execute(db);

  // History is append-only for every role, owners and superusers included: row triggers refuse
  // UPDATE and DELETE, and TRUNCATE (which skips row triggers) needs its own statement trigger.
  await sql`
    CREATE FUNCTION refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'ledger history is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
    END
    $$`.execute(db);
  await sql`
    CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
      FOR EACH ROW EXECUTE FUNCTION refuse_history_change()`.execute(db);
  await sql`
    CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
      FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change()`.execute(db);

  // The application's role: roles are cluster-wide, so create it once (other databases on the
  // same server may race to create it too), then grant per database.
  await sql`
    DO $$
    BEGIN
      CREATE ROLE ledger_app NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;
    END
    $$`.execute(db);
  await sql.raw(`GRANT USAGE ON SCHEMA public TO ${APP_ROLE}`).execute(db);
  await sql.raw(`REVOKE ALL ON events FROM ${APP_ROLE}`).execute(db);
  await sql.raw(`GRANT SELECT, INSERT ON events TO ${APP_ROLE}`).execute(db);
  await sql.raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON streams TO ${APP_ROLE}`).execute(db);
  await sql
    .raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON outbox, idempotency_keys TO ${APP_ROLE}`)
    .execute(db);
  await sql.raw(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${APP_ROLE}`).execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the ledger schema is never rolled back: history is append-only');
}
