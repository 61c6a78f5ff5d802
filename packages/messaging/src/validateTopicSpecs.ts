import { MessagingError } from './errors.ts';
import type { TopicSpec } from './messageBus.ts';

// Kafka's own rule for topic names (org.apache.kafka.common.internals.Topic): at most 249
// characters of [a-zA-Z0-9._-]. The in-process bus applies it too, so a name that works embedded
// also works on Kafka.
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Throws `topic_setup_failed` naming the first topic with a bad name or partition count. */
export function validateTopicSpecs(topics: readonly TopicSpec[]): void {
  for (const { topic, partitions } of topics) {
    if (!TOPIC_NAME.test(topic) || topic === '.' || topic === '..')
      throw new MessagingError(
        'topic_setup_failed',
        `topic name ${JSON.stringify(topic)} is not valid: use 1 to 249 of the characters a-z A-Z 0-9 . _ -`,
      );
    if (!Number.isInteger(partitions) || partitions < 1)
      throw new MessagingError(
        'topic_setup_failed',
        `topic ${topic}: partitions must be a positive integer, got ${partitions}`,
      );
  }
}
