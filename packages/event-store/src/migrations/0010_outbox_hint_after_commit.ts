import { sql, type Kysely } from 'kysely';

// Frozen in time. The relay's wake-up hint leaves the writing transactions. 0003 sent it from a
// statement trigger on `outbox`, so every transaction that wrote outbox rows ran NOTIFY, and a
// transaction that has notified takes a database-wide lock at commit and holds it until its
// commit is flushed (PostgreSQL keeps the notification queue in commit order that way): every
// such commit waited for the one before it to be on disk, so no two of them ever shared a WAL
// flush. Measured on one server, pgbench running one event row + one outbox row per transaction:
// 1,209-2,081 tx/s with the trigger, 3,310-3,932 without. Writers now send the hint after their
// commit, from a transaction of its own (`OutboxHint` in the event store); the relay still polls.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER outbox_notify ON outbox`.execute(db);
  await sql`DROP FUNCTION notify_outbox()`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are never rolled back');
}
