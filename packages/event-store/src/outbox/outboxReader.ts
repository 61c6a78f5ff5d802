import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema/database.ts';
import { toStoredEvent } from '../streams/storedEvent.ts';
import { outboxRow } from './outboxRow.ts';

/** A position in the outbox's visibility order: (writing transaction id, row id). */
export interface OutboxPosition {
  /** xid8 of the transaction that wrote the row, as a decimal string. */
  readonly transactionId: string;
  /** The row's id, as a decimal string. */
  readonly id: string;
}

/** Before the first row. */
export const OUTBOX_START: OutboxPosition = { transactionId: '0', id: '0' };

/** An outbox row ready to publish. */
export interface OutboxMessage {
  readonly position: OutboxPosition;
  readonly eventId: string;
  readonly topic: string;
  readonly key: string;
  readonly type: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly createdAt: Date;
}

/**
 * Reads the next outbox rows after `after` in visibility order, and only rows whose writing
 * transaction is older than every transaction still running (`transaction_id <
 * pg_snapshot_xmin(pg_current_snapshot())`). Ids are handed out at insert but become visible at
 * commit, so a reader of `id > last_seen` skips a row whose transaction commits after a later one;
 * ordering by (transaction_id, id) below the xmin horizon never does: a long transaction delays
 * publication, it never drops a row.
 *
 * A row written since migration 0011 is the announcement only: its published form (`outboxRow()`
 * in outboxRow.ts) is built here from the event it names, which is immutable. Rows from before
 * carry their payload and headers and are published as they are (compact JSON, as before).
 */
export async function readOutboxBatch(
  db: Kysely<Database>,
  after: OutboxPosition,
  limit: number,
): Promise<OutboxMessage[]> {
  const { rows } = await sql<{
    id: string;
    transaction_id: string;
    event_id: string;
    topic: string;
    message_key: string;
    type: string;
    payload: unknown;
    headers: Record<string, string> | null;
    created_at: Date;
    e_position: string | null;
    stream_id: string;
    stream_type: string;
    stream_version: number;
    e_type: string;
    schema_version: number;
    data: unknown;
    metadata: unknown;
    recorded_at: Date;
    e_transaction_id: string;
    prev_hash: string;
    hash: string;
  }>`
    SELECT o.id, o.transaction_id, o.event_id, o.topic, o.message_key, o.type, o.payload, o.headers,
           o.created_at, e.position AS e_position, e.stream_id, e.stream_type,
           e.stream_version, e.type AS e_type, e.schema_version, e.data, e.metadata, e.recorded_at,
           e.transaction_id AS e_transaction_id, e.prev_hash, e.hash
    FROM (SELECT * FROM outbox
          WHERE (transaction_id, id) > (${after.transactionId}::xid8, ${after.id}::bigint)
            AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY transaction_id, id
          LIMIT ${limit}) o
    LEFT JOIN events e ON o.payload IS NULL AND e.event_id = o.event_id
    ORDER BY o.transaction_id, o.id`.execute(db);
  return rows.map((r) => {
    const base = {
      position: { transactionId: String(r.transaction_id), id: String(r.id) },
      eventId: r.event_id,
      topic: r.topic,
      key: r.message_key,
      type: r.type,
      createdAt: new Date(r.created_at),
    };
    if (r.payload !== null) return { ...base, value: JSON.stringify(r.payload), headers: r.headers ?? {} };
    if (r.e_position === null) {
      // Written in the event's own transaction, and events are never deleted: a broken ledger.
      throw new Error(`outbox row ${String(r.id)} announces event ${r.event_id}, which is not in the ledger`);
    }
    // The published form is outboxRow()'s, of the event as stored.
    const { payload, headers } = outboxRow(
      toStoredEvent({
        position: r.e_position,
        event_id: r.event_id,
        stream_id: r.stream_id,
        stream_type: r.stream_type,
        stream_version: r.stream_version,
        type: r.e_type,
        schema_version: r.schema_version,
        data: r.data,
        metadata: r.metadata,
        recorded_at: r.recorded_at,
        transaction_id: r.e_transaction_id,
        prev_hash: r.prev_hash,
        hash: r.hash,
      }),
      { topic: r.topic },
    );
    return { ...base, value: JSON.stringify(payload), headers };
  });
}

/** The published position of outbox partition `name` (created at the start if missing). */
export async function readOutboxCheckpoint(db: Kysely<Database>, name: string): Promise<OutboxPosition> {
  await db
    .insertInto('outbox_checkpoints')
    .values({ name })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db
    .selectFrom('outbox_checkpoints')
    .select(['last_transaction_id', 'last_id'])
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return { transactionId: String(row.last_transaction_id), id: String(row.last_id) };
}

/**
 * Moves the checkpoint from `expected` to `next` only if nobody moved it meanwhile
 * (compare-and-set). Returns false when it had moved: the caller lost its lease or raced.
 */
export async function advanceOutboxCheckpoint(
  db: Kysely<Database>,
  name: string,
  expected: OutboxPosition,
  next: OutboxPosition,
): Promise<boolean> {
  const result = await sql`
    UPDATE outbox_checkpoints
    SET last_transaction_id = ${next.transactionId}::xid8, last_id = ${next.id}::bigint, updated_at = now()
    WHERE name = ${name}
      AND last_transaction_id = ${expected.transactionId}::xid8
      AND last_id = ${expected.id}::bigint`.execute(db);
  return Number(result.numAffectedRows ?? 0) === 1;
}

/** Deletes outbox rows already published by every partition's checkpoint; returns how many. */
export async function deletePublishedOutbox(
  db: Kysely<Database>,
  name: string,
  limit = 10_000,
): Promise<number> {
  const result = await sql`
    DELETE FROM outbox WHERE id IN (
      SELECT o.id FROM outbox o, outbox_checkpoints c
      WHERE c.name = ${name} AND (o.transaction_id, o.id) <= (c.last_transaction_id, c.last_id)
      LIMIT ${limit})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** How far behind the relay is: unpublished rows, and the age of the oldest one in seconds. */
export async function outboxLag(
  db: Kysely<Database>,
  name: string,
): Promise<{ rows: number; oldestAgeSeconds: number }> {
  const { rows } = await sql<{ rows: string; age: number | null }>`
    SELECT count(*) AS rows, EXTRACT(EPOCH FROM now() - min(o.created_at))::float8 AS age
    FROM outbox o, outbox_checkpoints c
    WHERE c.name = ${name} AND (o.transaction_id, o.id) > (c.last_transaction_id, c.last_id)`.execute(db);
  const row = rows[0];
  return { rows: Number(row?.rows ?? 0), oldestAgeSeconds: Math.max(0, Number(row?.age ?? 0)) };
}
