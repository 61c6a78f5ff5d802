export { openDatabase, type DatabaseTarget } from './connect.ts';
export { migrateDatabase, migrateToLatest } from './migrate.ts';
export type { Database } from './schema/database.ts';
export { EventStoreError, eventStoreErrorCodes, type EventStoreErrorCode } from './errors.ts';
export { canonicalJson } from './hashing/canonicalJson.ts';
export { eventHash, GENESIS_HASH, type HashedEventFields } from './hashing/eventHash.ts';
export { verifyStreams, type ChainBreak } from './hashing/verifyChain.ts';
export {
  executeCommands,
  type CommandRequest,
  type CommandResponse,
  type CommandResult,
  type Decision,
  type ExecuteOptions,
  type InboxRow,
  type SummaryRow,
  type TouchedStream,
} from './commands/executeCommands.ts';
export { CommandBatcher, type BatcherOptions } from './commands/commandBatcher.ts';
export { OutboxHint, OUTBOX_CHANNEL } from './outbox/outboxHint.ts';
export { readStream, readAll } from './streams/readStream.ts';
export { toStoredEvent, type EventMetadata, type NewEvent, type StoredEvent } from './streams/storedEvent.ts';
export { outboxRow, publishedType, type OutboxOptions, type PublishedEvent } from './outbox/outboxRow.ts';
export {
  readOutboxBatch,
  readOutboxCheckpoint,
  advanceOutboxCheckpoint,
  deletePublishedOutbox,
  outboxLag,
  OUTBOX_START,
  type OutboxMessage,
  type OutboxPosition,
} from './outbox/outboxReader.ts';
