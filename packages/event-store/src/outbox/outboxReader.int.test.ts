import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, waitFor, type TestDatabase } from '@payledger/testkit/vitest';
import { migrateToLatest } from '../migrate.ts';
import { openDatabase } from '../connect.ts';
import type { Database } from '../schema/database.ts';
import {
  advanceOutboxCheckpoint,
  deletePublishedOutbox,
  OUTBOX_START,
  outboxLag,
  readOutboxBatch,
  readOutboxCheckpoint,
  type OutboxPosition,
} from './outboxReader.ts';

let database: TestDatabase;
let db: Kysely<Database>;

beforeAll(async () => {
  database = await createTestDatabase('outbox');
  db = await openDatabase({ kind: 'postgres', url: database.url });
  await migrateToLatest(db);
});
afterAll(async () => {
  await db.destroy();
  await database.drop();
});

async function insertRow(client: pg.Client, key: string): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO outbox (event_id, message_key, topic, type, schema_version, payload, headers)
     VALUES ($1, $2, 't', 'X.v1', 1, '{}', '{}') RETURNING id`,
    [randomUUID(), key],
  );
  return String(rows[0]?.id);
}

/** The naive reader the design warns about: `WHERE id > last_seen`. */
async function naiveRead(after: string): Promise<string[]> {
  const { rows } = await sql<{
    id: string;
  }>`SELECT id FROM outbox WHERE id > ${after}::bigint ORDER BY id`.execute(db);
  return rows.map((r) => String(r.id));
}

describe('outbox reader', () => {
  it('publishes a row whose transaction commits after a later one; a naive id reader loses it', async () => {
    const t1 = new pg.Client({ connectionString: database.url });
    const t2 = new pg.Client({ connectionString: database.url });
    await Promise.all([t1.connect(), t2.connect()]);
    try {
      // T1 takes an id, T2 takes a later one and commits first, then T1 commits.
      await t1.query('BEGIN');
      const early = await insertRow(t1, 'late-commit');
      await t2.query('BEGIN');
      const later = await insertRow(t2, 'late-commit');
      await t2.query('COMMIT');
      expect(BigInt(later)).toBeGreaterThan(BigInt(early));

      // Both readers poll while T1 is still open.
      let position: OutboxPosition = await readOutboxCheckpoint(db, 'late-commit-test');
      const beforeCommit = await readOutboxBatch(db, position, 100);
      expect(beforeCommit).toEqual([]); // T2's row waits behind the open T1: delayed, not dropped
      const naiveSeen = await naiveRead('0');
      expect(naiveSeen).toEqual([later]);
      const naiveLast = naiveSeen.at(-1) as string;

      await t1.query('COMMIT');

      // Visible once no transaction anywhere on the server is older than T1 (other test files
      // share the server): wait for it rather than assume it.
      await waitFor(async () => (await readOutboxBatch(db, position, 100)).length === 2, {
        timeoutMs: 10_000,
        describe: () => 'the late-committed rows did not become visible',
      });
      const afterCommit = await readOutboxBatch(db, position, 100);
      expect(afterCommit.map((m) => m.position.id)).toEqual([early, later]);
      expect(await naiveRead(naiveLast)).toEqual([]); // the naive reader never sees `early`
      const last = afterCommit.at(-1)?.position as OutboxPosition;
      expect(await advanceOutboxCheckpoint(db, 'late-commit-test', position, last)).toBe(true);
      position = last;
      expect(await readOutboxBatch(db, position, 100)).toEqual([]);
    } finally {
      await Promise.all([t1.end(), t2.end()]);
    }
  });

  it('advances the checkpoint only by compare-and-set', async () => {
    const start = await readOutboxCheckpoint(db, 'cas-test');
    expect(start).toEqual(OUTBOX_START);
    const next = { transactionId: '5', id: '7' };
    expect(await advanceOutboxCheckpoint(db, 'cas-test', start, next)).toBe(true);
    expect(await advanceOutboxCheckpoint(db, 'cas-test', start, { transactionId: '6', id: '1' })).toBe(false);
    expect(await readOutboxCheckpoint(db, 'cas-test')).toEqual(next);
  });

  it('reports lag and removes only published rows', async () => {
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    try {
      const name = 'retention-test';
      let position = await readOutboxCheckpoint(db, name);
      // Every committed row visible first (a transaction of another test file can hold them back).
      const committed = async () =>
        Number(
          (await db.selectFrom('outbox').select(db.fn.countAll<string>().as('n')).executeTakeFirstOrThrow())
            .n,
        );
      await waitFor(async () => (await readOutboxBatch(db, position, 1000)).length === (await committed()), {
        timeoutMs: 10_000,
        describe: () => 'committed outbox rows did not become visible',
      });
      const all = await readOutboxBatch(db, position, 1000);
      expect(await advanceOutboxCheckpoint(db, name, position, all.at(-1)?.position ?? position)).toBe(true);
      position = all.at(-1)?.position ?? position;
      await insertRow(c, 'r1');
      await insertRow(c, 'r2');
      await waitFor(async () => (await outboxLag(db, name)).rows === 2, {
        timeoutMs: 10_000,
        describe: () => 'the two new rows did not show as lag',
      });
      const lag = await outboxLag(db, name);
      expect(lag.rows).toBe(2);
      const before = await db
        .selectFrom('outbox')
        .select(db.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      const deleted = await deletePublishedOutbox(db, name);
      expect(deleted).toBe(all.length);
      const after = await db
        .selectFrom('outbox')
        .select(db.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(after.n)).toBe(Number(before.n) - deleted);
      const rest = await readOutboxBatch(db, position, 100);
      expect(rest.map((m) => m.key)).toEqual(['r1', 'r2']);
    } finally {
      await c.end();
    }
  });

  it('refuses to publish a row whose event is not in the ledger, instead of an empty message', async () => {
    const eventId = randomUUID();
    const { rows } = await sql<{ id: string }>`
      INSERT INTO outbox (event_id, message_key, topic, type, schema_version)
      VALUES (${eventId}::uuid, 'dangling', 't', 'X.v1', 1) RETURNING id`.execute(db);
    try {
      await expect(readOutboxBatch(db, OUTBOX_START, 100_000)).rejects.toThrow(
        `announces event ${eventId}, which is not in the ledger`,
      );
    } finally {
      await sql`DELETE FROM outbox WHERE id = ${rows[0]?.id}::bigint`.execute(db);
    }
  });
});
