import { sql, type Kysely } from 'kysely';

// Frozen in time. One round trip for a batch of commands that each start a stream the caller
// made up itself (a new payment's id: 128 random bits, known to nobody before it commits).
// Such a stream has no history and nobody else can write it, so the batch is decided without a
// read and needs no stream lock; what it cannot know in advance is whether an idempotency key
// was used before. So the keys are written first, ON CONFLICT DO NOTHING: a key stored earlier,
// or by a transaction still running (the insert waits for it and skips the key if it commits),
// makes its command a replay: its stored row is returned and none of its events, outbox rows or
// summary are written. UNIQUE (stream_id, stream_version) still refuses a stream that existed.
//
// batch: as ledger_append_batch's (0006), with `stream_id` on every key row and no inbox rows;
//        a summary row belongs to the stream whose id is its payment_id.
// returns: { positions: { event_id: [position, transaction_id] } of the inserted events,
//            stored: [{caller, key, fingerprint, status_code, response}] of the keys used before }.
// Called on its own (autocommit): the statement is the transaction.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION ledger_append_new_batch(batch jsonb) RETURNS jsonb LANGUAGE plpgsql
      SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off AS $$
    DECLARE
      won       text[];
      stored    jsonb;
      positions jsonb;
    BEGIN
      -- Keys first, in key order (two batches cannot wait on each other's keys).
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

      WITH ev AS (
        INSERT INTO events (event_id, stream_id, stream_type, stream_version, type, schema_version,
                            data, metadata, recorded_at, prev_hash, hash)
        SELECT e.event_id, e.stream_id, e.stream_type, e.stream_version, e.type, e.schema_version,
               e.data, e.metadata, e.recorded_at, e.prev_hash, e.hash
          FROM jsonb_to_recordset(batch->'events') AS e(
                 n integer, event_id uuid, stream_id text, stream_type text, stream_version integer,
                 type text, schema_version integer, data jsonb, metadata jsonb, recorded_at timestamptz,
                 prev_hash text, hash text)
         WHERE e.stream_id = ANY (won)
         ORDER BY e.n
        RETURNING event_id, position, transaction_id)
      SELECT coalesce(jsonb_object_agg(event_id::text, jsonb_build_array(position::text, transaction_id::text)), '{}'::jsonb)
        INTO positions
        FROM ev;

      -- The published form of each event, as in 0006.
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
       WHERE o.stream_id = ANY (won)
       ORDER BY o.n;

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
       WHERE s.payment_id = ANY (won);
      END IF;

      RETURN jsonb_build_object('positions', positions, 'stored', stored);
    END
    $$`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are never rolled back');
}
