import type { ColumnType } from 'kysely';

/** `executor_inbox`: ledger events the Stripe executor has handled (dedupe by event id). */
export interface ExecutorInboxTable {
  event_id: string;
  event_type: string;
  stream_id: string;
  /** What happened: applied, skipped, dead_lettered. */
  outcome: string;
  handled_at: ColumnType<Date, string | undefined, never>;
}
