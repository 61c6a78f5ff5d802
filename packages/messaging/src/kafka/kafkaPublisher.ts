import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { MessagingError } from '../errors.ts';
import type { OutgoingMessage, Publisher } from '../messageBus.ts';

/**
 * Retries of one `publish` inside kafkajs before it rejects (about 15 s of back-off, plus the
 * time each attempt takes). kafkajs retries an idempotent producer forever by default, which would
 * leave the relay stuck on a publish that never settles; bounded, the relay sees the failure, backs
 * off on its own terms and re-sends.
 */
const PRODUCER_RETRY = { retries: 6, initialRetryTime: 300, maxRetryTime: 5_000 };

/**
 * The kafkajs publisher.
 *
 * Per-key order under retries, and "acknowledged" meaning durable:
 * - `acks: -1`: the leader answers only once every in-sync replica has the batch, so an
 *   acknowledged message survives the loss of the leader (as far as the topic's
 *   `min.insync.replicas` demands; that is a broker/topic setting, 2 with 3 replicas in
 *   production). kafkajs also refuses any other value for an idempotent producer.
 * - `idempotent: true`: every batch carries (producer id, partition, sequence number). A retry of
 *   a batch the broker already wrote (its ack got lost) is dropped as a duplicate instead of
 *   written twice, and a batch whose sequence number does not follow the last one is refused
 *   instead of written out of order.
 * - `maxInFlightRequests: 1`: the Java client keeps order with up to 5 requests in flight only
 *   because it re-sequences and re-sends the failed ones in order (KAFKA-5494). kafkajs does not
 *   implement that (maintainers' answer in tulios/kafkajs#980), so with more than one in flight a
 *   failed request can be retried behind a later one: OUT_OF_ORDER_SEQUENCE_NUMBER errors, or
 *   reordering (tulios/kafkajs#598). One request in flight per broker connection avoids it.
 * - `publish` calls are applied one after another: the next one starts only when the previous one
 *   has settled, so a retried batch can never land behind a later call's batch for the same key.
 * - After a failed publish the producer is thrown away and the next publish uses a new one (a new
 *   producer id). kafkajs rolls its sequence numbers back when a request fails, but the broker may
 *   have written that request anyway (a timeout). A re-send of *different* messages under the same
 *   numbers would then be refused, or, if the batch sizes happen to match, acknowledged as a
 *   duplicate without being written. The idempotent producer in kafkajs stays broken until it is
 *   restarted after such errors (tulios/kafkajs#598). A new producer id starts clean sequences.
 */
export class KafkaPublisher implements Publisher {
  readonly #kafka: Kafka;
  readonly #isClosed: () => boolean;
  #producer: Producer | null = null;
  /** The tail of the queue of calls: each call starts once the previous one has settled. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(kafka: Kafka, isClosed: () => boolean) {
    this.#kafka = kafka;
    this.#isClosed = isClosed;
  }

  connect(): Promise<void> {
    return this.#serially(async () => void (await this.#connected()));
  }

  publish(messages: readonly OutgoingMessage[]): Promise<void> {
    return this.#serially(async () => {
      if (messages.length === 0) return;
      const producer = await this.#connected();
      const byTopic = new Map<string, Message[]>();
      for (const m of messages) {
        const list = byTopic.get(m.topic) ?? [];
        list.push({ key: m.key, value: m.value, headers: { ...m.headers } });
        byTopic.set(m.topic, list);
      }
      try {
        await producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })),
        });
      } catch (error) {
        await this.#discard(producer);
        throw new MessagingError(
          'publish_failed',
          `Kafka did not acknowledge all ${messages.length} messages (none, some or all were written; ` +
            `re-send them): ${(error as Error).message}`,
          { cause: error },
        );
      }
    });
  }

  disconnect(): Promise<void> {
    return this.#serially(async () => {
      const producer = this.#producer;
      if (producer !== null) await this.#discard(producer);
    });
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(work);
    this.#queue = result.catch(() => {});
    return result;
  }

  async #connected(): Promise<Producer> {
    if (this.#isClosed()) throw new MessagingError('bus_closed', 'the message bus was closed');
    if (this.#producer !== null) return this.#producer;
    const producer = this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // The code that owns a topic creates it (ensureTopics): a typo must not create one.
      allowAutoTopicCreation: false,
      // murmur2, as the Java client: a key lands on the same partition whoever produces it. Named
      // explicitly, because kafkajs warns on every producer that leaves it to the default.
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: PRODUCER_RETRY,
    });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => {});
      throw new MessagingError('publish_failed', `cannot connect to Kafka: ${(error as Error).message}`, {
        cause: error,
      });
    }
    this.#producer = producer;
    return producer;
  }

  async #discard(producer: Producer): Promise<void> {
    if (this.#producer === producer) this.#producer = null;
    await producer.disconnect().catch(() => {});
  }
}
