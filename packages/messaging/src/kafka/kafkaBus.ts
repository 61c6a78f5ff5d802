import { Kafka, logLevel as kafkaLogLevel, type Consumer as KafkaConsumer, type Producer } from 'kafkajs';
import type {
  Consumer,
  ConsumerOptions,
  IncomingMessage,
  MessageBus,
  MessageHandler,
  OutgoingMessage,
  Publisher,
} from '../messageBus.ts';

export interface KafkaBusOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** kafkajs log level; WARN by default. Message values are never logged. */
  readonly logLevel?: 'nothing' | 'error' | 'warn' | 'info';
}

const levels = {
  nothing: kafkaLogLevel.NOTHING,
  error: kafkaLogLevel.ERROR,
  warn: kafkaLogLevel.WARN,
  info: kafkaLogLevel.INFO,
};

/** The kafkajs adapter of the messaging port. */
export class KafkaBus implements MessageBus {
  readonly #kafka: Kafka;

  constructor(options: KafkaBusOptions) {
    this.#kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: levels[options.logLevel ?? 'warn'],
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
  }

  publisher(): Publisher {
    // Order per key under retries: an idempotent producer (the broker drops a resent batch it
    // already has, by producer id and sequence) with ONE request in flight. kafkajs's idempotent
    // producer is only safe with maxInFlightRequests = 1: with more, a retried request can land
    // behind a later one and kafkajs does not re-sequence (OutOfOrderSequenceNumber errors and
    // reordering are reported against kafkajs for maxInFlightRequests > 1). acks = -1 (all
    // in-sync replicas) is required by the idempotent producer and is what "published" means here.
    const producer: Producer = this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    let connected = false;
    return {
      async connect() {
        if (connected) return;
        await producer.connect();
        connected = true;
      },
      async publish(messages: readonly OutgoingMessage[]) {
        if (messages.length === 0) return;
        if (!connected) {
          await producer.connect();
          connected = true;
        }
        const byTopic = new Map<string, { key: string; value: string; headers: Record<string, string> }[]>();
        for (const m of messages) {
          const list = byTopic.get(m.topic) ?? [];
          list.push({ key: m.key, value: m.value, headers: { ...m.headers } });
          byTopic.set(m.topic, list);
        }
        await producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic.entries()].map(([topic, msgs]) => ({ topic, messages: msgs })),
        });
      },
      async disconnect() {
        if (!connected) return;
        connected = false;
        await producer.disconnect();
      },
    };
  }

  consumer(options: ConsumerOptions): Consumer {
    const consumer: KafkaConsumer = this.#kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      ...(options.sessionTimeoutMs !== undefined
        ? {
            sessionTimeout: options.sessionTimeoutMs,
            heartbeatInterval: Math.floor(options.sessionTimeoutMs / 5),
          }
        : {}),
    });
    let started = false;
    return {
      async run(handler: MessageHandler) {
        await consumer.connect();
        for (const topic of options.topics)
          await consumer.subscribe({ topic, fromBeginning: options.fromBeginning ?? true });
        started = true;
        await consumer.run({
          // Offsets are committed by us, after the handler made its work durable.
          autoCommit: false,
          partitionsConsumedConcurrently: options.concurrency ?? 1,
          eachMessage: async ({ topic, partition, message }) => {
            const incoming: IncomingMessage = {
              topic,
              partition,
              offset: message.offset,
              key: message.key?.toString() ?? null,
              value: message.value?.toString() ?? '',
              headers: Object.fromEntries(
                Object.entries(message.headers ?? {}).map(([k, v]) => [
                  k,
                  Array.isArray(v) ? v.map(String).join(',') : String(v ?? ''),
                ]),
              ),
            };
            // A throw here makes kafkajs re-fetch from the last committed offset: the message is retried.
            await handler(incoming);
            await consumer.commitOffsets([
              { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
            ]);
          },
        });
      },
      async stop() {
        if (!started) return;
        started = false;
        await consumer.disconnect();
      },
    };
  }

  async ensureTopics(
    topics: readonly { readonly topic: string; readonly partitions: number }[],
  ): Promise<void> {
    const admin = this.#kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.topic));
      if (missing.length > 0) {
        // createTopics answers false (not an error) when a topic already exists: racing creators are fine.
        await admin.createTopics({
          topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions })),
          waitForLeaders: true,
        });
      }
    } finally {
      await admin.disconnect();
    }
  }

  async close(): Promise<void> {
    // Publishers and consumers own their connections; nothing shared to release.
  }
}
