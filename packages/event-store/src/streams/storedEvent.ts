/** Who and why: carried by every event and hashed with it. */
export interface EventMetadata {
  /** The authenticated caller (service credential id) or internal component that caused it. */
  readonly actor: string;
  /** Ties together everything caused by one business request. */
  readonly correlationId: string;
  /** The event id or request id that directly caused this event, if any. */
  readonly causationId: string | null;
}

/** An event to append: its type and JSON-safe data (bigints already as decimal strings). */
export interface NewEvent {
  readonly type: string;
  readonly schemaVersion?: number;
  readonly data: Record<string, unknown>;
}

/** An event as stored in the `events` table. */
export interface StoredEvent {
  /** Global position, as a decimal string (bigint in PostgreSQL). */
  readonly position: string;
  readonly eventId: string;
  readonly streamId: string;
  readonly streamType: string;
  readonly streamVersion: number;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: Record<string, unknown>;
  readonly metadata: EventMetadata;
  /** ISO 8601 UTC with milliseconds. */
  readonly recordedAt: string;
  /** xid8 of the writing transaction, as a decimal string. */
  readonly transactionId: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** Maps a row of `events` to a StoredEvent. */
export function toStoredEvent(row: {
  position: string | number | bigint;
  event_id: string;
  stream_id: string;
  stream_type: string;
  stream_version: number;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: unknown;
  recorded_at: Date | string;
  transaction_id: string | number | bigint;
  prev_hash: string;
  hash: string;
}): StoredEvent {
  return {
    position: String(row.position),
    eventId: row.event_id,
    streamId: row.stream_id,
    streamType: row.stream_type,
    streamVersion: Number(row.stream_version),
    type: row.type,
    schemaVersion: Number(row.schema_version),
    data: row.data as Record<string, unknown>,
    metadata: row.metadata as EventMetadata,
    recordedAt: new Date(row.recorded_at).toISOString(),
    transactionId: String(row.transaction_id),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
