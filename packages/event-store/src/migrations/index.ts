import type { Migration, MigrationProvider } from 'kysely/migration';
import * as m0001 from './0001_ledger.ts';
import * as m0002 from './0002_payment_summaries.ts';
import * as m0003 from './0003_outbox_relay.ts';
import * as m0004 from './0004_executor_inbox.ts';
import * as m0005 from './0005_group_commit.ts';
import * as m0006 from './0006_lean_group_commit.ts';
import * as m0007 from './0007_drop_events_type_index.ts';
import * as m0008 from './0008_new_stream_batch.ts';
import * as m0009 from './0009_executor_read_after.ts';
import * as m0010 from './0010_outbox_hint_after_commit.ts';
import * as m0011 from './0011_outbox_references_events.ts';
import * as m0012 from './0012_new_batch_fast_path.ts';

/** Every migration, in order. Adding one = adding a line; landed ones are never edited. */
const migrations: Record<string, Migration> = {
  '0001_ledger': m0001,
  '0002_payment_summaries': m0002,
  '0003_outbox_relay': m0003,
  '0004_executor_inbox': m0004,
  '0005_group_commit': m0005,
  '0006_lean_group_commit': m0006,
  '0007_drop_events_type_index': m0007,
  '0008_new_stream_batch': m0008,
  '0009_executor_read_after': m0009,
  '0010_outbox_hint_after_commit': m0010,
  '0011_outbox_references_events': m0011,
  '0012_new_batch_fast_path': m0012,
};

/** Static provider (no file-system scanning: works the same bundled, on PGlite and in tests). */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
