import type { Kysely } from 'kysely';
import { toStoredEvent, type Database, type StoredEvent } from '@payledger/event-store';

/** What the executor needs to know about a message before acting on it. */
export interface MessageContext {
  /** True when the message's inbox row exists: it was fully handled before (a redelivery). */
  readonly seen: boolean;
  /** The stream's events in version order (empty for a stream that does not exist). */
  readonly history: readonly StoredEvent[];
}

interface Waiting {
  readonly eventId: string;
  readonly streamId: string;
  resolve(context: MessageContext): void;
  reject(error: unknown): void;
}

/**
 * Batches the two reads every message starts with (its inbox row, its stream's history) across
 * the messages in flight: two statements per batch instead of two per message. Like the group
 * commit, no timer: a lone message is read at once, a busy executor batches by itself. Each read
 * is issued after the request arrives, so it sees everything committed before the message was
 * handed over (one payment's messages are handled one after another).
 */
export class MessageReads {
  readonly #db: Kysely<Database>;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  readonly #queue: Waiting[] = [];
  #inFlight = 0;

  constructor(db: Kysely<Database>, options: { maxBatch?: number; maxInFlight?: number } = {}) {
    this.#db = db;
    this.#maxBatch = options.maxBatch ?? 200;
    this.#maxInFlight = options.maxInFlight ?? 2;
  }

  /** The inbox state of `eventId` and the history of `streamId`; rejects if the reads fail. */
  load(eventId: string, streamId: string): Promise<MessageContext> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ eventId, streamId, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      this.#inFlight++;
      void this.#run(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #run(batch: Waiting[]): Promise<void> {
    try {
      const eventIds = [...new Set(batch.map((w) => w.eventId))];
      const streamIds = [...new Set(batch.map((w) => w.streamId))];
      const [inbox, rows] = await Promise.all([
        this.#db.selectFrom('executor_inbox').select('event_id').where('event_id', 'in', eventIds).execute(),
        this.#db
          .selectFrom('events')
          .selectAll()
          .where('stream_id', 'in', streamIds)
          .orderBy('stream_id')
          .orderBy('stream_version')
          .execute(),
      ]);
      const seen = new Set(inbox.map((r) => r.event_id));
      const histories = new Map<string, StoredEvent[]>();
      for (const row of rows) {
        const list = histories.get(row.stream_id);
        if (list === undefined) histories.set(row.stream_id, [toStoredEvent(row)]);
        else list.push(toStoredEvent(row));
      }
      for (const w of batch)
        w.resolve({ seen: seen.has(w.eventId), history: histories.get(w.streamId) ?? [] });
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  }
}
