import { sql, type Kysely } from 'kysely';

// Frozen in time. ledger_append_new_batch (0008, restated by 0011) found the commands that won
// their keys by joining the keys it had just inserted (RETURNING) back to the batch's keys. The
// function turns hash and merge joins off, so that join was a nested loop over two unindexed row
// sets: n x n comparisons per batch (measured: ~0.9 ms for 100 keys, ~6.7 ms for 300, against
// ~0.2 ms to read them), and the streams of the losers were then filtered out of the events and
// summaries with `= ANY (won)`, n x n again, and the stored responses looked up one key at a time.
//
// Almost every batch wins all of its keys: a key is used before only when a client retries. So
// the insert now only counts the rows it wrote; when that is every key of the batch, every
// command won, and its events, outbox rows and summaries are written as they are, with no lookup.
// Otherwise (some key was used before, or was taken by a transaction that committed while ours
// waited for it) the winners are found from the keys the insert returned, as before, and the rest
// goes as in 0011. Arguments and result are unchanged.

/** Events (of `won` streams only, when filtered) and their outbox rows, as in 0011. */
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

/** The batch's summary rows (of `won` streams only, when filtered), as in 0011. */
const insertSummaries = (onlyWon: boolean): string => `
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
      ${onlyWon ? 'WHERE s.payment_id = ANY (won)' : ''};
      END IF;`;

export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
    CREATE OR REPLACE FUNCTION ledger_append_new_batch(batch jsonb) RETURNS jsonb LANGUAGE plpgsql
      SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off AS $$
    DECLARE
      written   bigint;
      callers   text[];
      keys      text[];
      won       text[];
      stored    jsonb;
      positions jsonb;
    BEGIN
      -- Keys first, in key order (0008); a key used before is skipped, not an error.
      WITH k AS (
        INSERT INTO idempotency_keys (caller, key, fingerprint, status_code, response)
        SELECT k.caller, k.key, k.fingerprint, k.status_code, k.response
          FROM jsonb_to_recordset(batch->'keys') AS k(
                 caller text, key text, fingerprint text, status_code integer, response jsonb)
         ORDER BY k.caller, k.key
        ON CONFLICT (caller, key) DO NOTHING
        RETURNING caller, key)
      SELECT count(*), array_agg(k.caller), array_agg(k.key) INTO written, callers, keys FROM k;

      IF written = jsonb_array_length(batch->'keys') THEN
        -- Every key was new: every command of the batch won.
        ${appendEventsAndOutbox(false)}
        ${insertSummaries(false)}
        RETURN jsonb_build_object('positions', positions, 'stored', '[]'::jsonb);
      END IF;

      -- Some keys were used before: the winners are the keys the insert wrote.
      SELECT coalesce(array_agg(b.stream_id), '{}') INTO won
        FROM jsonb_to_recordset(batch->'keys') AS b(caller text, key text, stream_id text)
        JOIN unnest(callers, keys) AS w(caller, key) ON w.caller = b.caller AND w.key = b.key;

      -- The keys used before (a new snapshot: it sees the transaction the insert waited for).
      SELECT coalesce(jsonb_agg(jsonb_build_object(
               'caller', i.caller, 'key', i.key, 'fingerprint', i.fingerprint,
               'status_code', i.status_code, 'response', i.response)), '[]'::jsonb)
        INTO stored
        FROM jsonb_to_recordset(batch->'keys') AS b(caller text, key text, stream_id text)
        JOIN idempotency_keys i ON i.caller = b.caller AND i.key = b.key
       WHERE b.stream_id <> ALL (won);

      ${appendEventsAndOutbox(true)}
      ${insertSummaries(true)}

      RETURN jsonb_build_object('positions', positions, 'stored', stored);
    END
    $$`,
    )
    .execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are never rolled back');
}
