import type { Admin } from 'kafkajs';
import { waitFor } from './processes.ts';

/**
 * Creates a topic and waits until each of its partitions has a leader. kafkajs's own
 * `waitForLeaders` gives up when the broker does not know the new topic yet
 * (UNKNOWN_TOPIC_OR_PARTITION, which a fresh broker on a slow machine answers for a moment);
 * this polls through that. The product's `KafkaBus.ensureTopics` does the same.
 */
export async function createTopicWithLeaders(admin: Admin, topic: string, partitions: number): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: false });
  await waitFor(
    async () => {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const found = topics.find((t) => t.name === topic);
      return (
        found !== undefined &&
        found.partitions.length >= partitions &&
        found.partitions.every((p) => p.leader >= 0)
      );
    },
    { timeoutMs: 30_000, intervalMs: 100, describe: () => `topic ${topic} still has no leader after 30 s` },
  );
}
