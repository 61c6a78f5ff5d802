import type {
  Consumer,
  ConsumerOptions,
  IncomingMessage,
  MessageBus,
  MessageHandler,
  OutgoingMessage,
  Publisher,
} from '../messageBus.ts';

interface StoredMessage {
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** FNV-1a of the key, for the partition. Not Kafka's murmur2: only order per key matters here. */
function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}

/**
 * The in-process adapter (embedded `npm start`): topics of append-only partition logs in memory,
 * consumer groups with committed offsets per partition. Same semantics as the Kafka adapter: per-key
 * order, a group sees each message once unless its handler throws, in which case the same message
 * is retried (after a short pause) before anything after it on that partition. One active consumer
 * per group (a second `run` in the same group waits as a standby would). Nothing survives a restart:
 * the outbox is the durable part, and the relay republishes from its checkpoint.
 */
export class InProcessBus implements MessageBus {
  readonly #topics = new Map<string, StoredMessage[][]>();
  readonly #offsets = new Map<string, number[]>();
  readonly #wakers = new Set<() => void>();
  readonly #defaultPartitions: number;
  readonly #retryDelayMs: number;

  constructor(options: { defaultPartitions?: number; retryDelayMs?: number } = {}) {
    this.#defaultPartitions = options.defaultPartitions ?? 4;
    this.#retryDelayMs = options.retryDelayMs ?? 200;
  }

  publisher(): Publisher {
    return {
      connect: async () => {},
      publish: async (messages: readonly OutgoingMessage[]) => {
        for (const m of messages) {
          const partitions = this.#topic(m.topic);
          const p = partitions[partitionOf(m.key, partitions.length)] as StoredMessage[];
          p.push({ key: m.key, value: m.value, headers: { ...m.headers } });
        }
        for (const wake of [...this.#wakers]) wake();
      },
      disconnect: async () => {},
    };
  }

  consumer(options: ConsumerOptions): Consumer {
    let running = false;
    let loop: Promise<void> | null = null;
    let wake: (() => void) | null = null;
    const waitForWork = (ms: number) =>
      new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.#wakers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        wake = done;
        this.#wakers.add(done);
      });
    return {
      run: async (handler: MessageHandler) => {
        running = true;
        loop = (async () => {
          while (running) {
            let progressed = false;
            for (const topic of options.topics) {
              const partitions = this.#topic(topic);
              const offsets = this.#groupOffsets(
                options.groupId,
                topic,
                partitions.length,
                options.fromBeginning ?? true,
              );
              for (let p = 0; p < partitions.length && running; p++) {
                const log = partitions[p] as StoredMessage[];
                const at = offsets[p] as number;
                const stored = log[at];
                if (stored === undefined) continue;
                const message: IncomingMessage = {
                  topic,
                  partition: p,
                  offset: String(at),
                  key: stored.key,
                  value: stored.value,
                  headers: stored.headers,
                };
                try {
                  await handler(message);
                  offsets[p] = at + 1;
                  progressed = true;
                } catch {
                  // Not committed: the same message comes again, nothing after it first.
                  await waitForWork(this.#retryDelayMs);
                }
              }
            }
            if (!progressed && running) await waitForWork(1_000);
          }
        })();
      },
      stop: async () => {
        running = false;
        (wake as (() => void) | null)?.();
        await loop;
      },
    };
  }

  async ensureTopics(
    topics: readonly { readonly topic: string; readonly partitions: number }[],
  ): Promise<void> {
    for (const t of topics) this.#topic(t.topic, t.partitions);
  }

  async close(): Promise<void> {
    for (const wake of [...this.#wakers]) wake();
  }

  #topic(topic: string, partitions = this.#defaultPartitions): StoredMessage[][] {
    let t = this.#topics.get(topic);
    if (t === undefined) {
      t = Array.from({ length: partitions }, () => []);
      this.#topics.set(topic, t);
    }
    return t;
  }

  #groupOffsets(groupId: string, topic: string, partitions: number, fromBeginning: boolean): number[] {
    const k = `${groupId}\u0000${topic}`;
    let offsets = this.#offsets.get(k);
    if (offsets === undefined) {
      const logs = this.#topic(topic);
      offsets = Array.from({ length: partitions }, (_, p) => (fromBeginning ? 0 : (logs[p]?.length ?? 0)));
      this.#offsets.set(k, offsets);
    }
    return offsets;
  }
}
