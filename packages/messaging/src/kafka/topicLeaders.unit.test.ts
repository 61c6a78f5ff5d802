import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { type TopicLeadersMetadata, waitForTopicLeaders } from './topicLeaders.ts';

const require = createRequire(import.meta.url);
// kafkajs's own protocol errors, as its metadata request throws them.
const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as {
  createErrorFromCode: (code: number) => Error & { type: string };
};
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const LEADER_NOT_AVAILABLE = 5;
const TOPIC_AUTHORIZATION_FAILED = 29;

const led = (name: string, partitions: number, leader = 1): TopicLeadersMetadata['topics'][number] => ({
  name,
  partitions: Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader })),
});

/** A fake clock: sleeping moves it on, so timeouts are exact and instant. */
function clock() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms), elapsed: () => t };
}

describe('waitForTopicLeaders', () => {
  it('keeps polling while the broker does not know the new topic yet, then resolves', async () => {
    const c = clock();
    const answers: (() => TopicLeadersMetadata)[] = [
      () => {
        throw createErrorFromCode(UNKNOWN_TOPIC_OR_PARTITION);
      },
      () => {
        throw createErrorFromCode(LEADER_NOT_AVAILABLE);
      },
      () => ({ topics: [led('a', 3, -1), led('b', 2)] }), // a's partitions have no leader yet
      () => ({ topics: [led('a', 3)] }),
    ];
    const asked: string[][] = [];
    await waitForTopicLeaders(
      async (topics) => {
        asked.push(topics);
        return answers.shift()!();
      },
      [
        { topic: 'a', partitions: 3 },
        { topic: 'b', partitions: 2 },
      ],
      { timeoutMs: 5_000, pollMs: 100, ...c },
    );
    expect(answers).toHaveLength(0);
    expect(asked).toEqual([['a', 'b'], ['a', 'b'], ['a', 'b'], ['a']]); // b was done after the third look
    expect(c.elapsed()).toBe(300);
  });

  it('waits for every partition asked for, not only the ones the broker already lists', async () => {
    const c = clock();
    const answers = [{ topics: [led('a', 2)] }, { topics: [led('a', 4)] }];
    await waitForTopicLeaders(async () => answers.shift()!, [{ topic: 'a', partitions: 4 }], {
      timeoutMs: 1_000,
      ...c,
    });
    expect(answers).toHaveLength(0);
  });

  it('throws any other error at once', async () => {
    const c = clock();
    let calls = 0;
    await expect(
      waitForTopicLeaders(
        async () => {
          calls += 1;
          throw createErrorFromCode(TOPIC_AUTHORIZATION_FAILED);
        },
        [{ topic: 'a', partitions: 1 }],
        { timeoutMs: 1_000, ...c },
      ),
    ).rejects.toMatchObject({ type: 'TOPIC_AUTHORIZATION_FAILED' });
    expect(calls).toBe(1);
  });

  it('gives up after its timeout, naming the topics still waiting and why', async () => {
    const c = clock();
    await expect(
      waitForTopicLeaders(
        async () => {
          throw createErrorFromCode(UNKNOWN_TOPIC_OR_PARTITION);
        },
        [{ topic: 'ledger.x', partitions: 1 }],
        { timeoutMs: 1_000, pollMs: 100, ...c },
      ),
    ).rejects.toThrow(/ledger\.x still have no leader after 1000 ms \(This server does not host/);
    expect(c.elapsed()).toBe(1_000);
  });
});
