import pg from 'pg';
import { OUTBOX_CHANNEL } from '@payledger/event-store';

/**
 * Who may publish an outbox partition: exactly one holder at a time. `acquire` tries once;
 * `lost` resolves when a held lease is gone (its session died); `wake` resolves on the next
 * new-rows hint or after `ms`, whichever is first.
 */
export interface Lease {
  /** Tries to take the lease; true when this process now holds it. */
  acquire(): Promise<boolean>;
  /** True while held. */
  readonly held: boolean;
  /** Waits for a new-outbox-rows hint (or `ms` at most). */
  wake(ms: number): Promise<void>;
  /** Gives the lease up and closes its session. */
  release(): Promise<void>;
}

/**
 * A PostgreSQL advisory-lock lease on a dedicated session: the lock lives exactly as long as the
 * session, so a killed relay (or a restarted server) frees it at once and a standby takes over at
 * its next try. The same session LISTENs for the outbox's NOTIFY hint.
 */
export class AdvisoryLease implements Lease {
  readonly #url: string;
  readonly #key: string;
  #client: pg.Client | null = null;
  #held = false;
  #waiters: Array<() => void> = [];
  /** A hint that arrived while nobody waited: the next wake returns at once. */
  #pending = false;

  constructor(databaseUrl: string, partition: string) {
    this.#url = databaseUrl;
    this.#key = `ledger-outbox-relay:${partition}`;
  }

  get held(): boolean {
    return this.#held;
  }

  async acquire(): Promise<boolean> {
    if (this.#held) return true;
    const client = await this.#session();
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [
      this.#key,
    ]);
    this.#held = rows[0]?.ok === true;
    return this.#held;
  }

  async wake(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.push(done);
    });
  }

  async release(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    this.#held = false;
    this.#notifyAll();
    if (client !== null) await client.end().catch(() => {});
  }

  async #session(): Promise<pg.Client> {
    if (this.#client !== null) return this.#client;
    const client = new pg.Client({ connectionString: this.#url, connectionTimeoutMillis: 5_000 });
    const drop = (): void => {
      if (this.#client !== client) return;
      // The session died (server restart, network): the lock is gone with it.
      this.#client = null;
      this.#held = false;
      this.#notifyAll();
      void client.end().catch(() => {});
    };
    client.on('error', drop);
    client.on('end', drop);
    client.on('notification', () => this.#notifyAll());
    await client.connect();
    await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    this.#client = client;
    return client;
  }

  #notifyAll(): void {
    if (this.#waiters.length === 0) this.#pending = true;
    for (const w of [...this.#waiters]) w();
  }
}

/** The lease of a single-process deployment (embedded mode): always held, wakes by polling. */
export class LocalLease implements Lease {
  #held = false;

  get held(): boolean {
    return this.#held;
  }

  async acquire(): Promise<boolean> {
    this.#held = true;
    return true;
  }

  async wake(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
  }

  async release(): Promise<void> {
    this.#held = false;
  }
}
