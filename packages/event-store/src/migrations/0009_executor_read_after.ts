import { sql, type Kysely } from 'kysely';

// Frozen in time. A batch read for callers that already hold part of a stream's history (the
// Stripe executor carries each payment's history from one write to the next): under the same
// stream locks as ledger_read_batch (0006), it returns only the events after the version the
// caller holds, and the stored hash at that version so the caller's copy can be checked against
// the chain. Re-reading a payment's whole history inside every write transaction was most of
// what a read cost there (1 + 2 + 4 events read for the 3 writes of a payment).
//
// The locks are the very ones of 0006 (class STREAM_LOCK_CLASS, hashtext(stream id), taken in
// lock id order), so batches of both functions serialise on a stream and never deadlock.

/** Class id of the stream locks, as in 0006: pg_advisory_xact_lock(STREAM_LOCK_CLASS, hashtext(stream_id)). */
const STREAM_LOCK_CLASS = 1_818_584_436; // "ledg" as a 32-bit integer

export async function up(db: Kysely<any>): Promise<void> {
  // batch: { keys: [{caller, key}], streams: [{id, after}] } (after = the last version the caller
  //        holds, 0 for none; each id once)
  // returns: { stored: [{caller, key, fingerprint, status_code, response}] of keys used before,
  //            history: [event rows after each stream's `after`, by stream and version],
  //            heads: { stream id: hash of its event at version `after` } for after > 0 }
  await sql
    .raw(
      `
    CREATE FUNCTION ledger_read_batch_after(batch jsonb) RETURNS jsonb LANGUAGE plpgsql
      SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off AS $$
    DECLARE
      stored  jsonb;
      history jsonb;
      heads   jsonb;
    BEGIN
      PERFORM pg_advisory_xact_lock(${STREAM_LOCK_CLASS}, l.id)
         FROM (SELECT DISTINCT hashtext(s.id) AS id
                 FROM jsonb_to_recordset(batch->'streams') AS s(id text, after integer)
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
        FROM jsonb_to_recordset(batch->'streams') AS s(id text, after integer)
        JOIN events e ON e.stream_id = s.id AND e.stream_version > s.after;

      SELECT coalesce(jsonb_object_agg(e.stream_id, e.hash), '{}'::jsonb)
        INTO heads
        FROM jsonb_to_recordset(batch->'streams') AS s(id text, after integer)
        JOIN events e ON e.stream_id = s.id AND e.stream_version = s.after
       WHERE s.after > 0;

      RETURN jsonb_build_object('stored', stored, 'history', history, 'heads', heads);
    END
    $$`,
    )
    .execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are never rolled back');
}
