import { sql, type Kysely } from 'kysely';

// Frozen in time. An outbox row stops carrying a second copy of its event. Since 0006 each row
// held the published form (`payload`, ~600 bytes of jsonb built from the event's own columns)
// and its Kafka headers: the largest row a command wrote, written to the heap and the WAL once
// more than the event itself, and parsed out of the batch a second time to build it. The event
// row is immutable (append-only, 0001's triggers), so the relay derives the same published form
// from it when it reads the row (`readOutboxBatch`, joined on event_id) and nothing can diverge.
// A row is now the announcement only: event id, message key, topic, versioned type, and the
// writing transaction's id for the relay's visibility order. `payload` and `headers` stay, now
// nullable: rows written before this migration (or by hand) keep them, and the relay publishes
// those as they are.
//
// The two batch functions (0006, 0008) are restated with that one change: the outbox rows are
// inserted from the events statement's RETURNING, in position order (so outbox ids follow the
// events' order as before), instead of from a second pass over the batch. Their arguments and
// results are unchanged; the statements they share are written once below.

/**
 * The batch's events (those of `won` streams only, for the new-stream batch) and their outbox
 * rows in one statement, in array order (positions and outbox ids grow with each stream's
 * versions); `positions` gets { event_id: [position, transaction_id] }.
 */
const appendEventsAndOutbox = (onlyWon: boolean): string => `
      WITH ev AS (
        INSERT INTO events (event_id, stream_id, stream_type, stream_version, type, schema_version,
                            data, metadata, recorded_at, prev_hash, hash)
        SELECT e.event_id, e.stream_id, e.stream_type, e.stream_version, e.type, e.schema_version,
               e.data, e.metadata, e.recorded_at, e.prev_hash, e.hash
          FROM jsonb_to_recordset(batch->'events') AS e(
                 n integer, event_id uuid, stream_id text, stream_type text, stream_version integer,
                 type text, schema_version integer, data jsonb, metadata jsonb, recorded_at timestamptz,
                 prev_hash text, hash text)
         ${onlyWon ? 'WHERE e.stream_id = ANY (won)' : ''}
         ORDER BY e.n
        RETURNING event_id, stream_id, type, schema_version, position, transaction_id),
      ob AS (
        INSERT INTO outbox (event_id, message_key, topic, type, schema_version)
        SELECT ev.event_id, ev.stream_id, batch->>'topic', ev.type || '.v' || ev.schema_version, ev.schema_version
          FROM ev
         ORDER BY ev.position)
      SELECT coalesce(jsonb_object_agg(event_id::text, jsonb_build_array(position::text, transaction_id::text)), '{}'::jsonb)
        INTO positions
        FROM ev;`;

/** The inline read model's rows of the batch, followed by `tail` (a filter or a conflict rule). */
const insertSummaries = (tail: string): string => `
      IF jsonb_array_length(batch->'summaries') > 0 THEN
      INSERT INTO payment_summaries (payment_id, customer_id, created_by, status, currency, amount,
                                     amount_captured, amount_refunded, outcome_unknown, version,
                                     last_position, created_at, updated_at)
      SELECT s.payment_id, s.customer_id, s.created_by, s.status, s.currency, s.amount,
             s.amount_captured, s.amount_refunded, s.outcome_unknown, s.version,
             (positions->s.last_event_id->>0)::bigint, s.created_at, s.updated_at
        FROM jsonb_to_recordset(batch->'summaries') AS s(
               payment_id text, customer_id text, created_by text, status text, currency text,
               amount bigint, amount_captured bigint, amount_refunded bigint, outcome_unknown boolean,
               version integer, last_event_id text, created_at timestamptz, updated_at timestamptz)
      ${tail};
      END IF;`;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE outbox ALTER COLUMN payload DROP NOT NULL, ALTER COLUMN headers DROP NOT NULL`.execute(
    db,
  );

  await sql
    .raw(
      `
    CREATE OR REPLACE FUNCTION ledger_append_batch(batch jsonb) RETURNS jsonb LANGUAGE plpgsql
      SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off AS $$
    DECLARE
      positions jsonb;
    BEGIN
      ${appendEventsAndOutbox(false)}

      -- Complete rows, in key order (0006); a duplicate fails the batch, which is run again.
      INSERT INTO idempotency_keys (caller, key, fingerprint, status_code, response)
      SELECT k.caller, k.key, k.fingerprint, k.status_code, k.response
        FROM jsonb_to_recordset(batch->'keys') AS k(
               caller text, key text, fingerprint text, status_code integer, response jsonb)
       ORDER BY k.caller, k.key;

      -- The inline read model, in the same statement as the events it derives from.
      ${insertSummaries(`ON CONFLICT (payment_id) DO UPDATE SET
        status = excluded.status, amount_captured = excluded.amount_captured,
        amount_refunded = excluded.amount_refunded, outcome_unknown = excluded.outcome_unknown,
        version = excluded.version, last_position = excluded.last_position,
        updated_at = excluded.updated_at`)}

      IF jsonb_array_length(batch->'inbox') > 0 THEN
      INSERT INTO executor_inbox (event_id, event_type, stream_id, outcome)
      SELECT i.event_id, i.event_type, i.stream_id, i.outcome
        FROM jsonb_to_recordset(batch->'inbox') AS i(event_id uuid, event_type text, stream_id text, outcome text)
      ON CONFLICT (event_id) DO NOTHING;
      END IF;

      RETURN positions;
    END
    $$`,
    )
    .execute(db);

  await sql
    .raw(
      `
    CREATE OR REPLACE FUNCTION ledger_append_new_batch(batch jsonb) RETURNS jsonb LANGUAGE plpgsql
      SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off AS $$
    DECLARE
      won       text[];
      stored    jsonb;
      positions jsonb;
    BEGIN
      -- Keys first, in key order (0008).
      WITH k AS (
        INSERT INTO idempotency_keys (caller, key, fingerprint, status_code, response)
        SELECT k.caller, k.key, k.fingerprint, k.status_code, k.response
          FROM jsonb_to_recordset(batch->'keys') AS k(
                 caller text, key text, fingerprint text, status_code integer, response jsonb)
         ORDER BY k.caller, k.key
        ON CONFLICT (caller, key) DO NOTHING
        RETURNING caller, key)
      SELECT coalesce(array_agg(b.stream_id), '{}') INTO won
        FROM k JOIN jsonb_to_recordset(batch->'keys') AS b(caller text, key text, stream_id text)
          ON b.caller = k.caller AND b.key = k.key;

      -- The keys used before (a new snapshot: it sees the transaction the insert waited for).
      SELECT coalesce(jsonb_agg(jsonb_build_object(
               'caller', i.caller, 'key', i.key, 'fingerprint', i.fingerprint,
               'status_code', i.status_code, 'response', i.response)), '[]'::jsonb)
        INTO stored
        FROM jsonb_to_recordset(batch->'keys') AS b(caller text, key text, stream_id text)
        JOIN idempotency_keys i ON i.caller = b.caller AND i.key = b.key
       WHERE b.stream_id <> ALL (won);

      ${appendEventsAndOutbox(true)}

      ${insertSummaries('WHERE s.payment_id = ANY (won)')}

      RETURN jsonb_build_object('positions', positions, 'stored', stored);
    END
    $$`,
    )
    .execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are never rolled back');
}
