import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { freePort, waitFor } from '@payledger/testkit';
import { createTestDatabase, type TestDatabase } from '@payledger/testkit/vitest';
import {
  CommandBatcher,
  executeCommands,
  migrateToLatest,
  openDatabase,
  OUTBOX_CHANNEL,
  OutboxHint,
  type CommandRequest,
  type Database,
} from '../index.ts';

const TOPIC = 'ledger.events';

function create(
  streamId: string,
  key: string | null = `k-${randomBytes(6).toString('hex')}`,
): CommandRequest {
  return {
    caller: 'svc-a',
    idempotencyKey: key,
    fingerprint: `create:${streamId}`,
    streamId,
    streamType: 'counter',
    metadata: { actor: 'svc-a', correlationId: `corr-${streamId}`, causationId: null },
    decide: () => ({
      events: [{ type: 'Added', data: { amount: '1' } }],
      respond: () => ({ statusCode: 201, body: { id: streamId } }),
    }),
  };
}

const stream = () => `s-${randomBytes(6).toString('hex')}`;
const settle = () => new Promise((r) => setTimeout(r, 300));

describe('the outbox hint (migration 0010)', () => {
  let database: TestDatabase;
  let db: Kysely<Database>;
  let listener: pg.Client;
  const heard: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('outboxhint');
    db = await openDatabase({ kind: 'postgres', url: database.url, poolSize: 6 });
    await migrateToLatest(db);
    listener = new pg.Client({ connectionString: database.url });
    await listener.connect();
    listener.on('notification', (n) => heard.push(n.channel));
    await listener.query(`LISTEN ${OUTBOX_CHANNEL}`);
  });
  afterAll(async () => {
    await listener?.end();
    await db?.destroy();
    await database?.drop();
  });

  it('no longer comes from the transaction that writes outbox rows', async () => {
    const { rows } = await listener.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_trigger WHERE tgrelid = 'outbox'::regclass AND NOT tgisinternal`,
    );
    expect(Number(rows[0]?.n)).toBe(0);
    heard.length = 0;
    const [result] = await executeCommands(db, [create(stream())], { topic: TOPIC });
    expect(result?.ok).toBe(true);
    await settle();
    expect(heard).toEqual([]);
  });

  it('is sent after a group commit that appended events, and not after one of replays only', async () => {
    const hint = new OutboxHint(db);
    let committed = 0;
    const batcher = new CommandBatcher(db, {
      topic: TOPIC,
      onCommitted: () => {
        committed++;
        hint.poke();
      },
    });
    heard.length = 0;
    const id = stream();
    await batcher.submit(create(id, 'hint-key-1'));
    expect(committed).toBe(1);
    await waitFor(async () => heard.length === 1, {
      timeoutMs: 5_000,
      describe: () => 'no notification after the commit',
    });
    // The same key again: a replay, nothing appended, nothing to tell the relay.
    const replay = await batcher.submit(create(id, 'hint-key-1'));
    expect(replay.kind).toBe('replayed');
    expect(committed).toBe(1);
    await hint.close();
    await settle();
    expect(heard).toEqual([OUTBOX_CHANNEL]);
    expect(hint.sent).toBe(1);
  });

  it('coalesces pokes: one hint in flight, one more after it for everything meanwhile', async () => {
    const hint = new OutboxHint(db);
    heard.length = 0;
    for (let i = 0; i < 100; i++) hint.poke();
    await hint.close();
    expect(hint.sent).toBe(2);
    await waitFor(async () => heard.length === 2, {
      timeoutMs: 5_000,
      describe: () => `heard ${heard.length} notifications`,
    });
    hint.poke(); // closed: ignored
    await settle();
    expect(hint.sent).toBe(2);
    expect(heard.length).toBe(2);
  });

  it('reports a failed hint instead of throwing (the relay polls anyway)', async () => {
    // A server that is not there (nothing listens on a free port): the hint's connection fails.
    const gone = await openDatabase({
      kind: 'postgres',
      url: `postgres://ledger:secret@127.0.0.1:${await freePort()}/ledger`,
      poolSize: 1,
    });
    try {
      const errors: unknown[] = [];
      const hint = new OutboxHint(gone, { onError: (e) => errors.push(e) });
      expect(() => hint.poke()).not.toThrow();
      await hint.close();
      expect(errors).toHaveLength(1);
      expect(hint.sent).toBe(0);
    } finally {
      await gone.destroy();
    }
  });

  it('does nothing on PGlite (the embedded relay polls)', async () => {
    const embedded = await openDatabase({ kind: 'pglite', dataDir: null });
    try {
      const hint = new OutboxHint(embedded);
      hint.poke();
      await hint.close();
      expect(hint.sent).toBe(0);
    } finally {
      await embedded.destroy();
    }
  });
});
