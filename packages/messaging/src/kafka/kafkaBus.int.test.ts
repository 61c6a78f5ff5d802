import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createTestTopic, testBrokers, testKafka, waitFor } from '@payledger/testkit/vitest';
import { MessagingError } from '../errors.ts';
import type { Consumer, IncomingMessage, MessageHandler, OutgoingMessage } from '../messageBus.ts';
import { KafkaBus } from './kafkaBus.ts';

// 'error' keeps the expected "handler failed" warnings out of the test output.
const bus = new KafkaBus({ brokers: testBrokers(), clientId: 'messaging-int', logLevel: 'error' });
afterAll(() => bus.close());

const running: Consumer[] = [];
async function consume(
  groupId: string,
  topic: string,
  handler: MessageHandler,
  concurrencyPerPartition = 1,
): Promise<Consumer> {
  const consumer = bus.consumer({
    groupId,
    topics: [topic],
    retryDelayMs: 100,
    maxRetryDelayMs: 400,
    concurrencyPerPartition,
  });
  running.push(consumer);
  await consumer.run(handler);
  return consumer;
}
afterAll(() => Promise.all(running.map((c) => c.stop())));

/** The group's committed offsets of `topic`, by partition (-1: nothing committed). */
async function committed(groupId: string, topic: string): Promise<Map<number, string>> {
  const admin = testKafka('messaging-int-admin').admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((offsets?.partitions ?? []).map((p) => [p.partition, p.offset]));
  } finally {
    await admin.disconnect();
  }
}

const message = (topic: string, value: string, key = 'k'): OutgoingMessage => ({
  topic,
  key,
  value,
  headers: { 'event-id': `${key}/${value}` },
});

describe('kafka bus', () => {
  it('creates a missing topic with the requested partitions, idempotently', async () => {
    const topic = `messaging.topics.${randomBytes(6).toString('hex')}`;
    await bus.ensureTopics([{ topic, partitions: 4 }]);
    await bus.ensureTopics([{ topic, partitions: 7 }]); // exists: left as it is
    const admin = testKafka('messaging-int-admin').admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(meta.topics[0]?.partitions).toHaveLength(4);
    } finally {
      await admin.disconnect();
    }
    await expect(bus.ensureTopics([{ topic: `${topic}.x`, partitions: 0 }])).rejects.toMatchObject({
      code: 'topic_setup_failed',
    });
  });

  it('keeps each key in order with its key and headers, across concurrent publish calls', async () => {
    const topic = await createTestTopic('messaging.order', 3);
    const keys = Array.from({ length: 10 }, (_, i) => `pay_${i}`);
    const all = Array.from({ length: 20 }, (_, seq) =>
      keys.map((key) => ({
        topic,
        key,
        value: JSON.stringify({ key, seq }),
        headers: { 'event-id': `${key}-${seq}`, 'event-type': 'PaymentCreated.v1' },
      })),
    ).flat();
    const publisher = bus.publisher();
    await publisher.connect();
    // Ten calls not awaited one by one: the publisher applies them in call order.
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => publisher.publish(all.slice(i * 20, i * 20 + 20))),
    );
    await publisher.disconnect();

    const seen: IncomingMessage[] = [];
    const consumer = await consume(`${topic}.group`, topic, async (m) => void seen.push(m));
    await waitFor(async () => seen.length >= 200, {
      timeoutMs: 30_000,
      describe: () => `consumed ${seen.length} of 200`,
    });
    await consumer.stop();

    expect(seen).toHaveLength(200);
    for (const key of keys) {
      const mine = seen.filter((m) => m.key === key);
      expect(mine.map((m) => (JSON.parse(m.value) as { seq: number }).seq)).toEqual(
        Array.from({ length: 20 }, (_, i) => i),
      );
      expect(mine.map((m) => m.headers['event-id'])).toEqual(
        Array.from({ length: 20 }, (_, i) => `${key}-${i}`),
      );
      expect(mine.every((m) => m.headers['event-type'] === 'PaymentCreated.v1')).toBe(true);
      expect(new Set(mine.map((m) => m.partition)).size).toBe(1);
    }
    // Everything handled is committed: 200 over the 3 partitions.
    const offsets = await committed(`${topic}.group`, topic);
    expect([...offsets.values()].reduce((sum, o) => sum + Number(o), 0)).toBe(200);
  });

  it('hands a message whose handler threw over again, and commits only after success', async () => {
    const topic = await createTestTopic('messaging.retry', 1);
    const group = `${topic}.group`;
    const publisher = bus.publisher();
    await publisher.publish(['a', 'b', 'c'].map((v) => message(topic, v)));
    const calls: string[] = [];
    let failOnce = true;
    const first = await consume(group, topic, async (m) => {
      calls.push(m.value);
      if (m.value === 'b' && failOnce) {
        failOnce = false;
        // A TypeError (what fetch throws on a network failure): kafkajs, left to itself, would
        // crash the consumer for good on it.
        throw new TypeError('fetch failed');
      }
    });
    await waitFor(async () => calls.length >= 4, {
      timeoutMs: 30_000,
      describe: () => `calls: ${calls.join(',')}`,
    });
    await waitFor(async () => (await committed(group, topic)).get(0) === '3', {
      timeoutMs: 10_000,
      describe: () => 'the offset after c was not committed',
    });
    await first.stop();
    expect(calls).toEqual(['a', 'b', 'b', 'c']);

    // A new member of the group starts after what was handled: nothing comes twice.
    await publisher.publish([message(topic, 'd')]);
    await publisher.disconnect();
    const again: string[] = [];
    const second = await consume(group, topic, async (m) => void again.push(m.value));
    await waitFor(async () => (await committed(group, topic)).get(0) === '4', {
      timeoutMs: 30_000,
      describe: () => `second member got ${again.join(',')}`,
    });
    await second.stop();
    expect(again).toEqual(['d']);
  });

  it('never commits past a message that was not handled: the next member gets it', async () => {
    const topic = await createTestTopic('messaging.stuck', 1);
    const group = `${topic}.group`;
    const publisher = bus.publisher();
    await publisher.publish(['a', 'b', 'c'].map((v) => message(topic, v)));
    await publisher.disconnect();
    const calls: string[] = [];
    const first = await consume(group, topic, async (m) => {
      calls.push(m.value);
      if (m.value === 'b') throw new Error('Stripe is down');
    });
    await waitFor(async () => calls.filter((v) => v === 'b').length >= 3, {
      timeoutMs: 30_000,
      describe: () => `calls: ${calls.join(',')}`,
    });
    // a is committed, b is not, and c was never handed over before b succeeded.
    expect((await committed(group, topic)).get(0)).toBe('1');
    expect(calls).not.toContain('c');
    await first.stop();

    const second: string[] = [];
    const next = await consume(group, topic, async (m) => void second.push(m.value));
    await waitFor(async () => (await committed(group, topic)).get(0) === '3', {
      timeoutMs: 30_000,
      describe: () => `second member got ${second.join(',')}`,
    });
    await next.stop();
    expect(second).toEqual(['b', 'c']);
  });

  it('rejects a publish the broker refuses, and the same publisher keeps working', async () => {
    const topic = await createTestTopic('messaging.refused', 1);
    const publisher = bus.publisher();
    await publisher.publish([message(topic, 'before')]);
    // Over the broker's message.max.bytes (1 MiB by default): refused, not retried.
    const tooBig = message(topic, 'x'.repeat(2 * 1024 * 1024));
    const refused = await publisher.publish([tooBig]).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MessagingError);
    expect(refused).toMatchObject({ code: 'publish_failed' });
    await publisher.publish([message(topic, 'after')]);
    await publisher.disconnect();

    const seen: string[] = [];
    const consumer = await consume(`${topic}.group`, topic, async (m) => void seen.push(m.value));
    await waitFor(async () => seen.length >= 2, {
      timeoutMs: 30_000,
      describe: () => `consumed ${seen.join(',')}`,
    });
    await consumer.stop();
    expect(seen).toEqual(['before', 'after']);
  });

  it('handles keys concurrently within a partition, one key still in order, and commits it all', async () => {
    const topic = await createTestTopic('messaging.perkey', 1);
    const group = `${topic}.group`;
    const keys = Array.from({ length: 10 }, (_, i) => `pay_${i}`);
    const publisher = bus.publisher();
    // One key after another (pay_0's 20 messages, then pay_1's, ...), one partition, one batch:
    // a consumer that ran one key's messages at once would start several of pay_0's together.
    await publisher.publish(
      keys.flatMap((key) => Array.from({ length: 20 }, (_, seq) => message(topic, String(seq), key))),
    );
    await publisher.disconnect();
    const seen: IncomingMessage[] = [];
    const running = new Set<string>();
    const overlapped: string[] = [];
    // pay_0's first message waits until another key's message has started: only possible if
    // keys overlap (with one message at a time it would wait forever and the test time out).
    let otherStarted!: () => void;
    const other = new Promise<void>((resolve) => (otherStarted = resolve));
    const consumer = await consume(
      group,
      topic,
      async (m) => {
        const key = m.key ?? '';
        if (running.has(key)) overlapped.push(key);
        running.add(key);
        if (key !== 'pay_0') otherStarted();
        if (key === 'pay_0' && m.value === '0') await other;
        // A turn of the event loop: room for other messages to start meanwhile.
        await new Promise((resolve) => setImmediate(resolve));
        seen.push(m);
        running.delete(key);
      },
      8,
    );
    await waitFor(async () => (await committed(group, topic)).get(0) === '200', {
      timeoutMs: 30_000,
      describe: () => `handled ${seen.length} of 200`,
    });
    await consumer.stop();
    expect(overlapped).toEqual([]); // never two messages of one key at once
    expect(seen).toHaveLength(200);
    for (const key of keys) {
      expect(seen.filter((m) => m.key === key).map((m) => Number(m.value))).toEqual(
        Array.from({ length: 20 }, (_, i) => i),
      );
    }
  });

  it('with keys running concurrently, never commits past a message still running', async () => {
    const topic = await createTestTopic('messaging.perkey.gap', 1);
    const group = `${topic}.group`;
    const publisher = bus.publisher();
    await publisher.publish([
      message(topic, 'a', 'k1'),
      message(topic, 'b', 'k2'),
      message(topic, 'c', 'k3'),
      message(topic, 'd', 'k1'),
    ]);
    await publisher.disconnect();
    const handled: string[] = [];
    let releaseB!: () => void;
    const gate = new Promise<void>((resolve) => (releaseB = resolve));
    const consumer = await consume(
      group,
      topic,
      async (m) => {
        if (m.value === 'b') await gate;
        handled.push(m.value);
      },
      4,
    );
    await waitFor(async () => handled.includes('c') && handled.includes('d'), {
      timeoutMs: 30_000,
      describe: () => `handled ${handled.join(',')}`,
    });
    await waitFor(async () => (await committed(group, topic)).get(0) === '1', {
      timeoutMs: 10_000,
      describe: () => 'the offset after a was not committed',
    });
    // c and d are done but b is not: the position stays right after a.
    expect([...handled].sort()).toEqual(['a', 'c', 'd']);
    expect(handled.indexOf('a')).toBeLessThan(handled.indexOf('d'));
    expect((await committed(group, topic)).get(0)).toBe('1');
    releaseB();
    await waitFor(async () => (await committed(group, topic)).get(0) === '4', {
      timeoutMs: 10_000,
      describe: () => `handled ${handled.join(',')}`,
    });
    await consumer.stop();
    expect(handled).toEqual(['a', 'c', 'd', 'b']);
  });

  it('with keys running concurrently, retries a failed message in place and holds its key', async () => {
    const topic = await createTestTopic('messaging.perkey.retry', 1);
    const group = `${topic}.group`;
    const publisher = bus.publisher();
    await publisher.publish([
      message(topic, 'a1', 'k1'),
      message(topic, 'b1', 'k2'),
      message(topic, 'a2', 'k1'),
      message(topic, 'b2', 'k2'),
    ]);
    const calls: string[] = [];
    let failing = true;
    const first = await consume(
      group,
      topic,
      async (m) => {
        calls.push(m.value);
        if (m.value === 'a1' && failing) throw new TypeError('fetch failed');
      },
      4,
    );
    await waitFor(async () => calls.filter((v) => v === 'a1').length >= 3 && calls.includes('b2'), {
      timeoutMs: 30_000,
      describe: () => `calls: ${calls.join(',')}`,
    });
    // Key k2 went on; a2 waits behind a1; nothing is committed past the failing a1.
    expect(calls).not.toContain('a2');
    expect(calls.filter((v) => v.startsWith('b'))).toEqual(['b1', 'b2']);
    expect((await committed(group, topic)).get(0) ?? '-1').toBe('-1');
    failing = false;
    await waitFor(async () => (await committed(group, topic)).get(0) === '4', {
      timeoutMs: 30_000,
      describe: () => `calls: ${calls.join(',')}`,
    });
    await first.stop();
    expect(calls.filter((v) => v.startsWith('a')).slice(-2)).toEqual(['a1', 'a2']);

    // A member stopped while a message keeps failing leaves it, and its key's later ones, to the next.
    await publisher.publish([
      message(topic, 'a3', 'k1'),
      message(topic, 'b3', 'k2'),
      message(topic, 'a4', 'k1'),
    ]);
    await publisher.disconnect();
    const stuck: string[] = [];
    const second = await consume(
      group,
      topic,
      async (m) => {
        stuck.push(m.value);
        if (m.value === 'a3') throw new Error('Stripe is down');
      },
      4,
    );
    await waitFor(async () => stuck.filter((v) => v === 'a3').length >= 2 && stuck.includes('b3'), {
      timeoutMs: 30_000,
      describe: () => `calls: ${stuck.join(',')}`,
    });
    await second.stop();
    expect(stuck).not.toContain('a4');
    expect((await committed(group, topic)).get(0)).toBe('4');
    const next: string[] = [];
    const third = await consume(group, topic, async (m) => void next.push(m.value));
    await waitFor(async () => (await committed(group, topic)).get(0) === '7', {
      timeoutMs: 30_000,
      describe: () => `third member got ${next.join(',')}`,
    });
    await third.stop();
    // b3 comes again (at least once; consumers dedupe on event-id), after a3, in offset order.
    expect(next).toEqual(['a3', 'b3', 'a4']);
  });
});
