// Keeps the test infrastructure up for a whole `npm test` run, outside vitest:
//   node packages/testkit/src/infraServer.ts <state.json>
// finds or starts PostgreSQL and Kafka (same rules as the global setup), writes their addresses
// to <state.json>, and stops whatever it started on SIGTERM/SIGINT. scripts/test.sh runs it in the
// background and exports DATABASE_URL / KAFKA_BROKERS for the test runs, so no test runner worker
// or teardown can take the shared servers down mid-run.
import { rmSync, writeFileSync } from 'node:fs';
import { startKafka } from './kafka.ts';
import { startPostgres } from './postgres.ts';

const stateFile = process.argv[2];
if (stateFile === undefined) {
  console.error('usage: infraServer.ts <state.json>');
  process.exit(2);
}
const log = (line: string): void => void process.stderr.write(`[testkit] ${line}\n`);
rmSync(stateFile, { force: true });
const results = await Promise.allSettled([startPostgres(log), startKafka(log)]);
const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
const stopAll = async (): Promise<void> => {
  await Promise.allSettled(started.map((s) => s.stop()));
};
if (failures.length > 0) {
  await stopAll();
  writeFileSync(
    stateFile,
    JSON.stringify({ error: `integration test infrastructure is missing:\n${failures.join('\n')}` }),
  );
  process.exit(1);
}
const [postgres, kafka] = started as [
  Awaited<ReturnType<typeof startPostgres>>,
  Awaited<ReturnType<typeof startKafka>>,
];
writeFileSync(stateFile, JSON.stringify({ databaseUrl: postgres.adminUrl, kafkaBrokers: kafka.brokers }));
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void stopAll().then(() => {
      rmSync(stateFile, { force: true });
      process.exit(0);
    });
  });
}
// Stay alive until told to stop.
setInterval(() => {}, 1 << 30);
