import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { createTestDatabase, type TestDatabase } from '@payledger/testkit/vitest';
import {
  CommandBatcher,
  executeCommands,
  migrateToLatest,
  openDatabase,
  readStream,
  verifyStreams,
  type CommandRequest,
  type Database,
  type EventStoreError,
  type StoredEvent,
} from '../index.ts';

const TOPIC = 'ledger.events';

/** Appends one `Added` event; records the history it was decided on in `seen`. */
function add(
  streamId: string,
  seen: (readonly StoredEvent[])[],
  knownHistory?: readonly StoredEvent[],
): CommandRequest {
  return {
    caller: 'svc-known',
    idempotencyKey: null,
    fingerprint: 'add',
    streamId,
    streamType: 'counter',
    knownHistory,
    metadata: { actor: 'svc-known', correlationId: `corr-${streamId}`, causationId: null },
    decide(history) {
      seen.push(history);
      return {
        events: [{ type: 'Added', data: { n: String(history.length + 1) } }],
        respond: () => ({ statusCode: 200, body: null }),
      };
    },
  };
}

const stream = () => `known-${randomBytes(4).toString('hex')}`;

async function appendOne(db: Kysely<Database>, id: string, known?: readonly StoredEvent[]) {
  const seen: (readonly StoredEvent[])[] = [];
  const [result] = await executeCommands(db, [add(id, seen, known)], { topic: TOPIC });
  return { result, decidedOn: seen[0] ?? [] };
}

function knownHistoryCases(open: () => Kysely<Database>) {
  it('decides on the history the caller holds, read again only after its last version', async () => {
    const db = open();
    const id = stream();
    await appendOne(db, id);
    await appendOne(db, id);
    const held = await readStream(db, id);
    const { result, decidedOn } = await appendOne(db, id, held);
    expect(result?.ok).toBe(true);
    // The held events themselves, not a fresh read of them.
    expect(decidedOn).toHaveLength(2);
    expect(decidedOn[0]).toBe(held[0]);
    expect(decidedOn[1]).toBe(held[1]);
    const stored = await readStream(db, id);
    expect(stored.map((e) => e.data['n'])).toEqual(['1', '2', '3']);
    expect(verifyStreams(stored)).toEqual([]);
  });

  it('adds what another writer appended after the held history before deciding', async () => {
    const db = open();
    const id = stream();
    await appendOne(db, id);
    const stale = await readStream(db, id);
    await appendOne(db, id); // another writer, after the copy was taken
    const { result, decidedOn } = await appendOne(db, id, stale);
    expect(result?.ok).toBe(true);
    expect(decidedOn.map((e) => e.streamVersion)).toEqual([1, 2]);
    const stored = await readStream(db, id);
    expect(stored.map((e) => e.data['n'])).toEqual(['1', '2', '3']);
    expect(verifyStreams(stored)).toEqual([]);
  });

  it('fails a command whose held history is not the stored chain, writing nothing for it', async () => {
    const db = open();
    const id = stream();
    const other = stream();
    await appendOne(db, id);
    const [first] = await readStream(db, id);
    const forged = [{ ...(first as StoredEvent), hash: 'f'.repeat(64) }];
    const seen: (readonly StoredEvent[])[] = [];
    const results = await executeCommands(db, [add(id, seen, forged), add(other, seen)], { topic: TOPIC });
    expect(!results[0]?.ok && (results[0]?.error as EventStoreError).code).toBe('stream_version_conflict');
    expect(results[1]?.ok).toBe(true); // the rest of the batch is not affected
    expect(await readStream(db, id)).toHaveLength(1);
    // A copy claiming more events than the stream has fails the same way.
    const longer = [first as StoredEvent, { ...(first as StoredEvent), streamVersion: 2 }];
    const [tooLong] = await executeCommands(db, [add(id, seen, longer)], { topic: TOPIC });
    expect(!tooLong?.ok && (tooLong?.error as EventStoreError).code).toBe('stream_version_conflict');
    expect(await readStream(db, id)).toHaveLength(1);
  });

  it('serializes writers that hold a history with writers that hold none, losing no update', async () => {
    const db = open();
    const id = stream();
    await appendOne(db, id);
    const held = await readStream(db, id);
    const batcher = new CommandBatcher(db, { topic: TOPIC, maxBatch: 3, maxInFlight: 4 });
    const seen: (readonly StoredEvent[])[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => batcher.submit(add(id, seen, i % 2 === 0 ? held : undefined))),
    );
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    const stored = await readStream(db, id);
    expect(stored.map((e) => e.streamVersion)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    // Each command decided on the whole stream as it stood: n = its version.
    expect(stored.every((e) => e.data['n'] === String(e.streamVersion))).toBe(true);
    expect(verifyStreams(stored)).toEqual([]);
  });
}

describe('known history on PostgreSQL', () => {
  let database: TestDatabase;
  let db: Kysely<Database>;
  beforeAll(async () => {
    database = await createTestDatabase('knownhist');
    db = await openDatabase({ kind: 'postgres', url: database.url, poolSize: 8 });
    await migrateToLatest(db);
  });
  afterAll(async () => {
    await db.destroy();
    await database.drop();
  });
  knownHistoryCases(() => db);
});

describe('known history on PGlite (embedded mode)', () => {
  let db: Kysely<Database>;
  beforeAll(async () => {
    db = await openDatabase({ kind: 'pglite', dataDir: null });
    await migrateToLatest(db);
  });
  afterAll(async () => db.destroy());
  knownHistoryCases(() => db);
});
