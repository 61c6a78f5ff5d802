import { Kafka, logLevel as kafkaLogLevel } from 'kafkajs';
import { MessagingError } from '../errors.ts';
import type { Consumer, ConsumerOptions, MessageBus, Publisher, TopicSpec } from '../messageBus.ts';
import { validateTopicSpecs } from '../validateTopicSpecs.ts';
import { KafkaGroupConsumer } from './kafkaConsumer.ts';
import { kafkaLogCreator } from './kafkaLogCreator.ts';
import { KafkaPublisher } from './kafkaPublisher.ts';
import { waitForTopicLeaders } from './topicLeaders.ts';

/** Where the Kafka brokers are and how the bus introduces itself. */
export interface KafkaBusOptions {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[];
  /** Sent to the brokers with every request (their logs and quotas use it). */
  readonly clientId: string;
  /**
   * kafkajs log level, `warn` by default. DEBUG is not offered: with
   * KAFKAJS_DEBUG_PROTOCOL_BUFFERS set it logs raw requests, message values included.
   */
  readonly logLevel?: 'nothing' | 'error' | 'warn' | 'info';
}

/** How long `ensureTopics` waits for a new topic's partitions to have leaders. */
const TOPIC_LEADERS_TIMEOUT_MS = 30_000;

const levels = {
  nothing: kafkaLogLevel.NOTHING,
  error: kafkaLogLevel.ERROR,
  warn: kafkaLogLevel.WARN,
  info: kafkaLogLevel.INFO,
} as const;

/**
 * The Kafka adapter of the messaging port (kafkajs). Publishers are idempotent with acks from all
 * in-sync replicas and keep each key's order under retries (see `KafkaPublisher`); consumers
 * commit each offset only after their handler resolved (see `KafkaGroupConsumer`).
 */
export class KafkaBus implements MessageBus {
  readonly #kafka: Kafka;
  readonly #publishers = new Set<Publisher>();
  readonly #consumers = new Set<Consumer>();
  #closed = false;

  constructor(options: KafkaBusOptions) {
    this.#kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: levels[options.logLevel ?? 'warn'],
      logCreator: kafkaLogCreator,
      // Connection and metadata retries (a publish has its own budget, in KafkaPublisher).
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
  }

  publisher(): Publisher {
    this.#assertOpen();
    const publisher = new KafkaPublisher(this.#kafka, () => this.#closed);
    this.#publishers.add(publisher);
    return publisher;
  }

  consumer(options: ConsumerOptions): Consumer {
    this.#assertOpen();
    const consumer = new KafkaGroupConsumer(this.#kafka, options, () => this.#closed);
    this.#consumers.add(consumer);
    return consumer;
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    this.#assertOpen();
    validateTopicSpecs(topics);
    const admin = this.#kafka.admin();
    try {
      await admin.connect();
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.topic));
      if (missing.length === 0) return;
      // Another process may create the same topics meanwhile: kafkajs ignores the error when
      // every failure in the answer is TOPIC_ALREADY_EXISTS. The replication factor is the
      // broker's default.replication.factor.
      await admin.createTopics({
        topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions })),
        // kafkajs's wait gives up when the broker does not know the new topic yet (a fresh
        // broker on a slow machine answers UNKNOWN_TOPIC_OR_PARTITION for a moment); ours
        // takes that as "not yet".
        waitForLeaders: false,
      });
      await waitForTopicLeaders((names) => admin.fetchTopicMetadata({ topics: names }), missing, {
        timeoutMs: TOPIC_LEADERS_TIMEOUT_MS,
      });
    } catch (error) {
      throw new MessagingError(
        'topic_setup_failed',
        `could not create the topics ${topics.map((t) => t.topic).join(', ')}: ${(error as Error).message}`,
        { cause: error },
      );
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#consumers].map((c) => c.stop()));
    await Promise.allSettled([...this.#publishers].map((p) => p.disconnect()));
  }

  #assertOpen(): void {
    if (this.#closed) throw new MessagingError('bus_closed', 'the message bus was closed');
  }
}
