import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { MessagingError } from '../errors.ts';
import type {
  Consumer,
  ConsumerOptions,
  MessageBus,
  MessageHandler,
  OutgoingMessage,
  Publisher,
  TopicSpec,
} from '../messageBus.ts';
import { redeliveryDelay } from '../redeliveryDelay.ts';
import { validateTopicSpecs } from '../validateTopicSpecs.ts';

/** Settings of the in-process bus. */
export interface InProcessBusOptions {
  /** Partitions of a topic first used without `ensureTopics` (a publish or a subscription); default 4. */
  readonly defaultPartitions?: number;
}

/**
 * The in-process adapter of the messaging port, for the embedded `npm start` (one process, no
 * broker). Same semantics as the Kafka adapter: topics of append-only partition logs, one key's
 * messages on one partition in publish order, consumer groups with a committed position per
 * partition, each message handled once per group unless its handler throws, in which case the
 * same message is handed over again after a back-off and nothing after it on that partition comes
 * first. A group's partitions are split among its running members (partition `p` goes to member
 * `p % n` of those subscribed to the topic, in joining order); when a member joins or leaves,
 * a partition changes hands only after the message in progress on it is done.
 *
 * Where it differs from Kafka, on purpose:
 * - The partition of a key is FNV-1a (32-bit, over UTF-16 code units) modulo the partition count,
 *   not Kafka's murmur2 partitioner: stable across runs, but the partition numbers differ from
 *   Kafka's for the same key. Only per-key order depends on it.
 * - A topic used before `ensureTopics` (published to or subscribed to) is created with
 *   `defaultPartitions`; the Kafka adapter refuses unknown topics.
 * - Nothing survives the process, and logs are never truncated (memory grows with every message):
 *   the outbox is the durable part, and the relay republishes from its checkpoint after a restart.
 * - `sessionTimeoutMs` has no meaning here: a member cannot go silent without its process.
 */
export class InProcessBus implements MessageBus {
  readonly #broker: Broker;
  readonly #consumers = new Set<InProcessConsumer>();

  constructor(options: InProcessBusOptions = {}) {
    const defaultPartitions = options.defaultPartitions ?? 4;
    validateTopicSpecs([{ topic: 'default', partitions: defaultPartitions }]);
    this.#broker = new Broker(defaultPartitions);
  }

  publisher(): Publisher {
    this.#broker.assertOpen();
    return new InProcessPublisher(this.#broker);
  }

  consumer(options: ConsumerOptions): Consumer {
    this.#broker.assertOpen();
    const consumer = new InProcessConsumer(this.#broker, options);
    this.#consumers.add(consumer);
    return consumer;
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    this.#broker.assertOpen();
    validateTopicSpecs(topics);
    for (const { topic, partitions } of topics) this.#broker.topic(topic, partitions);
  }

  async close(): Promise<void> {
    if (this.#broker.closed) return;
    this.#broker.closed = true;
    await Promise.all([...this.#consumers].map((c) => c.stop()));
  }
}

interface StoredMessage {
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** The topics and consumer groups of one bus, and a signal for "something changed". */
class Broker {
  readonly #topics = new Map<string, StoredMessage[][]>();
  readonly #groups = new Map<string, Group>();
  readonly #defaultPartitions: number;
  #change = deferred();
  closed = false;

  constructor(defaultPartitions: number) {
    this.#defaultPartitions = defaultPartitions;
  }

  assertOpen(): void {
    if (this.closed) throw new MessagingError('bus_closed', 'the message bus was closed');
  }

  /** The partition logs of `name`, created with `partitions` (or the default) if it is new. */
  topic(name: string, partitions = this.#defaultPartitions): StoredMessage[][] {
    let logs = this.#topics.get(name);
    if (logs === undefined) {
      validateTopicSpecs([{ topic: name, partitions }]);
      logs = Array.from({ length: partitions }, () => []);
      this.#topics.set(name, logs);
    }
    return logs;
  }

  join(member: InProcessConsumer, options: ConsumerOptions): Group {
    let group = this.#groups.get(options.groupId);
    if (group === undefined) {
      group = new Group();
      this.#groups.set(options.groupId, group);
    }
    for (const topic of options.topics) {
      if (group.positions.has(topic)) continue;
      // Like Kafka's auto.offset.reset: a group without a position starts at either end.
      const logs = this.topic(topic);
      group.positions.set(
        topic,
        logs.map((log) => ((options.fromBeginning ?? true) ? 0 : log.length)),
      );
    }
    group.members.push(member);
    this.notify();
    return group;
  }

  leave(member: InProcessConsumer, group: Group): void {
    const at = group.members.indexOf(member);
    if (at >= 0) group.members.splice(at, 1);
    this.notify();
  }

  /** Resolves at the next `notify` (take it before looking at the state, so no change is missed). */
  nextChange(): Promise<void> {
    return this.#change.promise;
  }

  /** Wakes every consumer: messages were appended, a partition was freed, members changed. */
  notify(): void {
    const change = this.#change;
    this.#change = deferred();
    change.resolve();
  }
}

/** What the members of one consumer group share. */
class Group {
  /** Running members, in joining order. */
  readonly members: InProcessConsumer[] = [];
  /** The committed position (next offset to hand over) of each partition, per topic. */
  readonly positions = new Map<string, number[]>();
  /** Partitions a member is handling right now: nobody else touches them meanwhile. */
  readonly busy = new Set<string>();
  /** Failures in a row of the message at a partition's position, and when to hand it over again. */
  readonly failures = new Map<string, { readonly count: number; readonly retryAt: number }>();

  owns(member: InProcessConsumer, topic: string, partition: number): boolean {
    const subscribed = this.members.filter((m) => m.subscribesTo(topic));
    return subscribed.length > 0 && subscribed[partition % subscribed.length] === member;
  }
}

class InProcessPublisher implements Publisher {
  readonly #broker: Broker;

  constructor(broker: Broker) {
    this.#broker = broker;
  }

  async connect(): Promise<void> {
    this.#broker.assertOpen();
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    this.#broker.assertOpen();
    for (const m of messages) {
      const logs = this.#broker.topic(m.topic);
      logs[partitionOf(m.key, logs.length)]?.push({ key: m.key, value: m.value, headers: { ...m.headers } });
    }
    this.#broker.notify();
  }

  async disconnect(): Promise<void> {}
}

class InProcessConsumer implements Consumer {
  readonly #broker: Broker;
  readonly #options: ConsumerOptions;
  #state: 'new' | 'running' | 'stopped' = 'new';
  #group: Group | null = null;
  #loop: Promise<void> = Promise.resolve();

  constructor(broker: Broker, options: ConsumerOptions) {
    this.#broker = broker;
    this.#options = options;
  }

  subscribesTo(topic: string): boolean {
    return this.#options.topics.includes(topic);
  }

  async run(handler: MessageHandler): Promise<void> {
    this.#broker.assertOpen();
    if (this.#state !== 'new')
      throw new MessagingError('consumer_reused', 'this consumer already ran: create a new one');
    this.#state = 'running';
    const group = this.#broker.join(this, this.#options);
    this.#group = group;
    this.#loop = this.#consume(group, handler);
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const ran = this.#state === 'running';
    this.#state = 'stopped';
    if (!ran || this.#group === null) return;
    this.#broker.notify();
    await this.#loop;
    this.#broker.leave(this, this.#group);
  }

  /** Starts a worker on every partition this member owns that has work, up to `concurrency`. */
  async #consume(group: Group, handler: MessageHandler): Promise<void> {
    const concurrency = Math.max(1, this.#options.concurrency ?? 1);
    const workers = new Set<Promise<void>>();
    while (this.#state === 'running') {
      const changed = this.#broker.nextChange();
      const now = Date.now();
      let wakeAt = Number.POSITIVE_INFINITY;
      for (const topic of this.#options.topics) {
        const logs = this.#broker.topic(topic);
        const positions = group.positions.get(topic) ?? [];
        for (let p = 0; p < logs.length && workers.size < concurrency; p++) {
          const key = partitionKey(topic, p);
          if (group.busy.has(key) || !group.owns(this, topic, p)) continue;
          if ((positions[p] ?? 0) >= (logs[p]?.length ?? 0)) continue;
          const failure = group.failures.get(key);
          if (failure !== undefined && failure.retryAt > now) {
            wakeAt = Math.min(wakeAt, failure.retryAt);
            continue;
          }
          group.busy.add(key);
          const worker: Promise<void> = this.#work(group, topic, p, handler).finally(() => {
            group.busy.delete(key);
            workers.delete(worker);
            this.#broker.notify();
          });
          workers.add(worker);
        }
      }
      await untilChangeOr(changed, wakeAt);
    }
    await Promise.all(workers);
  }

  /** Hands over the partition's messages in order until it is drained, a handler fails, or stop. */
  async #work(group: Group, topic: string, partition: number, handler: MessageHandler): Promise<void> {
    const key = partitionKey(topic, partition);
    const log = this.#broker.topic(topic)[partition] ?? [];
    const positions = group.positions.get(topic) ?? [];
    for (let handled = 1; this.#state === 'running' && group.owns(this, topic, partition); handled++) {
      const offset = positions[partition] ?? 0;
      const stored = log[offset];
      if (stored === undefined) return;
      try {
        await handler({
          topic,
          partition,
          offset: String(offset),
          key: stored.key,
          value: stored.value,
          headers: { ...stored.headers },
        });
      } catch {
        // Not committed: the same message is handed over again after the back-off.
        const count = (group.failures.get(key)?.count ?? 0) + 1;
        group.failures.set(key, { count, retryAt: Date.now() + redeliveryDelay(count, this.#options) });
        return;
      }
      group.failures.delete(key);
      positions[partition] = offset + 1;
      // A handler that never really waits would keep the event loop to itself for a whole backlog.
      if (handled % 64 === 0) await yieldToEventLoop();
    }
  }
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** FNV-1a (32-bit) of the key modulo the partition count: not Kafka's murmur2 (see InProcessBus). */
function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}

function deferred(): { readonly promise: Promise<void>; readonly resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function untilChangeOr(change: Promise<void>, wakeAt: number): Promise<void> {
  if (wakeAt === Number.POSITIVE_INFINITY) return await change;
  let timer: NodeJS.Timeout | undefined;
  const due = new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, wakeAt - Date.now()))));
  try {
    await Promise.race([change, due]);
  } finally {
    clearTimeout(timer);
  }
}
