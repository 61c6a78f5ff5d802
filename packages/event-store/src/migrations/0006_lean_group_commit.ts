import { sql, type Kysely } from 'kysely';

// Frozen in time. Group commit with fewer row writes per command (replaces 0005's functions):
//
// - Streams are serialised with a transaction-scoped advisory lock per stream instead of a
//   `streams` head row that every append inserted or updated (a heap tuple, an index entry and
//   its WAL per command): the head (version, last hash, type) is the stream's last event, which a
//   batch reads anyway. The locks are taken in one global order (by lock id, so even two streams
//   whose ids hash alike cannot deadlock), in the two-key advisory space (class STREAM_LOCK_CLASS),
//   which cannot meet the relay's one-key lease locks. UNIQUE (stream_id, stream_version) still
//   refuses any writer that skips the lock. A batch holds one lock per distinct stream: the server's
//   lock table (max_locks_per_transaction x max_connections, 6,400 by default) must hold them.
// - An idempotency key row is written once, complete (fingerprint, status, response), with the
//   events of its command, instead of claimed by an insert and completed by an update. A
//   concurrent duplicate is caught by the primary key: its insert waits for the first
//   transaction, fails with a unique violation when that one commits, and the caller runs its
//   batch again, which then replays the stored response. Rows are inserted in (caller, key)
//   order, so two batches cannot wait on each other's keys.
// - Outbox rows are built here from the events they announce (the published form of
//   `outboxRow()` in outbox/outboxRow.ts, tested equal) instead of travelling in the batch as a
//   second copy of every event: ~40 % of the batch's bytes, serialised, escaped, sent and parsed.
// - The `streams` table and 0005's functions are dropped: nothing else reads them.
//
// Each statement takes its own snapshot (PL/pgSQL in READ COMMITTED): the history read after the
// locks sees every batch that held them before. SECURITY INVOKER (the default): the application
// role stays unable to change history. The planner is kept to index lookups as in 0005.

/** Class id of the stream locks: pg_advisory_xact_lock(STREAM_LOCK_CLASS, hashtext(stream_id)). */
const STREAM_LOCK_CLASS = 1_818_584_436; // "ledg" as a 32-bit integer

export async function up(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION ledger_prepare_batch(jsonb)`.execute(db);
  await sql`DROP FUNCTION ledger_write_batch(jsonb)`.execute(db);
  await sql`DROP TABLE streams`.execute(db);

  // batch: { keys: [{caller, key}], streams: [stream id] }
  // returns: { stored: [{caller, key, fingerprint, status_code, response}] of keys used before,
  //            history: [event rows of the streams, by stream and version] }
  await sql
    .raw(
      `
    CREATE FUNCTION ledger_read_batch(batch jsonb) RETURNS jsonb LANGUAGE plpgsql
      SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off AS $$
    DECLARE
      stored  jsonb;
      history jsonb;
    BEGIN
      PERFORM pg_advisory_xact_lock(${STREAM_LOCK_CLASS}, l.id)
         FROM (SELECT DISTINCT hashtext(s.id) AS id
                 FROM jsonb_array_elements_text(batch->'streams') AS s(id)
                ORDER BY 1) AS l;

      SELECT coalesce(jsonb_agg(jsonb_build_object(
               'caller', i.caller, 'key', i.key, 'fingerprint', i.fingerprint,
               'status_code', i.status_code, 'response', i.response)), '[]'::jsonb)
        INTO stored
        FROM idempotency_keys i
        JOIN jsonb_to_recordset(batch->'keys') AS k(caller text, key text)
          ON i.caller = k.caller AND i.key = k.key;

      SELECT coalesce(jsonb_agg(jsonb_build_object(
               'position', e.position::text, 'event_id', e.event_id, 'stream_id', e.stream_id,
               'stream_type', e.stream_type, 'stream_version', e.stream_version, 'type', e.type,
               'schema_version', e.schema_version, 'data', e.data, 'metadata', e.metadata,
               'recorded_at', e.recorded_at, 'transaction_id', e.transaction_id::text,
               'prev_hash', e.prev_hash, 'hash', e.hash)
             ORDER BY e.stream_id, e.stream_version), '[]'::jsonb)
        INTO history
        FROM events e
       WHERE e.stream_id IN (SELECT jsonb_array_elements_text(batch->'streams'));

      RETURN jsonb_build_object('stored', stored, 'history', history);
    END
    $$`,
    )
    .execute(db);

  // batch: { topic, events: [...], keys: [{caller, key, fingerprint, status_code, response}],
  //          summaries: [payment_summaries rows, with last_event_id for last_position], inbox: [...] }
  // returns: { event_id: [position, transaction_id] } of the inserted events.
  await sql`
    CREATE FUNCTION ledger_append_batch(batch jsonb) RETURNS jsonb LANGUAGE plpgsql
      SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off AS $$
    DECLARE
      positions jsonb;
    BEGIN
      -- In array order: positions and outbox ids grow with each stream's versions.
      WITH ev AS (
        INSERT INTO events (event_id, stream_id, stream_type, stream_version, type, schema_version,
                            data, metadata, recorded_at, prev_hash, hash)
        SELECT e.event_id, e.stream_id, e.stream_type, e.stream_version, e.type, e.schema_version,
               e.data, e.metadata, e.recorded_at, e.prev_hash, e.hash
          FROM jsonb_to_recordset(batch->'events') AS e(
                 n integer, event_id uuid, stream_id text, stream_type text, stream_version integer,
                 type text, schema_version integer, data jsonb, metadata jsonb, recorded_at timestamptz,
                 prev_hash text, hash text)
         ORDER BY e.n
        RETURNING event_id, position, transaction_id)
      SELECT coalesce(jsonb_object_agg(event_id::text, jsonb_build_array(position::text, transaction_id::text)), '{}'::jsonb)
        INTO positions
        FROM ev;

      -- The published form of each event, its text values exactly as the batch gives them.
      INSERT INTO outbox (event_id, message_key, topic, type, schema_version, payload, headers)
      SELECT o.event_id::uuid, o.stream_id, batch->>'topic', o.type || '.v' || o.schema_version,
             o.schema_version,
             jsonb_build_object(
               'eventId', o.event_id, 'type', o.type || '.v' || o.schema_version,
               'streamId', o.stream_id, 'streamType', o.stream_type, 'streamVersion', o.stream_version,
               'data', o.data, 'metadata', o.metadata, 'recordedAt', o.recorded_at, 'hash', o.hash),
             jsonb_build_object(
               'event-id', o.event_id, 'event-type', o.type || '.v' || o.schema_version,
               'schema-version', o.schema_version::text,
               'correlation-id', o.metadata->>'correlationId', 'event-hash', o.hash)
        FROM jsonb_to_recordset(batch->'events') AS o(
               n integer, event_id text, stream_id text, stream_type text, stream_version integer,
               type text, schema_version integer, data jsonb, metadata jsonb, recorded_at text, hash text)
       ORDER BY o.n;

      -- Complete rows, in key order (see above); a duplicate fails the batch, which is run again.
      INSERT INTO idempotency_keys (caller, key, fingerprint, status_code, response)
      SELECT k.caller, k.key, k.fingerprint, k.status_code, k.response
        FROM jsonb_to_recordset(batch->'keys') AS k(
               caller text, key text, fingerprint text, status_code integer, response jsonb)
       ORDER BY k.caller, k.key;

      -- The inline read model, in the same statement as the events it derives from.
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
      ON CONFLICT (payment_id) DO UPDATE SET
        status = excluded.status, amount_captured = excluded.amount_captured,
        amount_refunded = excluded.amount_refunded, outcome_unknown = excluded.outcome_unknown,
        version = excluded.version, last_position = excluded.last_position,
        updated_at = excluded.updated_at;
      END IF;

      IF jsonb_array_length(batch->'inbox') > 0 THEN
      INSERT INTO executor_inbox (event_id, event_type, stream_id, outcome)
      SELECT i.event_id, i.event_type, i.stream_id, i.outcome
        FROM jsonb_to_recordset(batch->'inbox') AS i(event_id uuid, event_type text, stream_id text, outcome text)
      ON CONFLICT (event_id) DO NOTHING;
      END IF;

      RETURN positions;
    END
    $$`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are never rolled back');
}
