import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { EventStoreError } from '../errors.ts';
import { eventHash, GENESIS_HASH } from '../hashing/eventHash.ts';
import type { Database } from '../schema/database.ts';
import {
  toStoredEvent,
  type EventMetadata,
  type NewEvent,
  type StoredEvent,
} from '../streams/storedEvent.ts';
import { outboxRow, type OutboxOptions } from '../outbox/outboxRow.ts';

/** What a command answers: HTTP-like status and a JSON body, stored for idempotent replays. */
export interface CommandResponse {
  readonly statusCode: number;
  readonly body: unknown;
}

/** The outcome of deciding a command against its stream's history. */
export interface Decision {
  readonly events: readonly NewEvent[];
  /** Builds the response once the events are stored (positions known). */
  respond(appended: readonly StoredEvent[], history: readonly StoredEvent[]): CommandResponse;
}

/** One command to run in a (possibly shared) transaction. */
export interface CommandRequest {
  /** Authenticated caller; idempotency keys are scoped to it. */
  readonly caller: string;
  /** The caller's Idempotency-Key, or null for internal commands that dedupe otherwise. */
  readonly idempotencyKey: string | null;
  /** sha256 of the canonical request; same key + other fingerprint is refused. */
  readonly fingerprint: string;
  readonly streamId: string;
  readonly streamType: string;
  /** When set, the stream must be at exactly this version, else `stream_version_conflict`. */
  readonly expectedVersion?: number | undefined;
  readonly metadata: EventMetadata;
  /** Pure decision on the stream's history (may throw a domain error, which fails this command only). */
  decide(history: readonly StoredEvent[]): Decision;
  /**
   * A consumer's inbox row for the message this command handles: written in the same transaction
   * when the command succeeds (whether or not it appended events), never when it fails, so a
   * redelivered message is skipped exactly when its outcome is durable.
   */
  readonly inbox?: InboxRow | undefined;
}

/** One row of `executor_inbox`: a message a consumer has fully handled. */
export interface InboxRow {
  readonly eventId: string;
  readonly eventType: string;
  readonly streamId: string;
  readonly outcome: string;
}

/** What happened to one command. */
export type CommandResult =
  | { readonly kind: 'applied'; readonly response: CommandResponse; readonly events: readonly StoredEvent[] }
  | { readonly kind: 'replayed'; readonly response: CommandResponse };

/** A stream that gained events in a transaction, with its full history after them. */
export interface TouchedStream {
  readonly streamId: string;
  readonly streamType: string;
  readonly history: readonly StoredEvent[];
}

export interface ExecuteOptions extends OutboxOptions {
  /** Clock for recorded_at (tests pin it). */
  readonly now?: () => Date;
  /**
   * Called inside the transaction after the events are written, with every stream that gained
   * events: inline read models are updated atomically with the history they derive from.
   */
  readonly onAppended?: (trx: Transaction<Database>, touched: readonly TouchedStream[]) => Promise<void>;
  /**
   * Called last inside the transaction, whatever was appended: a consumer records the message it
   * handled (its inbox row) atomically with the outcome.
   */
  readonly afterWrite?: (trx: Transaction<Database>) => Promise<void>;
}

type Settled = { ok: true; value: CommandResult } | { ok: false; error: unknown };

interface StreamHead {
  streamType: string;
  version: number;
  lastHash: string;
  history: StoredEvent[];
}

/** Transient PostgreSQL failures a whole batch may be retried on: nothing of it was committed. */
const RETRYABLE = new Set(['40001', '40P01']);

/**
 * Runs commands in ONE transaction (group commit) with per-command semantics kept exact: each is
 * deduped on (caller, Idempotency-Key), decided against its stream's latest history under a row
 * lock, and either appends its events + outbox rows or fails alone (its key is released so a
 * retry can run). Concurrent duplicates of a key apply exactly once: the unique index makes the
 * second wait for the first and then replay its stored response.
 *
 * Returns one settled result per request, in order. Throws only if the transaction itself fails.
 */
export async function executeCommands(
  db: Kysely<Database>,
  requests: readonly CommandRequest[],
  options: ExecuteOptions,
): Promise<Settled[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute((trx) => runBatch(trx, requests, options));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= 3 || code === undefined || !RETRYABLE.has(code)) throw error;
    }
  }
}

async function runBatch(
  trx: Transaction<Database>,
  requests: readonly CommandRequest[],
  options: ExecuteOptions,
): Promise<Settled[]> {
  const results: (Settled | undefined)[] = new Array(requests.length);
  const now = options.now ?? (() => new Date());

  // 1. Claim idempotency keys, sorted so that concurrent batches cannot deadlock on them.
  const keyOf = (r: CommandRequest): string | null =>
    r.idempotencyKey === null ? null : `${r.caller}\u0000${r.idempotencyKey}`;
  const leaders = new Map<string, number>();
  const followers: number[] = [];
  requests.forEach((r, i) => {
    const k = keyOf(r);
    if (k === null) return;
    if (leaders.has(k)) followers.push(i);
    else leaders.set(k, i);
  });
  const claimed = new Set<string>();
  if (leaders.size > 0) {
    const rows = [...leaders.keys()].sort().map((k) => {
      const r = requests[leaders.get(k) as number] as CommandRequest;
      return { caller: r.caller, key: r.idempotencyKey as string, fingerprint: r.fingerprint };
    });
    const inserted = await trx
      .insertInto('idempotency_keys')
      .values(rows)
      .onConflict((oc) => oc.columns(['caller', 'key']).doNothing())
      .returning(['caller', 'key'])
      .execute();
    for (const row of inserted) claimed.add(`${row.caller}\u0000${row.key}`);
    const existing = rows.filter((row) => !claimed.has(`${row.caller}\u0000${row.key}`));
    if (existing.length > 0) {
      const stored = await trx
        .selectFrom('idempotency_keys')
        .select(['caller', 'key', 'fingerprint', 'status_code', 'response'])
        .where(
          sql<boolean>`(caller, key) IN (${sql.join(existing.map((e) => sql`(${e.caller}, ${e.key})`))})`,
        )
        .execute();
      for (const row of stored) {
        const i = leaders.get(`${row.caller}\u0000${row.key}`) as number;
        const request = requests[i] as CommandRequest;
        results[i] = replayOf(request, row.fingerprint, row.status_code, row.response);
      }
    }
  }

  // 2. Lock the streams the remaining commands touch (sorted), creating heads for new streams.
  const runnable = requests
    .map((r, i) => ({ r, i }))
    .filter(
      ({ r, i }) =>
        results[i] === undefined &&
        !followers.includes(i) &&
        (keyOf(r) === null || claimed.has(keyOf(r) as string)),
    );
  const streamIds = [...new Set(runnable.map(({ r }) => r.streamId))].sort();
  const heads = new Map<string, StreamHead>();
  if (streamIds.length > 0) {
    const types = new Map(runnable.map(({ r }) => [r.streamId, r.streamType]));
    await trx
      .insertInto('streams')
      .values(
        streamIds.map((id) => ({
          stream_id: id,
          stream_type: types.get(id) as string,
          version: 0,
          last_hash: GENESIS_HASH,
        })),
      )
      .onConflict((oc) => oc.column('stream_id').doNothing())
      .execute();
    const locked = await trx
      .selectFrom('streams')
      .select(['stream_id', 'stream_type', 'version', 'last_hash'])
      .where('stream_id', 'in', streamIds)
      .orderBy('stream_id')
      .forUpdate()
      .execute();
    for (const s of locked) {
      heads.set(s.stream_id, {
        streamType: s.stream_type,
        version: s.version,
        lastHash: s.last_hash,
        history: [],
      });
    }
    const history = await trx
      .selectFrom('events')
      .selectAll()
      .where('stream_id', 'in', streamIds)
      .orderBy('stream_id')
      .orderBy('stream_version')
      .execute();
    for (const row of history) heads.get(row.stream_id)?.history.push(toStoredEvent(row));
  }

  // 3. Decide each command in arrival order against the latest state (earlier ones in this batch
  //    included), chaining hashes per stream.
  const recordedAt = now().toISOString();
  const pending: { i: number; decision: Decision; appended: StoredEvent[]; priorHistory: StoredEvent[] }[] =
    [];
  const failedKeys: CommandRequest[] = [];
  for (const { r, i } of runnable) {
    const head = heads.get(r.streamId) as StreamHead;
    try {
      if (head.streamType !== r.streamType) {
        throw new EventStoreError(
          'stream_version_conflict',
          `stream ${r.streamId} is a ${head.streamType} stream, not a ${r.streamType} stream`,
        );
      }
      if (r.expectedVersion !== undefined && r.expectedVersion !== head.version) {
        throw new EventStoreError(
          'stream_version_conflict',
          `stream ${r.streamId} is at version ${head.version}, the command expected ${r.expectedVersion}: read it again and retry`,
        );
      }
      const priorHistory = [...head.history];
      const decision = r.decide(priorHistory);
      const appended: StoredEvent[] = [];
      for (const e of decision.events) {
        const fields = {
          eventId: randomUUID(),
          streamId: r.streamId,
          streamVersion: head.version + 1,
          type: e.type,
          schemaVersion: e.schemaVersion ?? 1,
          data: e.data,
          metadata: r.metadata,
          recordedAt,
        };
        const hash = eventHash(head.lastHash, fields);
        const stored: StoredEvent = {
          ...fields,
          streamType: r.streamType,
          position: '',
          transactionId: '',
          prevHash: head.lastHash,
          hash,
        };
        appended.push(stored);
        head.version += 1;
        head.lastHash = hash;
        head.history.push(stored);
      }
      pending.push({ i, decision, appended, priorHistory });
    } catch (error) {
      results[i] = { ok: false, error };
      if (keyOf(r) !== null) failedKeys.push(r);
    }
  }

  // 4. Write events, outbox rows, stream heads; then responses for replays.
  const allAppended = pending.flatMap((p) => p.appended);
  const positions = new Map<string, { position: string; transactionId: string }>();
  if (allAppended.length > 0) {
    // Events and their outbox rows in one statement (one round trip): two data-modifying CTEs.
    const inserted = await trx
      .with('ev', (db) =>
        db
          .insertInto('events')
          .values(
            allAppended.map((e) => ({
              event_id: e.eventId,
              stream_id: e.streamId,
              stream_type: e.streamType,
              stream_version: e.streamVersion,
              type: e.type,
              schema_version: e.schemaVersion,
              data: JSON.stringify(e.data),
              metadata: JSON.stringify(e.metadata),
              recorded_at: e.recordedAt,
              prev_hash: e.prevHash,
              hash: e.hash,
            })),
          )
          .returning(['event_id', 'position', 'transaction_id']),
      )
      .with('ob', (db) => db.insertInto('outbox').values(allAppended.map((e) => outboxRow(e, options))))
      .selectFrom('ev')
      .select(['event_id', 'position', 'transaction_id'])
      .execute();
    for (const row of inserted)
      positions.set(row.event_id, {
        position: String(row.position),
        transactionId: String(row.transaction_id),
      });
  }
  const touched = [...heads.entries()];
  if (touched.length > 0) {
    const moved = touched.filter(
      ([, h]) => h.history.length > 0 && h.history[h.history.length - 1]?.position === '',
    );
    if (moved.length > 0) {
      await sql`
        UPDATE streams AS s SET version = v.version, last_hash = v.last_hash, updated_at = now()
        FROM (VALUES ${sql.join(moved.map(([id, h]) => sql`(${id}, ${h.version}::integer, ${h.lastHash})`))})
          AS v(stream_id, version, last_hash)
        WHERE s.stream_id = v.stream_id`.execute(trx);
    }
    // Heads created for commands that appended nothing are not streams.
    const empty = touched.filter(([, h]) => h.version === 0).map(([id]) => id);
    if (empty.length > 0)
      await trx.deleteFrom('streams').where('stream_id', 'in', empty).where('version', '=', 0).execute();
  }

  if (options.onAppended !== undefined && allAppended.length > 0) {
    const gained = new Set(allAppended.map((e) => e.streamId));
    await options.onAppended(
      trx,
      [...gained].sort().map((streamId) => {
        const head = heads.get(streamId) as StreamHead;
        const history = head.history.map((e) =>
          e.position === ''
            ? { ...e, ...(positions.get(e.eventId) ?? { position: '', transactionId: '' }) }
            : e,
        );
        return { streamId, streamType: head.streamType, history };
      }),
    );
  }

  const responses: { r: CommandRequest; response: CommandResponse }[] = [];
  for (const p of pending) {
    const r = requests[p.i] as CommandRequest;
    const events = p.appended.map((e) => ({
      ...e,
      ...(positions.get(e.eventId) ?? { position: '', transactionId: '' }),
    }));
    try {
      const response = p.decision.respond(events, p.priorHistory);
      results[p.i] = { ok: true, value: { kind: 'applied', response, events } };
      if (keyOf(r) !== null) responses.push({ r, response });
    } catch (error) {
      results[p.i] = { ok: false, error };
    }
  }
  if (responses.length > 0) {
    await sql`
      UPDATE idempotency_keys AS k SET status_code = v.status_code, response = v.response
      FROM (VALUES ${sql.join(
        responses.map(
          ({ r, response }) =>
            sql`(${r.caller}, ${r.idempotencyKey}, ${response.statusCode}::integer, ${JSON.stringify(response.body)}::jsonb)`,
        ),
      )}) AS v(caller, key, status_code, response)
      WHERE k.caller = v.caller AND k.key = v.key`.execute(trx);
  }
  // A command that failed stores nothing: its key is free for a corrected retry.
  if (failedKeys.length > 0) {
    await trx
      .deleteFrom('idempotency_keys')
      .where(
        sql<boolean>`(caller, key) IN (${sql.join(failedKeys.map((r) => sql`(${r.caller}, ${r.idempotencyKey})`))})`,
      )
      .execute();
  }

  if (options.afterWrite !== undefined) await options.afterWrite(trx);

  // 5. In-batch duplicates of a key replay their leader.
  for (const i of followers) {
    const r = requests[i] as CommandRequest;
    const leader = results[leaders.get(keyOf(r) as string) as number];
    const leaderRequest = requests[leaders.get(keyOf(r) as string) as number] as CommandRequest;
    if (leader === undefined || !leader.ok) {
      results[i] = leader ?? { ok: false, error: new Error('leader of an idempotency key did not run') };
    } else {
      results[i] = replayOf(
        r,
        leaderRequest.fingerprint,
        leader.value.response.statusCode,
        leader.value.response.body,
      );
    }
  }
  const settled = results.map((r) => r ?? { ok: false as const, error: new Error('command was not run') });
  const inbox = requests.flatMap((r, i) =>
    r.inbox !== undefined && settled[i]?.ok === true ? [r.inbox] : [],
  );
  if (inbox.length > 0) {
    await trx
      .insertInto('executor_inbox')
      .values(
        inbox.map((row) => ({
          event_id: row.eventId,
          event_type: row.eventType,
          stream_id: row.streamId,
          outcome: row.outcome,
        })),
      )
      .onConflict((oc) => oc.column('event_id').doNothing())
      .execute();
  }
  return settled;
}

function replayOf(
  request: CommandRequest,
  fingerprint: string,
  statusCode: number | null,
  body: unknown,
): Settled {
  if (fingerprint !== request.fingerprint) {
    return {
      ok: false,
      error: new EventStoreError(
        'idempotency_key_reused',
        `Idempotency-Key "${request.idempotencyKey}" was already used for a different request; use a new key for a new request`,
      ),
    };
  }
  if (statusCode === null) {
    return {
      ok: false,
      error: new EventStoreError('idempotency_key_reused', 'the original request is still in progress'),
    };
  }
  return { ok: true, value: { kind: 'replayed', response: { statusCode, body } } };
}
