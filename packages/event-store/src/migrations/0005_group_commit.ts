import { sql, type Kysely } from 'kysely';

// Frozen in time. Group commit in two round trips instead of one per table: a batch of commands
// claims its idempotency keys, locks its stream heads and reads their history with one call, and
// writes everything it decided with another. Each statement inside still takes its own snapshot
// (PL/pgSQL in READ COMMITTED), so a key a concurrent batch committed meanwhile is seen, exactly as
// with separate statements. SECURITY INVOKER (the default): the caller's grants apply, so the
// application role stays unable to change history. Every statement here touches a few rows by
// key: the planner is kept to index lookups (a cached plan made while a table was small would
// otherwise scan it whole as it grows).

export async function up(db: Kysely<any>): Promise<void> {
  // The hash columns' regular-expression checks cost about 20 us per value on the machines this
  // runs on, more than the rest of the row: the same rule (64 lowercase hex digits) checked with
  // decode(), about 2 us. A value that is not hex now fails the insert with decode's
  // "invalid hexadecimal digit" error instead of a check violation; it is refused either way.
  for (const column of ['hash', 'prev_hash']) {
    await sql
      .raw(
        `ALTER TABLE events DROP CONSTRAINT events_${column}_check, ` +
          `ADD CONSTRAINT events_${column}_check CHECK (octet_length(${column}) = 64 ` +
          `AND octet_length(decode(${column}, 'hex')) = 32 AND ${column} = lower(${column}))`,
      )
      .execute(db);
  }

  // batch: { keys: [{caller, key, fingerprint}], streams: [{id}] }
  // returns: { claimed: [[caller, key]], stored: [{caller, key, fingerprint, status_code, response}],
  //            heads: [{id, type, version, last_hash}] of existing streams,
  //            history: [event rows, by stream and version] }
  await sql`
    CREATE FUNCTION ledger_prepare_batch(batch jsonb) RETURNS jsonb LANGUAGE plpgsql
      SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off AS $$
    DECLARE
      claimed jsonb;
      stored  jsonb;
      heads   jsonb;
      history jsonb;
    BEGIN
      -- Keys in sorted order, so that concurrent batches cannot deadlock on them.
      WITH ins AS (
        INSERT INTO idempotency_keys (caller, key, fingerprint)
        SELECT k.caller, k.key, k.fingerprint
          FROM jsonb_to_recordset(batch->'keys') AS k(caller text, key text, fingerprint text)
         ORDER BY k.caller, k.key
        ON CONFLICT (caller, key) DO NOTHING
        RETURNING caller, key)
      SELECT coalesce(jsonb_agg(jsonb_build_array(caller, key)), '[]'::jsonb) INTO claimed FROM ins;

      -- Keys taken before: their stored response (a new statement sees a winner that just committed).
      stored := '[]'::jsonb;
      IF jsonb_array_length(claimed) < jsonb_array_length(batch->'keys') THEN
      SELECT coalesce(jsonb_agg(jsonb_build_object(
               'caller', i.caller, 'key', i.key, 'fingerprint', i.fingerprint,
               'status_code', i.status_code, 'response', i.response)), '[]'::jsonb)
        INTO stored
        FROM idempotency_keys i
        JOIN jsonb_to_recordset(batch->'keys') AS k(caller text, key text)
          ON i.caller = k.caller AND i.key = k.key
       WHERE NOT claimed @> jsonb_build_array(jsonb_build_array(i.caller, i.key));
      END IF;

      -- Heads of the streams that exist, locked in sorted order. A new stream gets its head when
      -- its first events are written: a concurrent batch creating it too fails on the primary key
      -- and is retried whole, then finds it here.
      WITH locked AS (
        SELECT st.stream_id, st.stream_type, st.version, st.last_hash
          FROM streams st
         WHERE st.stream_id IN (SELECT s.id FROM jsonb_to_recordset(batch->'streams') AS s(id text))
         ORDER BY st.stream_id
           FOR UPDATE)
      SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', stream_id, 'type', stream_type, 'version', version, 'last_hash', last_hash)), '[]'::jsonb)
        INTO heads
        FROM locked;

      -- History of the streams that have any (a new stream has none).
      SELECT coalesce(jsonb_agg(jsonb_build_object(
               'position', e.position::text, 'event_id', e.event_id, 'stream_id', e.stream_id,
               'stream_type', e.stream_type, 'stream_version', e.stream_version, 'type', e.type,
               'schema_version', e.schema_version, 'data', e.data, 'metadata', e.metadata,
               'recorded_at', e.recorded_at, 'transaction_id', e.transaction_id::text,
               'prev_hash', e.prev_hash, 'hash', e.hash)
             ORDER BY e.stream_id, e.stream_version), '[]'::jsonb)
        INTO history
        FROM events e
       WHERE e.stream_id IN (SELECT h->>'id' FROM jsonb_array_elements(heads) AS h);

      RETURN jsonb_build_object('claimed', claimed, 'stored', stored, 'heads', heads, 'history', history);
    END
    $$`.execute(db);

  // batch: { events: [...], outbox: [...], heads: [{id, version, last_hash}], created: [{id, type, version, last_hash}],
  //          responses: [{caller, key, status_code, response}], failed: [{caller, key}], inbox: [...] }
  //          summaries: [payment_summaries rows, with last_event_id for last_position] }
  // returns: { event_id: [position, transaction_id] } of the inserted events.
  await sql`
    CREATE FUNCTION ledger_write_batch(batch jsonb) RETURNS jsonb LANGUAGE plpgsql
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

      INSERT INTO outbox (event_id, message_key, topic, type, schema_version, payload, headers)
      SELECT o.event_id, o.message_key, o.topic, o.type, o.schema_version, o.payload, o.headers
        FROM jsonb_to_recordset(batch->'outbox') AS o(
               n integer, event_id uuid, message_key text, topic text, type text, schema_version integer,
               payload jsonb, headers jsonb)
       ORDER BY o.n;

      UPDATE streams AS s SET version = v.version, last_hash = v.last_hash, updated_at = now()
        FROM jsonb_to_recordset(batch->'heads') AS v(id text, version integer, last_hash text)
       WHERE s.stream_id = v.id;
      INSERT INTO streams (stream_id, stream_type, version, last_hash)
      SELECT c.id, c.type, c.version, c.last_hash
        FROM jsonb_to_recordset(batch->'created') AS c(id text, type text, version integer, last_hash text)
       ORDER BY c.id;

      UPDATE idempotency_keys AS k SET status_code = v.status_code, response = v.response
        FROM jsonb_to_recordset(batch->'responses') AS v(caller text, key text, status_code integer, response jsonb)
       WHERE k.caller = v.caller AND k.key = v.key;

      -- A command that failed stores nothing: its key is free for a corrected retry.
      IF jsonb_array_length(batch->'failed') > 0 THEN
      DELETE FROM idempotency_keys AS k
       USING jsonb_to_recordset(batch->'failed') AS v(caller text, key text)
       WHERE k.caller = v.caller AND k.key = v.key;
      END IF;

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
