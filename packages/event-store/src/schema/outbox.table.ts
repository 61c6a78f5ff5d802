import type { ColumnType } from 'kysely';

/**
 * `outbox`: messages announcing events, written in the same transaction as the events. Rows are
 * deleted once published (they are not history).
 */
export interface OutboxTable {
  id: ColumnType<string, never, never>;
  transaction_id: ColumnType<string, never, never>;
  event_id: string;
  /** Kafka message key: the stream (payment) id, so one payment's messages stay in order. */
  message_key: string;
  topic: string;
  type: string;
  schema_version: number;
  /** Null since migration 0011: the relay builds the published form from the event it names. */
  payload: ColumnType<unknown, string | undefined, never>;
  headers: ColumnType<Record<string, string> | null, string | undefined, never>;
  created_at: ColumnType<Date, string | undefined, never>;
}

/** `outbox_checkpoints`: how far each outbox partition is published (compare-and-set). */
export interface OutboxCheckpointsTable {
  name: string;
  /** xid8 as a decimal string. */
  last_transaction_id: ColumnType<string, string | undefined, string>;
  last_id: ColumnType<string, string | undefined, string>;
  updated_at: ColumnType<Date, string | undefined, string>;
}
