import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kysely, PostgresDialect, sql, type Generated } from 'kysely';
import pg from 'pg';
import { createTestDatabase, createTestTopic, testKafka, waitFor, type TestDatabase } from './vitest.ts';

interface Db {
  notes: { id: Generated<number>; body: string };
}

describe('PostgreSQL from the harness', () => {
  let database: TestDatabase;
  let db: Kysely<Db>;

  beforeAll(async () => {
    database = await createTestDatabase('harness');
    db = new Kysely<Db>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url }) }),
    });
    await sql`CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)`.execute(db);
  });
  afterAll(async () => {
    await db.destroy();
    await database.drop();
  });

  it('commits a kysely transaction and rolls back a failed one', async () => {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('notes').values({ body: 'kept' }).execute();
    });
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('notes').values({ body: 'rolled back' }).execute();
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const rows = await db.selectFrom('notes').select('body').execute();
    expect(rows).toEqual([{ body: 'kept' }]);
  });

  it('runs a real server with fsync on', async () => {
    const { rows } = await sql<{ fsync: string }>`SELECT current_setting('fsync') AS fsync`.execute(db);
    expect(rows[0]?.fsync).toBe('on');
  });
});

describe('Kafka from the harness', () => {
  it('round-trips keys, headers and per-key order through a consumer group', async () => {
    const topic = await createTestTopic('harness', 3);
    const kafka = testKafka('harness');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const keys = ['pay_a', 'pay_b', 'pay_c', 'pay_d'];
    const perKey = 25;
    const messages = keys.flatMap((key) =>
      Array.from({ length: perKey }, (_, seq) => ({
        key,
        value: JSON.stringify({ seq }),
        headers: { 'event-id': `${key}-${seq}` },
      })),
    );
    // Interleave keys so order is really per key, not per batch.
    messages.sort((a, b) => JSON.parse(a.value).seq - JSON.parse(b.value).seq);
    await producer.send({ topic, acks: -1, messages });
    await producer.disconnect();

    const seen = new Map<string, Array<{ seq: number; eventId: string; partition: number }>>();
    const consumer = kafka.consumer({ groupId: `${topic}.group` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let count = 0;
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        const key = message.key?.toString() ?? '';
        const list = seen.get(key) ?? [];
        list.push({
          seq: JSON.parse(message.value?.toString() ?? '{}').seq,
          eventId: message.headers?.['event-id']?.toString() ?? '',
          partition,
        });
        seen.set(key, list);
        count++;
      },
    });
    try {
      await waitFor(async () => count >= messages.length, {
        timeoutMs: 30_000,
        describe: () => `consumed ${count} of ${messages.length} messages`,
      });
    } finally {
      await consumer.disconnect();
    }
    expect([...seen.keys()].sort()).toEqual(keys);
    for (const key of keys) {
      const list = seen.get(key) ?? [];
      expect(list.map((m) => m.seq)).toEqual(Array.from({ length: perKey }, (_, i) => i));
      expect(list.map((m) => m.eventId)).toEqual(list.map((m) => `${key}-${m.seq}`));
      expect(new Set(list.map((m) => m.partition)).size).toBe(1);
    }
  });
});
