import type { Kysely } from 'kysely';
import type { Database } from '../schema/database.ts';
import {
  executeCommands,
  type CommandRequest,
  type CommandResult,
  type ExecuteOptions,
} from './executeCommands.ts';

export interface BatcherOptions extends ExecuteOptions {
  /** Most commands committed together in one transaction. */
  readonly maxBatch?: number;
  /**
   * Transactions in flight at once (each holds one connection). They form a pipeline: a new
   * batch starts reading only once the batch before it has decided and is writing, so at most
   * one batch reads and decides at any time while the others write and commit.
   */
  readonly maxInFlight?: number;
  /** Told the size of every group transaction as it starts (metrics: how well commits batch). */
  readonly onBatch?: (commands: number) => void;
  /**
   * Told after every transaction that committed events (and so outbox rows), before its callers
   * are answered: where a writer hints the relay (`OutboxHint.poke`).
   */
  readonly onCommitted?: () => void;
}

interface Waiting {
  readonly request: CommandRequest;
  resolve(result: CommandResult): void;
  reject(error: unknown): void;
}

/**
 * Group commit: commands that arrive while transactions are in flight wait and are committed
 * together in the next one, so one fsync acknowledges many commands. No timer: an idle ledger
 * commits a lone command at once; a busy one batches by itself. Each command still gets its own
 * result (its own idempotency replay, conflict or domain error) and is acked only after COMMIT.
 */
export class CommandBatcher {
  readonly #db: Kysely<Database>;
  readonly #options: BatcherOptions;
  readonly #queue: Waiting[] = [];
  #inFlight = 0;
  /** A batch is reading and deciding: the next one waits for it to start writing. */
  #reading = false;
  /**
   * New-stream commands (`CommandRequest.newStream`) batch apart from the rest: their batches
   * have no read, so they need no reading turn, only a free transaction of their own.
   */
  readonly #newStreams: Waiting[] = [];
  #newInFlight = 0;

  constructor(db: Kysely<Database>, options: BatcherOptions) {
    this.#db = db;
    this.#options = options;
  }

  /** Runs `request` in the next group transaction; resolves after it is durably committed. */
  submit(request: CommandRequest): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      (request.newStream === true ? this.#newStreams : this.#queue).push({ request, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    const maxInFlight = this.#options.maxInFlight ?? 4;
    const maxBatch = this.#options.maxBatch ?? 100;
    if (this.#inFlight < maxInFlight && !this.#reading && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, maxBatch);
      this.#options.onBatch?.(batch.length);
      this.#inFlight++;
      this.#reading = true;
      void this.#run(batch);
    }
    if (this.#newInFlight < maxInFlight && this.#newStreams.length > 0) {
      const batch = this.#newStreams.splice(0, maxBatch);
      this.#options.onBatch?.(batch.length);
      this.#newInFlight++;
      void this.#runNew(batch);
    }
  }

  async #runNew(batch: Waiting[]): Promise<void> {
    let results: Awaited<ReturnType<typeof executeCommands>> | null = null;
    let failure: unknown = null;
    try {
      results = await executeCommands(
        this.#db,
        batch.map((w) => w.request),
        this.#options,
      );
    } catch (error) {
      failure = error;
    }
    this.#newInFlight--;
    this.#pump();
    if (results === null) await this.#contain(batch, failure);
    else this.#settle(batch, results);
  }

  async #run(batch: Waiting[]): Promise<void> {
    let results: Awaited<ReturnType<typeof executeCommands>> | null = null;
    let failure: unknown = null;
    let reading = true;
    const writing = () => {
      if (!reading) return;
      reading = false;
      this.#reading = false;
      this.#pump();
    };
    try {
      results = await executeCommands(
        this.#db,
        batch.map((w) => w.request),
        { ...this.#options, onWriting: writing },
      );
    } catch (error) {
      failure = error;
    }
    // The next batch starts before this one's callers are answered: its first round trip
    // overlaps the work of answering them.
    this.#inFlight--;
    if (reading) writing();
    else this.#pump();
    if (results === null) {
      await this.#contain(batch, failure);
      return;
    }
    this.#settle(batch, results);
  }

  /** Answers a committed batch's callers, after hinting whoever waits for its outbox rows. */
  #settle(batch: readonly Waiting[], results: Awaited<ReturnType<typeof executeCommands>>): void {
    if (this.#options.onCommitted !== undefined && appliedAny(results)) this.#options.onCommitted();
    settle(batch, results);
  }

  /**
   * A batch whose transaction failed on something one command carries (a value PostgreSQL
   * refuses, an integrity error: SQLSTATE classes 22 and 23) committed nothing: its halves are run
   * again one after the other (arrival order kept), down to the command at fault, so that one bad
   * command fails alone instead of its whole batch. Any other failure (connection, server) fails
   * the batch at once.
   */
  async #contain(batch: Waiting[], failure: unknown): Promise<void> {
    const code = (failure as { code?: unknown }).code;
    if (batch.length === 1 || typeof code !== 'string' || !/^2[23]/.test(code)) {
      for (const w of batch) w.reject(failure);
      return;
    }
    const half = Math.ceil(batch.length / 2);
    for (const part of [batch.slice(0, half), batch.slice(half)]) {
      try {
        this.#settle(
          part,
          await executeCommands(
            this.#db,
            part.map((w) => w.request),
            this.#options,
          ),
        );
      } catch (error) {
        await this.#contain(part, error);
      }
    }
  }
}

function appliedAny(results: Awaited<ReturnType<typeof executeCommands>>): boolean {
  return results.some((r) => r.ok && r.value.kind === 'applied');
}

function settle(batch: readonly Waiting[], results: Awaited<ReturnType<typeof executeCommands>>): void {
  results.forEach((settled, i) => {
    const waiting = batch[i] as Waiting;
    if (settled.ok) waiting.resolve(settled.value);
    else waiting.reject(settled.error);
  });
}
