import type { Kysely } from 'kysely';
import { poolOf } from '../connect.ts';
import type { Database } from '../schema/database.ts';

/** The channel the outbox relay LISTENs on for a hint that rows were committed. */
export const OUTBOX_CHANNEL = 'ledger_outbox';

/**
 * Tells the outbox relay, after a commit, that outbox rows are waiting: `pg_notify` from a
 * transaction of its own, never from the transaction that wrote the rows. A transaction that has
 * notified takes a database-wide lock at commit and keeps it until its commit is flushed, so
 * writers notifying from their own transactions flushed one after the other (migration 0010).
 * This one commits asynchronously (`synchronous_commit = off` for itself: a hint lost in a crash
 * costs the relay one poll interval), so it holds that lock for microseconds.
 *
 * Coalesced: at most one hint in flight; pokes meanwhile send one more when it returns, so the
 * last commit is always followed by a hint. Best effort: a failed hint is reported and dropped
 * (the relay polls). On PGlite (the embedded start) it does nothing: that relay polls.
 */
export class OutboxHint {
  readonly #send: (() => Promise<unknown>) | null;
  readonly #onError: (error: unknown) => void;
  #inFlight: Promise<void> | null = null;
  #again = false;
  #closed = false;
  #sent = 0;

  constructor(db: Kysely<Database>, options: { readonly onError?: (error: unknown) => void } = {}) {
    const pool = poolOf(db);
    this.#send =
      pool === undefined
        ? null
        : () =>
            pool.query(
              `SELECT set_config('synchronous_commit', 'off', true), pg_notify('${OUTBOX_CHANNEL}', '')`,
            );
    this.#onError = options.onError ?? (() => {});
  }

  /** Hints sent so far (tests, metrics). */
  get sent(): number {
    return this.#sent;
  }

  /** Outbox rows were committed: the relay hears of it soon. Never throws, never waits. */
  poke(): void {
    if (this.#send === null || this.#closed) return;
    if (this.#inFlight !== null) {
      this.#again = true;
      return;
    }
    this.#inFlight = this.#loop(this.#send);
  }

  async #loop(send: () => Promise<unknown>): Promise<void> {
    do {
      this.#again = false;
      try {
        await send();
        this.#sent++;
      } catch (error) {
        this.#onError(error);
      }
    } while (this.#again);
    this.#inFlight = null;
  }

  /** Takes no more pokes; resolves once the hints already owed are sent (or failed). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#inFlight;
  }
}
