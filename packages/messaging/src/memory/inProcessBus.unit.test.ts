import { describe, expect, it } from 'vitest';
import { InProcessBus } from './inProcessBus.ts';
import type { IncomingMessage } from '../messageBus.ts';

const until = async (check: () => boolean, ms = 5_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('in-process bus', () => {
  it('keeps per-key order and gives each group its own offsets', async () => {
    const bus = new InProcessBus({ defaultPartitions: 3 });
    await bus.ensureTopics([{ topic: 't', partitions: 3 }]);
    const pub = bus.publisher();
    const keys = ['a', 'b', 'c', 'd'];
    for (let i = 0; i < 10; i++)
      await pub.publish(
        keys.map((k) => ({ topic: 't', key: k, value: `${k}${i}`, headers: { 'event-id': `${k}${i}` } })),
      );
    const seen = (): Map<string, string[]> => new Map();
    const groups = [seen(), seen()];
    const consumers = groups.map((s, g) => {
      const c = bus.consumer({ groupId: `g${g}`, topics: ['t'] });
      void c.run(
        async (m: IncomingMessage) => void s.set(m.key ?? '', [...(s.get(m.key ?? '') ?? []), m.value]),
      );
      return c;
    });
    await until(() => groups.every((s) => [...s.values()].flat().length === 40));
    for (const s of groups)
      for (const k of keys) expect(s.get(k)).toEqual(Array.from({ length: 10 }, (_, i) => `${k}${i}`));
    await Promise.all(consumers.map((c) => c.stop()));
  });

  it('retries a failed message before anything after it and does not commit past it', async () => {
    const bus = new InProcessBus({ defaultPartitions: 1, retryDelayMs: 10 });
    const pub = bus.publisher();
    await pub.publish(['1', '2', '3'].map((v) => ({ topic: 'r', key: 'k', value: v, headers: {} })));
    const got: string[] = [];
    let failures = 0;
    const c = bus.consumer({ groupId: 'g', topics: ['r'] });
    await c.run(async (m) => {
      if (m.value === '2' && failures < 2) {
        failures++;
        throw new Error('transient');
      }
      got.push(m.value);
    });
    await until(() => got.length === 3);
    expect(got).toEqual(['1', '2', '3']);
    expect(failures).toBe(2);
    await c.stop();
    // A restarted member of the group resumes after the committed offset.
    const again: string[] = [];
    const c2 = bus.consumer({ groupId: 'g', topics: ['r'] });
    await pub.publish([{ topic: 'r', key: 'k', value: '4', headers: {} }]);
    await c2.run(async (m) => void again.push(m.value));
    await until(() => again.length === 1);
    expect(again).toEqual(['4']);
    await c2.stop();
  });

  it('creates topics idempotently', async () => {
    const bus = new InProcessBus();
    await bus.ensureTopics([{ topic: 'x', partitions: 2 }]);
    await bus.ensureTopics([{ topic: 'x', partitions: 5 }]);
    const c = bus.consumer({ groupId: 'g', topics: ['x'] });
    const seen: number[] = [];
    await c.run(async (m) => void seen.push(m.partition));
    await bus
      .publisher()
      .publish(Array.from({ length: 20 }, (_, i) => ({ topic: 'x', key: `k${i}`, value: '', headers: {} })));
    await until(() => seen.length === 20);
    expect(Math.max(...seen)).toBeLessThan(2);
    await c.stop();
  });
});
