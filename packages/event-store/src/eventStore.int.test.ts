import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { randomBytes, randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@payledger/testkit/vitest';
import type { EventStoreError } from './index.ts';
import {
  CommandBatcher,
  executeCommands,
  migrateToLatest,
  openDatabase,
  OUTBOX_START,
  outboxRow,
  readOutboxBatch,
  readStream,
  verifyStreams,
  type CommandRequest,
  type Database,
  type StoredEvent,
} from './index.ts';

const TOPIC = 'ledger.events';

/** A counter stream: `add` appends one event; refuses to go above `max`. */
function addCommand(
  streamId: string,
  amount: number,
  opts: { key?: string | null; caller?: string; expectedVersion?: number; max?: number } = {},
): CommandRequest {
  return {
    caller: opts.caller ?? 'svc-a',
    idempotencyKey: opts.key === undefined ? `k-${randomBytes(6).toString('hex')}` : opts.key,
    fingerprint: `add:${streamId}:${amount}`,
    streamId,
    streamType: 'counter',
    expectedVersion: opts.expectedVersion,
    metadata: { actor: opts.caller ?? 'svc-a', correlationId: `corr-${streamId}`, causationId: null },
    decide(history: readonly StoredEvent[]) {
      const total = history.reduce((t, e) => t + Number(e.data['amount']), 0);
      if (opts.max !== undefined && total + amount > opts.max) throw new Error('over the limit');
      return {
        events: [{ type: 'Added', data: { amount: String(amount) } }],
        respond: (appended) => ({
          statusCode: 201,
          body: { total: total + amount, version: appended.at(-1)?.streamVersion },
        }),
      };
    },
  };
}

/** What the relay would publish for these events (readOutboxBatch), in outbox order. */
async function publishedForms(db: Kysely<Database>, eventIds: readonly string[]) {
  const wanted = new Set(eventIds);
  const all = await readOutboxBatch(db, OUTBOX_START, 1_000_000);
  return all
    .filter((m) => wanted.has(m.eventId))
    .map((m) => ({ payload: JSON.parse(m.value) as unknown, headers: m.headers }));
}

describe('event store on PostgreSQL', () => {
  let database: TestDatabase;
  let db: Kysely<Database>;

  beforeAll(async () => {
    database = await createTestDatabase('evstore');
    db = await openDatabase({ kind: 'postgres', url: database.url, poolSize: 20 });
    await migrateToLatest(db);
    await migrateToLatest(db); // idempotent
  });
  afterAll(async () => {
    await db.destroy();
    await database.drop();
  });

  it('keeps only the indexes something reads on events (each costs every append an entry and its WAL)', async () => {
    const { rows } = await sql<{ indexname: string }>`
      SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'events' ORDER BY indexname`.execute(
      db,
    );
    expect(rows.map((r) => r.indexname)).toEqual([
      'events_event_id_key', // event ids are unique
      'events_pkey', // position: audit replay, the global order
      'events_stream_id_stream_version_key', // reading a stream; its versions are unique
      'events_visibility', // (transaction_id, position): tailing events in commit order
    ]);
  });

  /** Another session's open transaction holding `key` (caller svc-a) stored but uncommitted. */
  async function holdKeyUncommitted(key: string, fingerprint: string, total: number): Promise<pg.Client> {
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    await other.query('BEGIN');
    await other.query(
      `INSERT INTO idempotency_keys (caller, key, fingerprint, status_code, response) VALUES ('svc-a', $1, $2, 201, $3)`,
      [key, fingerprint, JSON.stringify({ total })],
    );
    return other;
  }

  /** Waits until `count` sessions of this database wait on a lock (polled from another session:
   *  pg_stat_activity is a snapshot for a whole transaction). */
  async function waitForLockWaiters(count: number, what: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { rows } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND datname = current_database()`.execute(db);
      if ((rows[0]?.n ?? 0) >= count) return;
      if (Date.now() > deadline) throw new Error(`${what} never waited on the uncommitted key`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it("writes a command's inbox row with its outcome, and none for a command that failed", async () => {
    const stream = `s-${randomBytes(4).toString('hex')}`;
    const [okId, noneId, failedId] = [randomUUID(), randomUUID(), randomUUID()];
    const inbox = (eventId: string) => ({
      eventId,
      eventType: 'Work.v1',
      streamId: stream,
      outcome: 'applied',
    });
    const nothing: CommandRequest = {
      ...addCommand(stream, 0),
      decide: () => ({ events: [], respond: () => ({ statusCode: 200, body: null }) }),
      inbox: inbox(noneId),
    };
    const results = await executeCommands(
      db,
      [
        { ...addCommand(stream, 5, { max: 10 }), inbox: inbox(okId) },
        nothing,
        { ...addCommand(stream, 50, { max: 10 }), inbox: inbox(failedId) },
      ],
      { topic: TOPIC },
    );
    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    const rows = await db
      .selectFrom('executor_inbox')
      .select(['event_id', 'outcome'])
      .where('stream_id', '=', stream)
      .execute();
    expect(rows.map((r) => r.event_id).sort()).toEqual([okId, noneId].sort());
    // Written once: a second delivery of the same message keeps the first row.
    await executeCommands(db, [{ ...nothing, inbox: { ...inbox(okId), outcome: 'again' } }], {
      topic: TOPIC,
    });
    const again = await db
      .selectFrom('executor_inbox')
      .select('outcome')
      .where('event_id', '=', okId)
      .execute();
    expect(again).toEqual([{ outcome: 'applied' }]);
  });

  // The batch travels as one SQL constant on the two-round-trip path and as a prepared
  // statement's parameter on the new-stream path: both must carry any content unchanged.
  it.each([
    ['a dollar-quoted constant', false],
    ['a statement parameter (new stream)', true],
  ])('stores quotes, backslashes and any Unicode exactly as given, through %s', async (_, newStream) => {
    const stream = `s-${randomBytes(4).toString('hex')}`;
    const tricky = `it's "quoted" \\ back\\slash \\' E'' $$ $b$ $b0123456789ab$ $$; COMMIT; -- ünïcødé 💳 \n\t$`;
    const request: CommandRequest = {
      ...addCommand(stream, 1),
      newStream,
      decide: () => ({
        events: [{ type: 'Noted', data: { text: tricky, [tricky]: 'key' } }],
        respond: () => ({ statusCode: 201, body: { echo: tricky } }),
      }),
    };
    const spy = vi.spyOn(pg.Client.prototype, 'query');
    let prepared: boolean[];
    let result;
    try {
      [result] = await executeCommands(db, [request], { topic: TOPIC });
      prepared = spy.mock.calls.map((call) => typeof call[0] !== 'string');
    } finally {
      spy.mockRestore();
    }
    // The path named in the title was taken: a prepared statement only on the new-stream path.
    expect(prepared).toEqual(newStream ? [true] : [false, false]);
    expect(result?.ok && result.value.response.body).toEqual({ echo: tricky });
    const [stored] = await readStream(db, stream);
    expect(stored?.data).toEqual({ text: tricky, [tricky]: 'key' });
    expect(verifyStreams(await readStream(db, stream))).toEqual([]);
    // The replay returns the stored response byte for byte.
    const [replay] = await executeCommands(db, [request], { topic: TOPIC });
    expect(replay?.ok && replay.value).toEqual({
      kind: 'replayed',
      response: { statusCode: 201, body: { echo: tricky } },
    });
  });

  it('appends events and outbox rows in one transaction, hash-chained per stream', async () => {
    const stream = `s-${randomBytes(4).toString('hex')}`;
    const [first] = await executeCommands(db, [addCommand(stream, 5)], { topic: TOPIC });
    const [second] = await executeCommands(db, [addCommand(stream, 7)], { topic: TOPIC });
    expect(first?.ok && first.value.kind).toBe('applied');
    expect(second?.ok && second.value.response).toEqual({ statusCode: 201, body: { total: 12, version: 2 } });
    const events = await readStream(db, stream);
    expect(events.map((e) => e.streamVersion)).toEqual([1, 2]);
    expect(events[1]?.prevHash).toBe(events[0]?.hash);
    expect(verifyStreams(events)).toEqual([]);
    const outbox = await db
      .selectFrom('outbox')
      .selectAll()
      .where('message_key', '=', stream)
      .orderBy('id')
      .execute();
    expect(outbox.map((o) => o.event_id)).toEqual(events.map((e) => e.eventId));
    expect(outbox[0]?.transaction_id).toBe(events[0]?.transactionId);
    // A row is the announcement only (migration 0011): no second copy of the event.
    expect(outbox.map((o) => [o.payload, o.headers])).toEqual(events.map(() => [null, null]));
    const rows = events.map((e) => outboxRow(e, { topic: TOPIC }));
    expect(
      outbox.map((o) => ({
        event_id: o.event_id,
        message_key: o.message_key,
        topic: o.topic,
        type: o.type,
        schema_version: o.schema_version,
      })),
    ).toEqual(rows.map(({ payload: _p, headers: _h, ...row }) => row));
    // What the relay publishes, built from the events, is exactly the form outboxRow() defines.
    expect(
      await publishedForms(
        db,
        events.map((e) => e.eventId),
      ),
    ).toEqual(rows.map((r) => ({ payload: r.payload, headers: r.headers })));
  });

  it('replays the original response for the same key and body, appending nothing', async () => {
    const stream = `s-${randomBytes(4).toString('hex')}`;
    const command = addCommand(stream, 3, { key: 'same-key' });
    const [a] = await executeCommands(db, [command], { topic: TOPIC });
    const [b] = await executeCommands(db, [command], { topic: TOPIC });
    expect(a?.ok && a.value.kind).toBe('applied');
    expect(b?.ok && b.value).toEqual({
      kind: 'replayed',
      response: { statusCode: 201, body: { total: 3, version: 1 } },
    });
    expect(await readStream(db, stream)).toHaveLength(1);
  });

  it('refuses the same key with a different body, and scopes keys per caller', async () => {
    const stream = `s-${randomBytes(4).toString('hex')}`;
    await executeCommands(db, [addCommand(stream, 3, { key: 'k1' })], { topic: TOPIC });
    const [reused] = await executeCommands(db, [addCommand(stream, 4, { key: 'k1' })], { topic: TOPIC });
    expect(reused?.ok).toBe(false);
    expect(!reused?.ok && (reused?.error as EventStoreError).code).toBe('idempotency_key_reused');
    const [otherCaller] = await executeCommands(db, [addCommand(stream, 4, { key: 'k1', caller: 'svc-b' })], {
      topic: TOPIC,
    });
    expect(otherCaller?.ok && otherCaller.value.kind).toBe('applied');
    expect(await readStream(db, stream)).toHaveLength(2);
  });

  it('applies concurrent duplicates exactly once', async () => {
    const stream = `s-${randomBytes(4).toString('hex')}`;
    const command = addCommand(stream, 1, { key: 'dup' });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => executeCommands(db, [command], { topic: TOPIC })),
    );
    const kinds = results.map(([r]) => (r?.ok ? r.value.kind : 'error'));
    expect(kinds.filter((k) => k === 'applied')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'replayed')).toHaveLength(19);
    expect(await readStream(db, stream)).toHaveLength(1);
  });

  it('applies concurrent duplicates exactly once when they would write different streams', async () => {
    // Nothing but the key's primary key can stop these (each would create its own stream, as a
    // create command with a fresh id does): every transaction but one fails on it, is run again
    // and replays. Two keys in opposite orders in the batches, so that key order matters too.
    const tag = randomBytes(4).toString('hex');
    const streams: string[] = [];
    const batch = (n: number): CommandRequest[] => {
      const pair = ['a', 'b'].map((key) => {
        const stream = `s-${tag}-${key}-${n}`;
        streams.push(stream);
        return { ...addCommand(stream, 1, { key: `dup-${tag}-${key}` }), fingerprint: `dup-${key}` };
      });
      return n % 2 === 0 ? pair : pair.reverse();
    };
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, n) => executeCommands(db, batch(n), { topic: TOPIC })),
    );
    const kinds = results.flat().map((r) => (r.ok ? r.value.kind : (r.error as Error).message));
    expect(kinds.filter((k) => k === 'applied')).toHaveLength(2);
    expect(kinds.filter((k) => k === 'replayed')).toHaveLength(22);
    const written = await db
      .selectFrom('events')
      .select('stream_id')
      .where('stream_id', 'in', streams)
      .execute();
    expect(written).toHaveLength(2);
    const keys = await db
      .selectFrom('idempotency_keys')
      .select(['key', 'status_code'])
      .where('key', 'like', `dup-${tag}-%`)
      .orderBy('key')
      .execute();
    expect(keys).toEqual([
      { key: `dup-${tag}-a`, status_code: 201 },
      { key: `dup-${tag}-b`, status_code: 201 },
    ]);
  });

  it('replays a key that a concurrent transaction stored while the batch was deciding', async () => {
    // The other transaction holds the key uncommitted: these batches read no stored key, decide,
    // and wait on the key's primary key as they write; its COMMIT fails them all on the unique
    // index, and each is run again and replays the stored response.
    const key = `late-${randomBytes(4).toString('hex')}`;
    const other = await holdKeyUncommitted(key, 'fp-late', 42);
    try {
      const running = Array.from({ length: 4 }, (_, n) =>
        executeCommands(
          db,
          [
            { ...addCommand(`s-${key}-${n}`, 1, { key }), fingerprint: 'fp-late' },
            addCommand(`s-${key}-other-${n}`, 1),
          ],
          { topic: TOPIC },
        ),
      );
      await waitForLockWaiters(4, 'the batches');
      await other.query('COMMIT');
      const results = await Promise.all(running);
      for (const [dup, fresh] of results) {
        expect(dup?.ok && dup.value).toEqual({
          kind: 'replayed',
          response: { statusCode: 201, body: { total: 42 } },
        });
        expect(fresh?.ok && fresh.value.kind).toBe('applied');
      }
      const written = await db
        .selectFrom('events')
        .select('stream_id')
        .where('stream_id', 'like', `s-${key}-%`)
        .orderBy('stream_id')
        .execute();
      expect(written.map((r) => r.stream_id)).toEqual([0, 1, 2, 3].map((n) => `s-${key}-other-${n}`));
    } finally {
      await other.end();
    }
  });

  describe('new-stream batches (one round trip, migration 0008)', () => {
    const fresh = (key: string | null, opts: { fingerprint?: string } = {}): CommandRequest => ({
      ...addCommand(`n-${randomBytes(8).toString('hex')}`, 5, { key }),
      // The request, not the stream drawn for it: a retry draws another stream id.
      fingerprint: opts.fingerprint ?? 'add 5 to a new counter',
      newStream: true,
    });
    const eventsOf = async (streams: string[]) =>
      (await db.selectFrom('events').select('stream_id').where('stream_id', 'in', streams).execute()).map(
        (r) => r.stream_id,
      );
    /** Queries sent by pg clients while `run` runs. */
    async function countQueries<T>(
      run: () => Promise<T>,
    ): Promise<{ value: T; queries: number; sent: unknown[] }> {
      const spy = vi.spyOn(pg.Client.prototype, 'query');
      try {
        const value = await run();
        return { value, queries: spy.mock.calls.length, sent: spy.mock.calls.map((call) => call[0]) };
      } finally {
        spy.mockRestore();
      }
    }

    it('writes events, outbox rows and keys in one query, as the two-round-trip path does', async () => {
      const requests = [fresh(null), fresh(null)].map((r, n) => ({
        ...r,
        idempotencyKey: `nk-${randomUUID()}-${n}`,
      }));
      const {
        value: results,
        queries,
        sent,
      } = await countQueries(() => executeCommands(db, requests, { topic: TOPIC }));
      expect(queries).toBe(1);
      // A prepared statement with the batch as its parameter: nothing of the batch is SQL text.
      const [query] = sent as { name?: string; text?: string; values?: string[] }[];
      expect(query?.name).toBe('ledger_append_new_batch');
      expect(query?.text).not.toContain(requests[0]?.idempotencyKey);
      expect(
        (JSON.parse(query?.values?.[0] ?? '{}') as { keys: { key: string }[] }).keys.map((k) => k.key),
      ).toEqual(requests.map((r) => r.idempotencyKey));
      for (const [n, result] of results.entries()) {
        expect(result?.ok && result.value.kind).toBe('applied');
        const [event] = await readStream(db, (requests[n] as CommandRequest).streamId);
        expect(event?.streamVersion).toBe(1);
        expect(event?.position).toBe(
          result?.ok && result.value.kind === 'applied' && result.value.events[0]?.position,
        );
        expect(verifyStreams([event as StoredEvent])).toEqual([]);
        const row = outboxRow(event as StoredEvent, { topic: TOPIC });
        expect(await publishedForms(db, [event?.eventId ?? ''])).toEqual([
          { payload: row.payload, headers: row.headers },
        ]);
      }
      // The same batch sent the usual way takes two round trips (BEGIN + read, write + COMMIT).
      const usual = requests.map((r) => ({
        ...r,
        newStream: false,
        idempotencyKey: `${r.idempotencyKey}-usual`,
        streamId: `${r.streamId}-u`,
      }));
      expect((await countQueries(() => executeCommands(db, usual, { topic: TOPIC }))).queries).toBe(2);
    });

    it('replays a key used before and writes nothing of the retried command', async () => {
      const key = `nk-${randomUUID()}`;
      const first = fresh(key);
      const [applied] = await executeCommands(db, [first], { topic: TOPIC });
      // A retry draws a new stream id (as a retried create draws a new payment id).
      const retry = fresh(key);
      // With a new command in the same batch: it wins its key and is written (migration 0012's
      // path for a batch that did not win every key).
      const other = fresh(`nk-${randomUUID()}`);
      const [replay, otherResult] = await executeCommands(db, [retry, other], { topic: TOPIC });
      expect(replay?.ok && replay.value).toEqual({
        kind: 'replayed',
        response: applied?.ok ? applied.value.response : null,
      });
      expect(otherResult?.ok && otherResult.value.kind).toBe('applied');
      expect((await eventsOf([first.streamId, retry.streamId, other.streamId])).sort()).toEqual(
        [first.streamId, other.streamId].sort(),
      );
      const outboxed = await db
        .selectFrom('outbox')
        .select('message_key')
        .where('message_key', 'in', [retry.streamId, other.streamId])
        .execute();
      expect(outboxed.map((r) => r.message_key)).toEqual([other.streamId]);
    });

    it('refuses a key used before with a different request, writing nothing', async () => {
      const key = `nk-${randomUUID()}`;
      await executeCommands(db, [fresh(key)], { topic: TOPIC });
      const other = fresh(key, { fingerprint: 'another request' });
      const [refused] = await executeCommands(db, [other], { topic: TOPIC });
      expect(refused?.ok).toBe(false);
      expect(!refused?.ok && (refused?.error as EventStoreError).code).toBe('idempotency_key_reused');
      expect(await eventsOf([other.streamId])).toEqual([]);
    });

    it('answers in-batch duplicates of a key with one command applied and the rest replaying it', async () => {
      const key = `nk-${randomUUID()}`;
      const batch = [fresh(key), fresh(key), fresh(key)];
      const results = await executeCommands(db, batch, { topic: TOPIC });
      expect(results.map((r) => r.ok && r.value.kind)).toEqual(['applied', 'replayed', 'replayed']);
      expect(new Set(results.map((r) => JSON.stringify(r.ok && r.value.response))).size).toBe(1);
      expect(await eventsOf(batch.map((r) => r.streamId))).toEqual([batch[0]?.streamId]);
    });

    it('waits for a transaction holding its key: replays it if it commits, applies if it rolls back', async () => {
      for (const ending of ['COMMIT', 'ROLLBACK'] as const) {
        const key = `nk-${randomUUID()}`;
        const other = await holdKeyUncommitted(key, 'fp-held', 7);
        try {
          const request = { ...fresh(key), fingerprint: 'fp-held' };
          const alongside = fresh(`nk-${randomUUID()}`);
          // Its duplicate rides in the same batch: it must follow whatever the key turns out to be.
          const follower = { ...fresh(key), fingerprint: 'fp-held' };
          const running = executeCommands(db, [request, alongside, follower], { topic: TOPIC });
          await waitForLockWaiters(1, 'the new-stream batch');
          await other.query(ending);
          const [held, free, dup] = await running;
          expect(free?.ok && free.value.kind).toBe('applied');
          if (ending === 'COMMIT') {
            expect(held?.ok && held.value).toEqual({
              kind: 'replayed',
              response: { statusCode: 201, body: { total: 7 } },
            });
            expect(dup?.ok && dup.value).toEqual({
              kind: 'replayed',
              response: { statusCode: 201, body: { total: 7 } },
            });
            expect(await eventsOf([request.streamId, alongside.streamId, follower.streamId])).toEqual([
              alongside.streamId,
            ]);
          } else {
            expect(held?.ok && held.value.kind).toBe('applied');
            expect(dup?.ok && dup.value.kind).toBe('replayed');
            expect(
              (await eventsOf([request.streamId, alongside.streamId, follower.streamId])).sort(),
            ).toEqual([request.streamId, alongside.streamId].sort());
          }
        } finally {
          await other.end();
        }
      }
    });

    it('takes the usual path for a batch that also holds other commands', async () => {
      const stream = `s-${randomBytes(4).toString('hex')}`;
      await executeCommands(db, [addCommand(stream, 1)], { topic: TOPIC });
      const mixed = [fresh(`nk-${randomUUID()}`), addCommand(stream, 2)];
      const { value: results, queries } = await countQueries(() =>
        executeCommands(db, mixed, { topic: TOPIC }),
      );
      expect(queries).toBe(2);
      expect(results.map((r) => r.ok && r.value.kind)).toEqual(['applied', 'applied']);
      expect((await readStream(db, stream)).map((e) => e.streamVersion)).toEqual([1, 2]);
    });
  });

  it('fails a stale expected version with a typed conflict and stores nothing for it', async () => {
    const stream = `s-${randomBytes(4).toString('hex')}`;
    await executeCommands(db, [addCommand(stream, 1)], { topic: TOPIC });
    const [stale] = await executeCommands(db, [addCommand(stream, 1, { key: 'stale', expectedVersion: 0 })], {
      topic: TOPIC,
    });
    expect(!stale?.ok && (stale?.error as EventStoreError).code).toBe('stream_version_conflict');
    const keys = await db.selectFrom('idempotency_keys').select('key').where('key', '=', 'stale').execute();
    expect(keys).toEqual([]);
    const [fresh] = await executeCommands(db, [addCommand(stream, 1, { key: 'stale', expectedVersion: 1 })], {
      topic: TOPIC,
    });
    expect(fresh?.ok).toBe(true);
  });

  it('keeps per-command results exact inside one group commit', async () => {
    const stream = `s-${randomBytes(4).toString('hex')}`;
    const dup = addCommand(stream, 2, { key: 'in-batch' });
    const results = await executeCommands(
      db,
      [
        dup,
        addCommand(stream, 50, { max: 10 }),
        dup,
        addCommand(stream, 3),
        addCommand(stream, 2, { key: 'in-batch' }),
      ],
      { topic: TOPIC },
    );
    expect(results.map((r) => (r.ok ? r.value.kind : (r.error as Error).message))).toEqual([
      'applied',
      'over the limit',
      'replayed',
      'applied',
      'replayed',
    ]);
    const events = await readStream(db, stream);
    expect(events.map((e) => e.data['amount'])).toEqual(['2', '3']);
    expect(verifyStreams(events)).toEqual([]);
  });

  it('commits a lone command at once and what arrives meanwhile together, telling each batch size', async () => {
    const sizes: number[] = [];
    const batcher = new CommandBatcher(db, {
      topic: TOPIC,
      maxInFlight: 1,
      maxBatch: 100,
      onBatch: (n) => sizes.push(n),
    });
    const first = batcher.submit(addCommand(`s-${randomBytes(4).toString('hex')}`, 1));
    expect(sizes).toEqual([1]); // an idle ledger does not wait for company
    const meanwhile = Array.from({ length: 10 }, () =>
      batcher.submit(addCommand(`s-${randomBytes(4).toString('hex')}`, 1)),
    );
    const results = await Promise.all([first, ...meanwhile]);
    expect(results.every((r) => r.kind === 'applied')).toBe(true);
    expect(sizes).toEqual([1, 10]);
  });

  it('serializes concurrent writers of one stream through the batcher without losing an update', async () => {
    const stream = `s-${randomBytes(4).toString('hex')}`;
    const batcher = new CommandBatcher(db, { topic: TOPIC, maxInFlight: 4, maxBatch: 8 });
    const results = await Promise.all(
      Array.from({ length: 60 }, () => batcher.submit(addCommand(stream, 1))),
    );
    expect(results.every((r) => r.kind === 'applied')).toBe(true);
    const events = await readStream(db, stream);
    expect(events.map((e) => e.streamVersion)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(verifyStreams(events)).toEqual([]);
  });

  it('pipelines batches: the next one reads and commits while the one before is still writing', async () => {
    // Batch 1's write waits on a key another transaction holds uncommitted; batch 2, submitted
    // after batch 1 started writing, must not wait for it. With one transaction in flight it would.
    const key = `pipe-${randomBytes(4).toString('hex')}`;
    const batcher = new CommandBatcher(db, { topic: TOPIC, maxInFlight: 2, maxBatch: 100 });
    const other = await holdKeyUncommitted(key, 'fp-pipe', 7);
    try {
      const first = batcher.submit({ ...addCommand(`s-${key}-1`, 1, { key }), fingerprint: 'fp-pipe' });
      await waitForLockWaiters(1, 'batch 1');
      let firstDone = false;
      void first.then(() => (firstDone = true));
      const second = await Promise.race([
        batcher.submit(addCommand(`s-${key}-2`, 1)),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('batch 2 waited for batch 1: not pipelined')), 10_000),
        ),
      ]);
      expect(second.kind).toBe('applied');
      expect(firstDone).toBe(false);
      await other.query('COMMIT');
      expect(await first).toEqual({ kind: 'replayed', response: { statusCode: 201, body: { total: 7 } } });
    } finally {
      await other.end();
    }
  });

  it('lets new-stream commands through while a usual batch is still reading', async () => {
    // The usual batch blocks in its read on a stream lock another session holds; with one queue
    // the new-stream command would wait for that batch's reading turn.
    const stream = `s-${randomBytes(4).toString('hex')}`;
    const batcher = new CommandBatcher(db, { topic: TOPIC, maxInFlight: 2, maxBatch: 100 });
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT pg_advisory_xact_lock(1818584436, hashtext($1))', [stream]);
      const usual = batcher.submit(addCommand(stream, 1));
      await waitForLockWaiters(1, 'the usual batch');
      const fresh: CommandRequest = {
        ...addCommand(`n-${randomBytes(8).toString('hex')}`, 1),
        newStream: true,
      };
      const created = await Promise.race([
        batcher.submit(fresh),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('the new-stream command waited for the reading batch')), 10_000),
        ),
      ]);
      expect(created.kind).toBe('applied');
      await other.query('COMMIT');
      expect((await usual).kind).toBe('applied');
    } finally {
      await other.end();
    }
  });

  it('serializes concurrent transactions on one stream with its lock: every append lands, none conflicts', async () => {
    // Separate transactions (not one batcher): without the stream lock they would read the same
    // head, collide on (stream_id, stream_version) and exhaust their retries.
    const stream = `s-${randomBytes(4).toString('hex')}`;
    const results = await Promise.all(
      Array.from({ length: 16 }, () => executeCommands(db, [addCommand(stream, 1)], { topic: TOPIC })),
    );
    expect(results.map(([r]) => (r?.ok ? r.value.kind : String(r?.error)))).toEqual(
      Array.from({ length: 16 }, () => 'applied'),
    );
    const events = await readStream(db, stream);
    expect(events.map((e) => e.streamVersion)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(verifyStreams(events)).toEqual([]);
  });

  it('fails only the command PostgreSQL refuses, not the rest of its group commit', async () => {
    const streams = Array.from({ length: 6 }, () => `s-${randomBytes(4).toString('hex')}`);
    const batcher = new CommandBatcher(db, { topic: TOPIC, maxInFlight: 1, maxBatch: 100 });
    // jsonb cannot hold U+0000: this command fails its transaction (SQLSTATE 22P05).
    const refused: CommandRequest = {
      ...addCommand(streams[3] as string, 1),
      decide: () => ({
        events: [{ type: 'Noted', data: { text: 'nul \u0000 here' } }],
        respond: () => ({ statusCode: 201, body: null }),
      }),
    };
    const settled = await Promise.allSettled(
      streams.map((stream, i) => batcher.submit(i === 3 ? refused : addCommand(stream, 1))),
    );
    expect(settled.map((s) => s.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    for (const [i, stream] of streams.entries()) {
      expect((await readStream(db, stream)).length).toBe(i === 3 ? 0 : 1);
    }
  });

  it('detects a tampered event through its hash', async () => {
    const stream = `s-${randomBytes(4).toString('hex')}`;
    await executeCommands(db, [addCommand(stream, 1), addCommand(stream, 2)], { topic: TOPIC });
    const events = await readStream(db, stream);
    const tampered = events.map((e, i) => (i === 0 ? { ...e, data: { amount: '100' } } : e));
    expect(verifyStreams(tampered).map((b) => b.problem)).toEqual(['hash_mismatch']);
  });

  describe('append-only history', () => {
    it('refuses UPDATE, DELETE and TRUNCATE of events even for the owner (triggers)', async () => {
      const stream = `s-${randomBytes(4).toString('hex')}`;
      await executeCommands(db, [addCommand(stream, 1)], { topic: TOPIC });
      await expect(sql`UPDATE events SET type = 'X' WHERE stream_id = ${stream}`.execute(db)).rejects.toThrow(
        /append-only: UPDATE on events/,
      );
      await expect(sql`DELETE FROM events WHERE stream_id = ${stream}`.execute(db)).rejects.toThrow(
        /append-only: DELETE on events/,
      );
      await expect(sql`TRUNCATE events`.execute(db)).rejects.toThrow(/append-only: TRUNCATE on events/);
      expect(await readStream(db, stream)).toHaveLength(1);
    });

    it('gives the application role no UPDATE, DELETE or TRUNCATE privilege on events', async () => {
      const login = `ledger_test_${randomBytes(4).toString('hex')}`;
      const password = randomBytes(12).toString('hex');
      await sql.raw(`CREATE ROLE ${login} LOGIN PASSWORD '${password}' IN ROLE ledger_app`).execute(db);
      const url = new URL(database.url);
      url.username = login;
      url.password = password;
      const app = new pg.Client({ connectionString: url.toString() });
      await app.connect();
      try {
        const stream = `s-${randomBytes(4).toString('hex')}`;
        const appDb = await openDatabase({ kind: 'postgres', url: url.toString() });
        const [ok] = await executeCommands(appDb, [addCommand(stream, 1)], { topic: TOPIC });
        await appDb.destroy();
        expect(ok?.ok).toBe(true);
        // Privilege checks come before triggers: these fail with permission denied.
        for (const statement of [`UPDATE events SET type = 'X'`, `DELETE FROM events`, `TRUNCATE events`]) {
          await expect(app.query(statement)).rejects.toMatchObject({ code: '42501' });
        }
        const privileges = await app.query<{ p: string; granted: boolean }>(
          `SELECT p, has_table_privilege('events', p) AS granted FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) AS p`,
        );
        expect(Object.fromEntries(privileges.rows.map((r) => [r.p, r.granted]))).toEqual({
          SELECT: true,
          INSERT: true,
          UPDATE: false,
          DELETE: false,
          TRUNCATE: false,
        });
      } finally {
        await app.end();
        await sql
          .raw(`DROP OWNED BY ${login}; DROP ROLE ${login}`)
          .execute(db)
          .catch(() => {});
      }
    });
  });
});

describe('event store on PGlite (embedded mode)', () => {
  it('runs the same migrations and commands', async () => {
    const db = await openDatabase({ kind: 'pglite', dataDir: null });
    try {
      await migrateToLatest(db);
      const stream = 'pglite-stream';
      const results = await executeCommands(
        db,
        [addCommand(stream, 1, { key: 'p1' }), addCommand(stream, 2)],
        {
          topic: TOPIC,
        },
      );
      expect(results.every((r) => r.ok)).toBe(true);
      const [replay] = await executeCommands(db, [addCommand(stream, 1, { key: 'p1' })], { topic: TOPIC });
      expect(replay?.ok && replay.value.kind).toBe('replayed');
      const events = await readStream(db, stream);
      expect(verifyStreams(events)).toEqual([]);
      expect(events[0]?.transactionId).toMatch(/^\d+$/);
      await expect(sql`TRUNCATE events`.execute(db)).rejects.toThrow(/append-only/);
    } finally {
      await db.destroy();
    }
  });
});
