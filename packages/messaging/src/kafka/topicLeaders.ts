/** What `admin.fetchTopicMetadata` answers, as far as waiting for leaders needs it. */
export interface TopicLeadersMetadata {
  readonly topics: readonly {
    readonly name: string;
    readonly partitions: readonly { readonly partitionId: number; readonly leader: number }[];
  }[];
}

export interface WaitForTopicLeadersOptions {
  /** Give up after this long (ms). */
  readonly timeoutMs: number;
  /** Pause between two looks (ms). */
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/**
 * Kafka error types that only mean "not there yet" right after a topic was created: the broker
 * answering the metadata request may not have the new topic (or its leader) in its metadata
 * cache yet. kafkajs's own `waitForLeaders` retries only the second and gives up on the first,
 * which a freshly started KRaft broker on a slow machine answers for a moment.
 */
const NOT_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_OR_FOLLOWER']);

/**
 * Resolves once every topic has at least `partitions` partitions, each with a leader; polls
 * `fetch` meanwhile. A "not there yet" error is another poll; any other error is thrown at once;
 * past `timeoutMs` it throws naming the topics still without leaders and the last error.
 */
export async function waitForTopicLeaders(
  fetch: (topics: string[]) => Promise<TopicLeadersMetadata>,
  topics: readonly { readonly topic: string; readonly partitions: number }[],
  options: WaitForTopicLeadersOptions,
): Promise<void> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const pollMs = options.pollMs ?? 100;
  const deadline = now() + options.timeoutMs;
  let waiting = [...topics];
  let lastProblem: string;
  for (;;) {
    try {
      const metadata = await fetch(waiting.map((t) => t.topic));
      const byName = new Map(metadata.topics.map((t) => [t.name, t.partitions]));
      waiting = waiting.filter((t) => {
        const partitions = byName.get(t.topic);
        return !(
          partitions !== undefined &&
          partitions.length >= t.partitions &&
          partitions.every((p) => p.leader >= 0)
        );
      });
      if (waiting.length === 0) return;
      lastProblem = 'partitions without a leader';
    } catch (error) {
      const type = (error as { type?: unknown }).type;
      if (typeof type !== 'string' || !NOT_YET.has(type)) throw error;
      lastProblem = (error as Error).message;
    }
    if (now() >= deadline) {
      throw new Error(
        `topics ${waiting.map((t) => t.topic).join(', ')} still have no leader after ${options.timeoutMs} ms (${lastProblem})`,
      );
    }
    await sleep(pollMs);
  }
}
