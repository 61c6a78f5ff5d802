import { describe, expect, it } from 'vitest';
import { waitFor } from '@payledger/testkit';
import { MessagingError } from '../errors.ts';
import type { IncomingMessage, OutgoingMessage } from '../messageBus.ts';
import { InProcessBus } from './inProcessBus.ts';

const until = (check: () => boolean, describe: () => string): Promise<void> =>
  waitFor(async () => check(), { timeoutMs: 5_000, intervalMs: 5, describe });

/** `perKey` messages for each key, interleaved (k0 #0, k1 #0, ..., k0 #1, ...). */
function interleaved(topic: string, keys: readonly string[], perKey: number): OutgoingMessage[] {
  return Array.from({ length: perKey }, (_, seq) =>
    keys.map((key) => ({ topic, key, value: `${key}#${seq}`, headers: { 'event-id': `${key}-${seq}` } })),
  ).flat();
}

const byKey = (messages: readonly IncomingMessage[]): Map<string, string[]> => {
  const out = new Map<string, string[]>();
  for (const m of messages) out.set(m.key ?? '', [...(out.get(m.key ?? '') ?? []), m.value]);
  return out;
};

describe('in-process bus', () => {
  it('keeps each key on one partition in publish order, and gives each group its own position', async () => {
    const bus = new InProcessBus();
    await bus.ensureTopics([{ topic: 'orders', partitions: 3 }]);
    const keys = Array.from({ length: 10 }, (_, i) => `pay_${i}`);
    const messages = interleaved('orders', keys, 20);
    const pub = bus.publisher();
    for (let i = 0; i < messages.length; i += 7) await pub.publish(messages.slice(i, i + 7));

    const seen = [[], []] as IncomingMessage[][];
    const consumers = seen.map((into, g) => {
      const c = bus.consumer({ groupId: `group-${g}`, topics: ['orders'], concurrency: 3 });
      return { c, run: c.run(async (m) => void into.push(m)) };
    });
    await Promise.all(consumers.map((x) => x.run));
    await until(
      () => seen.every((s) => s.length >= 200),
      () => `seen ${seen.map((s) => s.length).join(' and ')} of 200`,
    );
    await Promise.all(consumers.map((x) => x.c.stop()));

    for (const s of seen) {
      expect(s).toHaveLength(200); // once per group, no more
      const ordered = byKey(s);
      for (const key of keys) {
        expect(ordered.get(key)).toEqual(Array.from({ length: 20 }, (_, i) => `${key}#${i}`));
        expect(new Set(s.filter((m) => m.key === key).map((m) => m.partition)).size).toBe(1);
      }
      expect(s.every((m) => m.headers['event-id'] === m.value.replace('#', '-'))).toBe(true);
    }
  });

  it('hands a failed message over again before anything after it, without holding up other partitions', async () => {
    const bus = new InProcessBus();
    await bus.ensureTopics([{ topic: 'retry', partitions: 2 }]);
    const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
    await bus.publisher().publish(interleaved('retry', keys, 5));
    const calls: { value: string; key: string; partition: number; failed: boolean }[] = [];
    let released = false;
    const c = bus.consumer({ groupId: 'g', topics: ['retry'], retryDelayMs: 5, maxRetryDelayMs: 20 });
    await c.run(async (m) => {
      const failed = m.value === 'k0#1' && !released;
      calls.push({ value: m.value, key: m.key ?? '', partition: m.partition, failed });
      if (failed) throw new Error('transient');
    });
    // k0#1 keeps failing until the other partition is drained: it must not wait for k0#1.
    const stuckPartition = (): number | undefined => calls.find((x) => x.failed)?.partition;
    await until(
      () => {
        const stuck = stuckPartition();
        if (stuck === undefined || calls.filter((x) => x.failed).length < 2) return false;
        const keysOnStuck = new Set(calls.filter((x) => x.partition === stuck).map((x) => x.key));
        const doneElsewhere = calls.filter((x) => x.partition !== stuck).length;
        return doneElsewhere === 40 - 5 * keysOnStuck.size;
      },
      () => `calls so far: ${calls.map((x) => x.value).join(',')}`,
    );
    released = true;
    await until(
      () => calls.filter((x) => !x.failed).length >= 40,
      () => `handled ${calls.filter((x) => !x.failed).length} of 40`,
    );
    await c.stop();

    const onStuck = calls.filter((x) => x.partition === stuckPartition());
    const firstFailure = onStuck.findIndex((x) => x.failed);
    const retried = onStuck.slice(firstFailure).findIndex((x) => !x.failed) + firstFailure;
    // Only k0#1 was handed over between its first failure and its success.
    expect(new Set(onStuck.slice(firstFailure, retried + 1).map((x) => x.value))).toEqual(new Set(['k0#1']));
    expect(onStuck[retried]?.value).toBe('k0#1');
    const handledK0 = calls.filter((x) => x.key === 'k0' && !x.failed).map((x) => x.value);
    expect(handledK0).toEqual(['k0#0', 'k0#1', 'k0#2', 'k0#3', 'k0#4']);
    expect(new Set(calls.filter((x) => !x.failed).map((x) => x.value)).size).toBe(40);
  });

  it("does not move the group's position past a failed message: the next member starts there", async () => {
    const bus = new InProcessBus({ defaultPartitions: 1 });
    const pub = bus.publisher();
    await pub.publish(['1', '2', '3'].map((v) => ({ topic: 'r', key: 'k', value: v, headers: {} })));
    const first: string[] = [];
    const c1 = bus.consumer({ groupId: 'g', topics: ['r'], retryDelayMs: 5 });
    await c1.run(async (m) => {
      first.push(m.value);
      if (m.value === '2') throw new Error('down');
    });
    await until(
      () => first.filter((v) => v === '2').length >= 3,
      () => `first member got ${first.join(',')}`,
    );
    await c1.stop();
    expect(first).not.toContain('3');

    const second: string[] = [];
    const c2 = bus.consumer({ groupId: 'g', topics: ['r'] });
    await c2.run(async (m) => void second.push(m.value));
    await pub.publish([{ topic: 'r', key: 'k', value: '4', headers: {} }]);
    await until(
      () => second.length >= 3,
      () => `second member got ${second.join(',')}`,
    );
    await c2.stop();
    expect(second).toEqual(['2', '3', '4']);
  });

  it('commits the message a stopping member is handling once its handler resolves', async () => {
    const bus = new InProcessBus({ defaultPartitions: 1 });
    await bus.publisher().publish([{ topic: 's', key: 'k', value: 'slow', headers: {} }]);
    let release = (): void => {};
    const gate = new Promise<void>((r) => (release = r));
    let started = false;
    const c1 = bus.consumer({ groupId: 'g', topics: ['s'] });
    await c1.run(async () => {
      started = true;
      await gate;
    });
    await until(
      () => started,
      () => 'the handler never started',
    );
    const stopping = c1.stop();
    release();
    await stopping;

    const again: string[] = [];
    const c2 = bus.consumer({ groupId: 'g', topics: ['s'] });
    await c2.run(async (m) => void again.push(m.value));
    await bus.publisher().publish([{ topic: 's', key: 'k', value: 'next', headers: {} }]);
    await until(
      () => again.length >= 1,
      () => 'the next member got nothing',
    );
    await c2.stop();
    expect(again).toEqual(['next']);
  });

  it("splits a group's partitions among its members and hands them over when one leaves", async () => {
    const bus = new InProcessBus();
    await bus.ensureTopics([{ topic: 'shared', partitions: 4 }]);
    const keys = Array.from({ length: 16 }, (_, i) => `p${i}`);
    const got = { a: [] as IncomingMessage[], b: [] as IncomingMessage[] };
    const a = bus.consumer({ groupId: 'g', topics: ['shared'] });
    const b = bus.consumer({ groupId: 'g', topics: ['shared'] });
    await a.run(async (m) => void got.a.push(m));
    await b.run(async (m) => void got.b.push(m));
    const pub = bus.publisher();
    await pub.publish(interleaved('shared', keys, 3));
    await until(
      () => got.a.length + got.b.length >= 48,
      () => `got ${got.a.length} + ${got.b.length} of 48`,
    );
    const partitionsOf = (ms: IncomingMessage[]): Set<number> => new Set(ms.map((m) => m.partition));
    expect(partitionsOf(got.a).size).toBe(2);
    expect(partitionsOf(got.b).size).toBe(2);
    expect([...partitionsOf(got.a)].some((p) => partitionsOf(got.b).has(p))).toBe(false);

    await a.stop();
    await pub.publish(interleaved('shared', keys, 6).slice(48));
    await until(
      () => got.a.length + got.b.length >= 96,
      () => `got ${got.a.length} + ${got.b.length} of 96`,
    );
    await b.stop();
    expect(partitionsOf(got.b).size).toBe(4);
    const all = [...got.a, ...got.b];
    expect(new Set(all.map((m) => m.value)).size).toBe(96); // each once in the group
    const ordered = byKey(all.sort((x, y) => Number(x.offset) - Number(y.offset)));
    for (const key of keys)
      expect(ordered.get(key)).toEqual(Array.from({ length: 6 }, (_, i) => `${key}#${i}`));
  });

  it('starts a new group at the end of the log when fromBeginning is false', async () => {
    const bus = new InProcessBus({ defaultPartitions: 2 });
    const pub = bus.publisher();
    await pub.publish([{ topic: 'late', key: 'k', value: 'old', headers: {} }]);
    const got: string[] = [];
    const c = bus.consumer({ groupId: 'g', topics: ['late'], fromBeginning: false });
    await c.run(async (m) => void got.push(m.value));
    await pub.publish([{ topic: 'late', key: 'k', value: 'new', headers: {} }]);
    await until(
      () => got.length >= 1,
      () => 'got nothing',
    );
    await c.stop();
    expect(got).toEqual(['new']);
  });

  it('creates missing topics idempotently and leaves existing ones as they are', async () => {
    const bus = new InProcessBus();
    await bus.ensureTopics([{ topic: 'x', partitions: 2 }]);
    await bus.ensureTopics([{ topic: 'x', partitions: 5 }]);
    const seen: number[] = [];
    const c = bus.consumer({ groupId: 'g', topics: ['x'] });
    await c.run(async (m) => void seen.push(m.partition));
    await bus
      .publisher()
      .publish(Array.from({ length: 40 }, (_, i) => ({ topic: 'x', key: `k${i}`, value: '', headers: {} })));
    await until(
      () => seen.length >= 40,
      () => `saw ${seen.length} of 40`,
    );
    await c.stop();
    expect(new Set(seen)).toEqual(new Set([0, 1]));
    await expect(bus.ensureTopics([{ topic: 'y', partitions: 0 }])).rejects.toMatchObject({
      code: 'topic_setup_failed',
    });
    await expect(bus.ensureTopics([{ topic: 'bad name', partitions: 1 }])).rejects.toBeInstanceOf(
      MessagingError,
    );
  });

  it('runs a consumer once, and refuses everything after close', async () => {
    const bus = new InProcessBus();
    const c = bus.consumer({ groupId: 'g', topics: ['t'] });
    await c.run(async () => {});
    await expect(c.run(async () => {})).rejects.toMatchObject({ code: 'consumer_reused' });
    const pub = bus.publisher();
    await bus.close();
    await expect(pub.publish([{ topic: 't', key: 'k', value: 'v', headers: {} }])).rejects.toMatchObject({
      code: 'bus_closed',
    });
    expect(() => bus.consumer({ groupId: 'g2', topics: ['t'] })).toThrow(MessagingError);
    await c.stop(); // already stopped by close: a no-op
  });
});
