import type { TestProject } from 'vitest/node';
import { startKafka, type KafkaServer } from './kafka.ts';
import { startPostgres, type PostgresServer } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the run's PostgreSQL; each test file creates its own database. */
    postgresAdminUrl: string;
    /** Bootstrap brokers of the run's Kafka; each test file creates its own topics. */
    kafkaBrokers: string[];
  }
}

/**
 * Vitest global setup of the integration tests: finds or starts PostgreSQL and Kafka once per run
 * (in parallel), hands their addresses to the test files, and stops whatever it started.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string): void => void process.stderr.write(`[testkit] ${line}\n`);
  const started: Array<PostgresServer | KafkaServer> = [];
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(started.map((s) => s.stop()));
  };
  const results = await Promise.allSettled([startPostgres(log), startKafka(log)]);
  for (const r of results) if (r.status === 'fulfilled') started.push(r.value);
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  if (failures.length > 0) {
    await stopAll();
    throw new Error(`integration test infrastructure is missing:\n${failures.join('\n')}`);
  }
  const [postgres, kafka] = results as [
    PromiseFulfilledResult<PostgresServer>,
    PromiseFulfilledResult<KafkaServer>,
  ];
  project.provide('postgresAdminUrl', postgres.value.adminUrl);
  project.provide('kafkaBrokers', [...kafka.value.brokers]);
  return stopAll;
}
