import type { ColumnType } from 'kysely';

/** `events`: the append-only, hash-chained history. UPDATE, DELETE and TRUNCATE are refused. */
export interface EventsTable {
  /** Global position (identity); assigned at insert, visible at commit. pg returns it as a string. */
  position: ColumnType<string, never, never>;
  event_id: string;
  stream_id: string;
  stream_type: string;
  stream_version: number;
  type: string;
  schema_version: number;
  data: ColumnType<unknown, string, never>;
  metadata: ColumnType<unknown, string, never>;
  recorded_at: ColumnType<Date, string, never>;
  /** The writing transaction's id (xid8), for visibility-ordered readers. */
  transaction_id: ColumnType<string, never, never>;
  prev_hash: string;
  hash: string;
}
