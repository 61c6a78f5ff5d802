import type { EventsTable } from './events.table.ts';
import type { IdempotencyKeysTable } from './idempotencyKeys.table.ts';
import type { OutboxCheckpointsTable, OutboxTable } from './outbox.table.ts';
import type { PaymentSummariesTable } from './paymentSummaries.table.ts';
import type { ExecutorInboxTable } from './executorInbox.table.ts';

/** The ledger's tables as kysely sees them. */
export interface Database {
  events: EventsTable;
  outbox: OutboxTable;
  outbox_checkpoints: OutboxCheckpointsTable;
  idempotency_keys: IdempotencyKeysTable;
  payment_summaries: PaymentSummariesTable;
  executor_inbox: ExecutorInboxTable;
}
