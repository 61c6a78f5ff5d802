import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { testBrokers, testKafka, waitFor } from '@payledger/testkit/vitest';
import { KafkaBus } from './kafkaBus.ts';
import type { IncomingMessage } from '../messageBus.ts';

const bus = (): KafkaBus =>
  new KafkaBus({ brokers: testBrokers(), clientId: 'bus-test', logLevel: 'nothing' });

describe('kafka bus', () => {
  it('creates missing topics with the requested partitions, idempotently', async () => {
    const topic = `bus.topics.${randomBytes(4).toString('hex')}`;
    await bus().ensureTopics([{ topic, partitions: 4 }]);
    await bus().ensureTopics([{ topic, partitions: 4 }]);
    const admin = testKafka().admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.disconnect();
    expect(meta.topics[0]?.partitions).toHaveLength(4);
  });

  it('publishes with keys and headers, and consumes per-key in order', async () => {
    const topic = `bus.order.${randomBytes(4).toString('hex')}`;
    const b = bus();
    await b.ensureTopics([{ topic, partitions: 3 }]);
    const pub = b.publisher();
    await pub.connect();
    const keys = Array.from({ length: 10 }, (_, i) => `pay_${i}`);
    const messages = Array.from({ length: 20 }, (_, seq) =>
      keys.map((key) => ({ topic, key, value: String(seq), headers: { 'event-id': `${key}-${seq}` } })),
    ).flat();
    await pub.publish(messages);
    await pub.disconnect();
    const seen = new Map<string, IncomingMessage[]>();
    const consumer = b.consumer({ groupId: `${topic}.g`, topics: [topic] });
    await consumer.run(async (m) => void seen.set(m.key ?? '', [...(seen.get(m.key ?? '') ?? []), m]));
    try {
      await waitFor(async () => [...seen.values()].flat().length >= 200, {
        timeoutMs: 30_000,
        describe: () => 'not all consumed',
      });
    } finally {
      await consumer.stop();
    }
    for (const key of keys) {
      const got = seen.get(key) ?? [];
      expect(got.map((m) => m.value)).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
      expect(got.map((m) => m.headers['event-id'])).toEqual(got.map((m) => `${key}-${m.value}`));
    }
  });

  it('retries a message whose handler failed and commits only what was handled', async () => {
    const topic = `bus.retry.${randomBytes(4).toString('hex')}`;
    const b = bus();
    await b.ensureTopics([{ topic, partitions: 1 }]);
    const pub = b.publisher();
    await pub.publish(['a', 'b', 'c'].map((v) => ({ topic, key: 'k', value: v, headers: {} })));
    await pub.disconnect();
    const handled: string[] = [];
    let failedOnce = false;
    const first = b.consumer({ groupId: `${topic}.g`, topics: [topic] });
    await first.run(async (m) => {
      if (m.value === 'b' && !failedOnce) {
        failedOnce = true;
        throw new Error('transient');
      }
      handled.push(m.value);
    });
    try {
      await waitFor(async () => handled.length >= 3, {
        timeoutMs: 30_000,
        describe: () => `handled ${handled.join(',')}`,
      });
    } finally {
      await first.stop();
    }
    expect(handled).toEqual(['a', 'b', 'c']);
    // A new member of the group starts after the committed offsets: nothing handled comes again.
    const pub2 = b.publisher();
    await pub2.publish([{ topic, key: 'k', value: 'd', headers: {} }]);
    await pub2.disconnect();
    const again: string[] = [];
    const second = b.consumer({ groupId: `${topic}.g`, topics: [topic] });
    await second.run(async (m) => void again.push(m.value));
    try {
      await waitFor(async () => again.length >= 1, {
        timeoutMs: 30_000,
        describe: () => 'second member got nothing',
      });
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await second.stop();
    }
    expect(again).toEqual(['d']);
  });
});
