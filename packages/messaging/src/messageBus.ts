/**
 * The messaging port. The outbox relay publishes through it, the Stripe executor consumes through
 * it, and neither knows whether Kafka (`KafkaBus`) or memory (`InProcessBus`) is behind it.
 *
 * Delivery is at least once: a message can arrive twice (a publish that is re-sent after a
 * failure, a handler that succeeded but whose offset commit did not). Every message carries an
 * `event-id` header and every consumer dedupes on it.
 */

/** A message to publish. Messages with the same `key` land on one partition, in publish order. */
export interface OutgoingMessage {
  readonly topic: string;
  /** The partitioning key: the payment (stream) id, so one payment's events stay in order. */
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** A consumed message and where it sits in its partition. */
export interface IncomingMessage {
  readonly topic: string;
  readonly partition: number;
  /** Offset in the partition, as a decimal string (Kafka offsets are 64-bit). */
  readonly offset: string;
  /** Null only for a message a foreign producer wrote without a key. */
  readonly key: string | null;
  /** Empty for a message without a value (a Kafka tombstone). */
  readonly value: string;
  /** Header values as UTF-8; for a header repeated in one message, the last value wins. */
  readonly headers: Readonly<Record<string, string>>;
}

/** Publishes messages; one key's messages keep their order, across calls and retries. */
export interface Publisher {
  /** Connects now rather than on the first `publish` (idempotent); rejects with `publish_failed`. */
  connect(): Promise<void>;
  /**
   * Publishes `messages` and resolves only once every one is acknowledged by all in-sync replicas.
   * Rejects with `publish_failed` otherwise: then none, some or all were written, so re-send them
   * (consumers dedupe on `event-id`). Calls on one publisher are applied one after another.
   */
  publish(messages: readonly OutgoingMessage[]): Promise<void>;
  /** Waits for a `publish` in progress, then disconnects; a later `publish` connects again. */
  disconnect(): Promise<void>;
}

/** Handles one message: resolving means "done, move past it"; throwing means "give it to me again". */
export type MessageHandler = (message: IncomingMessage) => Promise<void>;

/**
 * A consumer-group member. Each message of a partition goes to one member of the group, in offset
 * order, one at a time (or, with `concurrencyPerPartition`, one at a time per key). A group's position in a partition moves past a message only after the
 * handler resolved for it. A handler that throws gets the same message again after a delay (200 ms,
 * doubling up to 5 s by default) and nothing after it on that partition comes first: a message is
 * never skipped, so a handler that must give up (dead-letter) does so itself, then resolves.
 */
export interface Consumer {
  /** Joins the group and starts handling messages in the background; a consumer runs only once. */
  run(handler: MessageHandler): Promise<void>;
  /** Waits for the handlers in progress (their offsets are still committed), then leaves the group. */
  stop(): Promise<void>;
}

/** A consumer-group member's settings. */
export interface ConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Where a group without a committed position starts: the beginning (default) or the end. */
  readonly fromBeginning?: boolean;
  /** How long a silent member keeps its partitions (Kafka's session timeout; default 30 s). */
  readonly sessionTimeoutMs?: number;
  /** Partitions this member handles at once (order stays per partition); default 1. */
  readonly concurrency?: number;
  /**
   * Messages of one partition handled at once, default 1. Above 1, messages with different keys
   * run concurrently while one key's messages still go one at a time in offset order (a message
   * waits for every earlier message of its key). The position still moves only past a contiguous
   * run of handled messages, and a failed handler is still handed its message again in place: its
   * later messages of the same key wait, other keys go on. Adapters may handle fewer at once.
   */
  readonly concurrencyPerPartition?: number;
  /** First wait before a failed message is handed over again; doubles per failure. Default 200 ms. */
  readonly retryDelayMs?: number;
  /** Upper bound of that wait; default 5 s. */
  readonly maxRetryDelayMs?: number;
}

/** A topic and how many partitions it should be created with. */
export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
}

/** The messaging port: nothing else in the system knows whether Kafka or memory is behind it. */
export interface MessageBus {
  /** A new publisher on this bus. */
  publisher(): Publisher;
  /** A new consumer-group member on this bus. */
  consumer(options: ConsumerOptions): Consumer;
  /** Creates the topics that do not exist yet; existing ones are left as they are (idempotent). */
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>;
  /** Stops every consumer and disconnects every publisher this bus made; the bus is unusable after. */
  close(): Promise<void>;
}
