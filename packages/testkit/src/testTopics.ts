import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { inject } from 'vitest';
import { createTopicWithLeaders } from './kafkaTopics.ts';

/** Bootstrap brokers of the run's Kafka (see the global setup). */
export function testBrokers(): string[] {
  return inject('kafkaBrokers');
}

/** A kafkajs client on the run's broker, quiet unless something is wrong. */
export function testKafka(clientId = 'test'): Kafka {
  return new Kafka({ clientId, brokers: testBrokers(), logLevel: logLevel.ERROR });
}

/** Creates a topic with a unique name for one test file and returns the name. */
export async function createTestTopic(prefix = 'test', partitions = 3): Promise<string> {
  const topic = `${prefix}.${randomBytes(6).toString('hex')}`;
  const admin = testKafka('testkit-admin').admin();
  await admin.connect();
  try {
    await createTopicWithLeaders(admin, topic, partitions);
  } finally {
    await admin.disconnect();
  }
  return topic;
}
