import { setTimeout as sleep } from 'node:timers/promises';
import type {
  ConsumerRunConfig,
  EachBatchPayload,
  EachMessagePayload,
  Kafka,
  Consumer as KafkaJsConsumer,
  KafkaMessage,
  Logger,
} from 'kafkajs';
import { MessagingError } from '../errors.ts';
import type { Consumer, ConsumerOptions, IncomingMessage, MessageHandler } from '../messageBus.ts';
import { redeliveryDelay } from '../redeliveryDelay.ts';

const DEFAULT_SESSION_TIMEOUT_MS = 30_000;
const RESTART_AFTER_CRASH_MS = 5_000;
/**
 * Least time between two offset commits of one partition while a batch is being handled. Each
 * commit is a write to the broker's offsets log: at 100 ms, 12 partitions' commits cost the broker
 * about a third of its CPU in bench:executor (one A/B pair: 0.32 ms per payment, 0.23 at 1 s). A crash
 * redelivers what was handled since the last commit, deduped by the consumer's inbox.
 */
const COMMIT_SPACING_MS = 1_000;

type Attempt = { readonly failed: false } | { readonly failed: true; readonly error: unknown };

/**
 * A kafkajs consumer-group member.
 *
 * Offsets are committed by hand (`autoCommit: false`). With `concurrencyPerPartition` 1 (the
 * default) one message at a time, right after the handler resolved for it: a crash loses at most
 * the commit of the message in hand, which is then delivered again (consumers dedupe on
 * `event-id`). Above 1, a fetched batch runs its keys concurrently (one key in offset order) and
 * the offset after the contiguous run of handled messages is committed at most every second and
 * at the batch's end: a crash redelivers what was handled since (deduped the same way), never
 * skips a message that was not handled.
 *
 * A failed handler never reaches kafkajs: the same message is handed over again, in place, after
 * a back-off, with heartbeats meanwhile. Letting the error escape `eachMessage` would make kafkajs
 * re-fetch from the uncommitted offset, but after its retry budget it restarts the whole consumer
 * (leave and rejoin: a rebalance of the group each time), and an error it deems unrecoverable
 * (`TypeError`, which is what `fetch` throws on a network failure, `SyntaxError`, `RangeError`,
 * `ReferenceError`: kafkajs src/retry/index.js) crashes the consumer for good, silently for the
 * service. If kafkajs crashes a consumer on its own errors without restarting it, this one restarts
 * it after 5 s.
 */
export class KafkaGroupConsumer implements Consumer {
  readonly #consumer: KafkaJsConsumer;
  readonly #options: ConsumerOptions;
  readonly #log: Logger;
  readonly #isClosed: () => boolean;
  readonly #heartbeatIntervalMs: number;
  readonly #stopping = new AbortController();
  #state: 'new' | 'running' | 'stopped' = 'new';
  #restartTimer: NodeJS.Timeout | null = null;

  constructor(kafka: Kafka, options: ConsumerOptions, isClosed: () => boolean) {
    const sessionTimeout = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    // kafkajs's own ratio (30 s session, 3 s heartbeat): a member misses several beats before
    // the coordinator drops it.
    this.#heartbeatIntervalMs = Math.max(100, Math.floor(sessionTimeout / 10));
    this.#consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout,
      heartbeatInterval: this.#heartbeatIntervalMs,
      allowAutoTopicCreation: false,
    });
    this.#options = options;
    this.#log = kafka.logger().namespace('MessageBus');
    this.#isClosed = isClosed;
  }

  async run(handler: MessageHandler): Promise<void> {
    if (this.#isClosed()) throw new MessagingError('bus_closed', 'the message bus was closed');
    if (this.#state !== 'new')
      throw new MessagingError('consumer_reused', 'this consumer already ran: create a new one');
    this.#state = 'running';
    const perPartition = Math.max(1, Math.floor(this.#options.concurrencyPerPartition ?? 1));
    const config: ConsumerRunConfig = {
      autoCommit: false,
      partitionsConsumedConcurrently: this.#options.concurrency ?? 1,
      ...(perPartition === 1
        ? { eachMessage: (payload: EachMessagePayload) => this.#handle(handler, payload) }
        : {
            // Offsets are resolved by hand: kafkajs must not move past a message still running.
            eachBatchAutoResolve: false,
            eachBatch: (payload: EachBatchPayload) => this.#handleBatch(handler, payload, perPartition),
          }),
    };
    this.#consumer.on(this.#consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.#state !== 'running') return;
      this.#log.error(
        `consumer of group ${this.#options.groupId} crashed and kafkajs will not restart it; ` +
          `restarting it in ${RESTART_AFTER_CRASH_MS} ms`,
        { error: payload.error.message },
      );
      this.#restartLater(config);
    });
    try {
      await this.#consumer.connect();
      await this.#consumer.subscribe({
        topics: [...this.#options.topics],
        fromBeginning: this.#options.fromBeginning ?? true,
      });
      // Resolves once the member has joined the group (or kafkajs has scheduled a restart).
      await this.#consumer.run(config);
    } catch (error) {
      throw new MessagingError(
        'consumer_failed',
        `consumer of group ${this.#options.groupId} could not start: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const ran = this.#state === 'running';
    this.#state = 'stopped';
    this.#stopping.abort();
    if (this.#restartTimer !== null) clearTimeout(this.#restartTimer);
    // kafkajs waits for the eachMessage in progress (which commits if its handler succeeded;
    // a back-off in progress ends at once), then leaves the group.
    if (ran) await this.#consumer.disconnect();
  }

  async #handle(handler: MessageHandler, payload: EachMessagePayload): Promise<void> {
    const { topic, partition, message, heartbeat } = payload;
    // While stop() is under way kafkajs may still hand over messages it had fetched: leave them
    // uncommitted for the next member.
    if (this.#stopping.signal.aborted) return;
    const incoming = toIncomingMessage(topic, partition, message);
    for (let failures = 1; ; failures++) {
      const attempt = await this.#attempt(handler, incoming, heartbeat);
      if (!attempt.failed) break;
      const delay = redeliveryDelay(failures, this.#options);
      // The error's name only: messages can quote the payload (JSON.parse does).
      const name = attempt.error instanceof Error ? attempt.error.name : typeof attempt.error;
      this.#log.warn(
        `handler failed (${name}) on ${topic}[${partition}] at offset ${message.offset}, ` +
          `${failures} time(s) in a row; handing it over again in ${delay} ms`,
        { groupId: this.#options.groupId },
      );
      await this.#backOff(delay, heartbeat);
      // Not committed: the next member of the group starts at this message.
      if (this.#stopping.signal.aborted) return;
    }
    await this.#consumer.commitOffsets([
      { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
    ]);
  }

  /**
   * One fetched batch of a partition, `limit` messages at a time: a message starts once every
   * earlier message of its key is handled, so one key stays in offset order while different keys
   * overlap. The partition's position moves to the end of the contiguous run of handled messages
   * (never past one still running or failing); commits are coalesced, one in flight at a time.
   * On stop or a rebalance nothing new starts, the running handlers finish and their run is
   * committed; whatever was not handled is fetched again by whoever owns the partition next.
   */
  async #handleBatch(handler: MessageHandler, payload: EachBatchPayload, limit: number): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset, commitOffsetsIfNecessary } = payload;
    const { topic, partition, messages } = batch;
    const done: boolean[] = messages.map(() => false);
    const slots = new Slots(limit);
    // Set when the batch must start nothing new: stopping, revoked or seeked, or a commit failed.
    let halted: unknown = null;
    const halt = (): boolean => halted !== null || this.#stopping.signal.aborted || !isRunning() || isStale();
    let handledThrough = 0; // messages[0 .. handledThrough) are all handled
    let committedThrough = 0;
    let committing: Promise<void> | null = null;
    let lastCommitAt = 0;
    const spacing = new AbortController();
    const commit = (): Promise<void> => {
      committing ??= (async () => {
        // Loop: handlers finishing during a commit are picked up by the next round.
        while (committedThrough < handledThrough && halted === null) {
          // Each commit is a write to the broker's offsets log: while the batch runs, commit at
          // most every COMMIT_SPACING_MS (the last round at the batch's end does not wait).
          const wait = lastCommitAt + COMMIT_SPACING_MS - Date.now();
          if (wait > 0 && !spacing.signal.aborted)
            await sleep(wait, undefined, { signal: spacing.signal }).catch(() => {});
          lastCommitAt = Date.now();
          const through = handledThrough;
          const last = messages[through - 1] as KafkaMessage;
          try {
            await commitOffsetsIfNecessary({
              topics: [{ topic, partitions: [{ partition, offset: (BigInt(last.offset) + 1n).toString() }] }],
            });
            committedThrough = through;
          } catch (error) {
            // A rebalance surfaces here: stop, and let kafkajs see the error once the batch drains.
            halted = error;
          }
        }
      })().finally(() => {
        committing = null;
      });
      return committing;
    };
    const finished = (index: number): void => {
      done[index] = true;
      const before = handledThrough;
      while (handledThrough < messages.length && done[handledThrough] === true) handledThrough++;
      if (handledThrough === before) return;
      resolveOffset((messages[handledThrough - 1] as KafkaMessage).offset);
      void commit();
    };
    // Null keys (a foreign producer's) have no order we could keep apart: they share one chain.
    const tails = new Map<string, Promise<boolean>>();
    const keepAlive = setInterval(() => void heartbeat().catch(() => {}), this.#heartbeatIntervalMs);
    try {
      const chains = messages.map((message, index) => {
        const key = message.key === null ? '\u0000null' : message.key.toString('latin1');
        const previous = tails.get(key) ?? Promise.resolve(true);
        const run = previous.then(async (previousHandled) => {
          // A key whose earlier message was left unhandled stops here: its order must hold.
          if (!previousHandled) return false;
          await slots.acquire();
          try {
            if (halt()) return false;
            const handled = await this.#deliver(
              handler,
              toIncomingMessage(topic, partition, message),
              heartbeat,
              halt,
            );
            if (handled) finished(index);
            return handled;
          } finally {
            slots.release();
          }
        });
        tails.set(key, run);
        return run;
      });
      await Promise.all(chains);
      spacing.abort(); // everything is handled or given up: commit what is done right away
      while (committing !== null) await committing;
      // A last round for handlers that finished while the final commit was in flight.
      await commit();
    } finally {
      clearInterval(keepAlive);
    }
    if (halted !== null) throw halted;
  }

  /**
   * Hands `message` to the handler until it succeeds, backing off between failures; false when
   * `halt` says to give up first (the message stays unhandled and uncommitted).
   */
  async #deliver(
    handler: MessageHandler,
    incoming: IncomingMessage,
    heartbeat: () => Promise<void>,
    halt: () => boolean,
  ): Promise<boolean> {
    for (let failures = 1; ; failures++) {
      // The batch keeps the member's heartbeat going while any of its messages runs.
      const attempt = await attemptOnce(handler, incoming);
      if (!attempt.failed) return true;
      const delay = redeliveryDelay(failures, this.#options);
      const name = attempt.error instanceof Error ? attempt.error.name : typeof attempt.error;
      this.#log.warn(
        `handler failed (${name}) on ${incoming.topic}[${incoming.partition}] at offset ` +
          `${incoming.offset}, ${failures} time(s) in a row; handing it over again in ${delay} ms`,
        { groupId: this.#options.groupId },
      );
      try {
        await this.#backOff(delay, heartbeat);
      } catch {
        return false; // the group is rebalancing: the partition's next owner gets it
      }
      if (halt()) return false;
    }
  }

  async #attempt(
    handler: MessageHandler,
    message: IncomingMessage,
    heartbeat: () => Promise<void>,
  ): Promise<Attempt> {
    // kafkajs heartbeats only between messages; a slow handler (a Stripe call with its own
    // retries) must not cost the member its partitions, so keep beating while it runs. A failed
    // beat (the group is rebalancing) surfaces at the commit, and kafkajs rejoins.
    const keepAlive = setInterval(() => void heartbeat().catch(() => {}), this.#heartbeatIntervalMs);
    try {
      await handler(message);
      return { failed: false };
    } catch (error) {
      return { failed: true, error };
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Waits `ms`, beating meanwhile; returns early on stop; throws if the group is rebalancing. */
  async #backOff(ms: number, heartbeat: () => Promise<void>): Promise<void> {
    const until = Date.now() + ms;
    for (let left = ms; left > 0; left = until - Date.now()) {
      try {
        await sleep(Math.min(left, this.#heartbeatIntervalMs), undefined, {
          signal: this.#stopping.signal,
        });
      } catch {
        return; // stopping
      }
      // On a rebalance this throws a kafkajs error: kafkajs rejoins the group, and whoever gets
      // the partition starts at this (uncommitted) message.
      await heartbeat();
    }
  }

  #restartLater(config: ConsumerRunConfig): void {
    if (this.#restartTimer !== null) return;
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      if (this.#state !== 'running') return;
      // kafkajs disconnected the crashed consumer; its subscriptions survive a new run.
      this.#consumer
        .connect()
        .then(() => this.#consumer.run(config))
        .catch((error: unknown) => {
          this.#log.error(`restarting the consumer of group ${this.#options.groupId} failed`, {
            error: (error as Error).message,
          });
          this.#restartLater(config);
        });
    }, RESTART_AFTER_CRASH_MS);
  }
}

function toIncomingMessage(topic: string, partition: number, message: KafkaMessage): IncomingMessage {
  const headers = Object.entries(message.headers ?? {}).flatMap(([name, value]) => {
    const last = Array.isArray(value) ? value.at(-1) : value;
    return last === undefined ? [] : [[name, last.toString()] as const];
  });
  const raw = message.value;
  let value: string | undefined;
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key?.toString() ?? null,
    // Decoded on first read: a consumer that goes by the headers (the executor skips most
    // event types on `event-type`) never pays for the value's UTF-8 decoding.
    get value(): string {
      return (value ??= raw?.toString() ?? '');
    },
    // fromEntries defines own properties, so a header named __proto__ stays a header.
    headers: Object.fromEntries(headers),
  };
}

async function attemptOnce(handler: MessageHandler, message: IncomingMessage): Promise<Attempt> {
  try {
    await handler(message);
    return { failed: false };
  } catch (error) {
    return { failed: true, error };
  }
}

/** A counting semaphore: at most `limit` holders at once, waiters served in arrival order. */
class Slots {
  readonly #waiting: (() => void)[] = [];
  #free: number;

  constructor(limit: number) {
    this.#free = limit;
  }

  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#free++;
  }
}
