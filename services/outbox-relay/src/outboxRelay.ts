import type { Kysely } from 'kysely';
import {
  advanceOutboxCheckpoint,
  deletePublishedOutbox,
  outboxLag,
  readOutboxBatch,
  readOutboxCheckpoint,
  type Database,
  type OutboxMessage,
  type OutboxPosition,
} from '@payledger/event-store';
import type { OutgoingMessage, Publisher } from '@payledger/messaging';
import type { Lease } from './lease.ts';
import type { RelayMetrics } from './relayMetrics.ts';

export interface RelayOptions {
  readonly partition: string;
  readonly batchSize: number;
  readonly lingerMs: number;
  readonly pollIntervalMs: number;
  readonly retentionIntervalMs: number;
  /** How often lag is measured (default 1 s). */
  readonly lagIntervalMs?: number;
}

export interface RelayDeps {
  readonly db: Kysely<Database>;
  readonly publisher: Publisher;
  readonly lease: Lease;
  readonly metrics: RelayMetrics;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

const MAX_BACKOFF_MS = 10_000;

/** The Kafka message announcing an outbox row: key = stream (payment) id, headers carry the event id. */
export function toOutgoing(m: OutboxMessage): OutgoingMessage {
  return { topic: m.topic, key: m.key, value: m.value, headers: m.headers };
}

/**
 * Publishes the outbox in visibility order, at least once, never skipping a row: read a batch
 * after the checkpoint, publish it (acks from all in-sync replicas), then move the checkpoint by
 * compare-and-set. A crash between publish and checkpoint re-publishes the batch: duplicates carry
 * the same event id. Only the lease holder publishes; the others wait to take over.
 */
export class OutboxRelay {
  readonly #deps: RelayDeps;
  readonly #options: RelayOptions;
  #stopping = false;
  #loop: Promise<void> | null = null;
  #timers: NodeJS.Timeout[] = [];
  #position: OutboxPosition | null = null;
  #stopWake: (() => void) | null = null;

  constructor(deps: RelayDeps, options: RelayOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  /** Starts relaying in the background (and the lag and retention timers). */
  start(): void {
    if (this.#loop !== null) return;
    this.#loop = this.#run();
    const lag = setInterval(() => void this.#measureLag(), this.#options.lagIntervalMs ?? 1_000);
    const retention = setInterval(() => void this.#retain(), this.#options.retentionIntervalMs);
    this.#timers.push(lag, retention);
  }

  /** Stops after the batch in flight; releases the lease. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#stopWake?.();
    for (const t of this.#timers) clearInterval(t);
    await this.#loop;
    await this.#deps.lease.release();
    this.#deps.metrics.leaseHeld.set({ partition: this.#options.partition }, 0);
  }

  /** True while this relay holds its partition's lease. */
  get active(): boolean {
    return this.#deps.lease.held;
  }

  async #run(): Promise<void> {
    const { db, publisher, lease, metrics } = this.#deps;
    const { partition, batchSize, lingerMs, pollIntervalMs } = this.#options;
    let backoff = 100;
    while (!this.#stopping) {
      try {
        if (!lease.held) {
          metrics.leaseHeld.set({ partition }, 0);
          this.#position = null;
          if (!(await lease.acquire())) {
            await this.#sleep(pollIntervalMs);
            continue;
          }
          this.#log('info', `holding the lease of outbox partition ${partition}`);
        }
        metrics.leaseHeld.set({ partition }, 1);
        // Re-read the checkpoint whenever we (re)gain the lease: another relay may have moved it.
        this.#position ??= await readOutboxCheckpoint(db, partition);
        let batch = await readOutboxBatch(db, this.#position, batchSize);
        if (batch.length === 0) {
          await this.#wake(lease, pollIntervalMs);
          continue;
        }
        if (batch.length < batchSize && lingerMs > 0) {
          await this.#sleep(lingerMs);
          batch = await readOutboxBatch(db, this.#position, batchSize);
        }
        await publisher.publish(batch.map(toOutgoing));
        const last = (batch[batch.length - 1] as OutboxMessage).position;
        if (!(await advanceOutboxCheckpoint(db, partition, this.#position, last))) {
          // Someone else moved the checkpoint: we no longer own the partition.
          this.#log('warn', `checkpoint of ${partition} moved under us; giving up the lease`);
          await lease.release();
          continue;
        }
        this.#position = last;
        metrics.published.inc(batch.length);
        metrics.batchSize.observe(batch.length);
        backoff = 100;
      } catch (error) {
        metrics.errors.inc({ stage: 'relay' });
        this.#log('warn', `relay attempt failed, retrying in ${backoff} ms: ${(error as Error).message}`);
        // Nothing was checkpointed: the same rows are read and published again.
        this.#position = null;
        await this.#sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  async #measureLag(): Promise<void> {
    if (!this.#deps.lease.held) return;
    try {
      const lag = await outboxLag(this.#deps.db, this.#options.partition);
      this.#deps.metrics.lagRows.set(lag.rows);
      this.#deps.metrics.lagSeconds.set(lag.oldestAgeSeconds);
    } catch {
      this.#deps.metrics.errors.inc({ stage: 'lag' });
    }
  }

  async #retain(): Promise<void> {
    if (!this.#deps.lease.held) return;
    try {
      for (;;) {
        const n = await deletePublishedOutbox(this.#deps.db, this.#options.partition);
        this.#deps.metrics.deleted.inc(n);
        if (n < 10_000) break;
      }
    } catch {
      this.#deps.metrics.errors.inc({ stage: 'retention' });
    }
  }

  async #wake(lease: Lease, ms: number): Promise<void> {
    await Promise.race([lease.wake(ms), new Promise<void>((r) => (this.#stopWake = r))]);
  }

  async #sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#stopWake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  #log(level: 'info' | 'warn' | 'error', message: string): void {
    this.#deps.log?.(level, message);
  }
}
