// npm run bench:relay — an outbox pre-filled with 200,000 events published to the real broker
// with acks=all; in the same run the ceiling: a bare kafkajs producer sending the same messages in
// the same batch sizes. Then a steady 1,000 events/s written by concurrent transactions, measuring
// commit-to-Kafka-ack latency. Last line:
// `relay: <n> events/s, ceiling <m>/s, ratio <r>, lag p99 <ms> ms at 1000/s`.
import { createHistogram, performance } from 'node:perf_hooks';
import { cpus, totalmem } from 'node:os';
import { Kafka, logLevel, CompressionTypes } from 'kafkajs';
import pg from 'pg';
import { sql } from 'kysely';
import {
  executeCommands,
  OutboxHint,
  migrateToLatest,
  openDatabase,
  outboxLag,
  OUTBOX_START,
  readOutboxBatch,
  readOutboxCheckpoint,
  type CommandRequest,
} from '@payledger/event-store';
import { KafkaBus, type OutgoingMessage, type Publisher } from '@payledger/messaging';
import { AdvisoryLease, OutboxRelay, createRelayMetrics } from '@payledger/outbox-relay';
import { startKafka, startPostgres, waitFor } from '@payledger/testkit';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 200_000);
const BATCH = Number(process.env['BENCH_BATCH'] ?? 1000);
const STEADY_RATE = 1_000;
const STEADY_SECONDS = Number(process.env['BENCH_SECONDS'] ?? 15);
const log = (line: string): void => void process.stderr.write(`[bench:relay] ${line}\n`);

const postgres = await startPostgres(log);
const kafkaServer = await startKafka(log);
try {
  const admin = new pg.Client({ connectionString: postgres.adminUrl });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS bench_relay WITH (FORCE)');
  await admin.query('CREATE DATABASE bench_relay');
  const pgVersion = (await admin.query('SHOW server_version')).rows[0].server_version as string;
  await admin.end();
  const url = new URL(postgres.adminUrl);
  url.pathname = '/bench_relay';
  const db = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 8 });
  await migrateToLatest(db);

  const brokers = [...kafkaServer.brokers];
  const suffix = Date.now().toString(36);
  const relayTopic = `bench.relay.${suffix}`;
  const ceilingTopic = `bench.ceiling.${suffix}`;
  const bus = new KafkaBus({ brokers, clientId: 'bench-relay' });
  await bus.ensureTopics([
    { topic: relayTopic, partitions: 12 },
    { topic: ceilingTopic, partitions: 12 },
  ]);

  // 1. Pre-fill: 200,000 events over 10,000 payments, data like a PaymentCreated event's, each
  //    with its outbox row as the ledger writes it (migration 0011: the announcement only; the
  //    relay builds the published form from the event). The chain's hashes are placeholders: the
  //    relay publishes them, it does not verify them.
  log(`pre-filling the ledger with ${EVENTS} events and their outbox rows`);
  const data = JSON.stringify({
    paymentId: 'pay_x',
    customerId: 'bench-customer',
    paymentMethodId: 'pm_card_visa',
    amount: '2000',
    currency: 'USD',
    captureMethod: 'automatic',
    offSession: false,
    description: 'bench order',
    metadata: { order: 'o-1' },
    at: new Date().toISOString(),
  });
  await sql`
    INSERT INTO events (event_id, stream_id, stream_type, stream_version, type, schema_version, data,
                        metadata, recorded_at, prev_hash, hash)
    SELECT gen_random_uuid(), 'pay_' || (g % 10000), 'payment', g / 10000 + 1, 'PaymentCreated', 1,
           ${data}::jsonb, '{"actor":"bench","correlationId":"c","causationId":null}'::jsonb, now(),
           ${'0'.repeat(64)}, ${'a'.repeat(64)}
    FROM generate_series(0, ${EVENTS - 1}::int) g`.execute(db);
  await sql`
    INSERT INTO outbox (event_id, message_key, topic, type, schema_version)
    SELECT event_id, stream_id, ${relayTopic}::text, 'PaymentCreated.v1', 1 FROM events ORDER BY position`.execute(
    db,
  );

  // 2. The ceiling: a bare kafkajs producer, the same messages (as the relay's reader builds
  //    them), same batch sizes, same settings.
  const messages: { key: string; value: string; headers: Record<string, string> }[] = [];
  for (let after = OUTBOX_START; ;) {
    const batch = await readOutboxBatch(db, after, 10_000);
    if (batch.length === 0) break;
    for (const m of batch) messages.push({ key: m.key, value: m.value, headers: { ...m.headers } });
    after = (batch.at(-1) as (typeof batch)[number]).position;
  }
  log(
    `message value ${messages[0]?.value.length ?? 0} bytes, ${Object.keys(messages[0]?.headers ?? {}).length} headers`,
  );
  const kafka = new Kafka({ clientId: 'bench-ceiling', brokers, logLevel: logLevel.ERROR });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  // Warm-up (JIT, connections, partition leaders) so neither side is measured cold.
  for (let i = 0; i < Math.min(messages.length, 20_000); i += BATCH) {
    await producer.send({ topic: ceilingTopic, acks: -1, messages: messages.slice(i, i + BATCH) });
  }
  const c0 = performance.now();
  for (let i = 0; i < messages.length; i += BATCH) {
    await producer.send({
      topic: ceilingTopic,
      acks: -1,
      compression: CompressionTypes.None,
      messages: messages.slice(i, i + BATCH),
    });
  }
  const ceiling = messages.length / ((performance.now() - c0) / 1000);
  await producer.disconnect();
  log(`ceiling: bare kafkajs producer ${ceiling.toFixed(0)} messages/s (batches of ${BATCH})`);

  // 3. The relay drains the same backlog.
  const publisher = bus.publisher();
  await publisher.connect();
  const ackTimes = new Map<string, number>();
  const timedPublisher: Publisher = {
    connect: () => publisher.connect(),
    disconnect: () => publisher.disconnect(),
    async publish(batch: readonly OutgoingMessage[]) {
      await publisher.publish(batch);
      const now = performance.now();
      for (const m of batch) ackTimes.set(m.headers['event-id'] ?? '', now);
    },
  };
  const metrics = createRelayMetrics('bench');
  const relay = new OutboxRelay(
    { db, publisher: timedPublisher, lease: new AdvisoryLease(url.toString(), 'outbox'), metrics },
    {
      partition: 'outbox',
      batchSize: BATCH,
      lingerMs: 0,
      pollIntervalMs: 1000,
      retentionIntervalMs: 3_600_000,
    },
  );
  await readOutboxCheckpoint(db, 'outbox'); // the lag below is measured against it
  const r0 = performance.now();
  relay.start();
  await waitFor(async () => (await outboxLag(db, 'outbox')).rows === 0, {
    timeoutMs: 600_000,
    intervalMs: 50,
    describe: () => 'relay did not drain the backlog',
  });
  const relayRate = EVENTS / ((performance.now() - r0) / 1000);
  log(`relay: drained ${EVENTS} rows at ${relayRate.toFixed(0)} events/s`);
  await sql`DELETE FROM outbox`.execute(db);

  // 4. Steady 1,000 events/s from concurrent transactions (10 writers x 10 tx/s x 10 events),
  //    latency from each transaction's commit to Kafka's ack of its events.
  ackTimes.clear();
  const commitTimes = new Map<string, number>();
  const histogram = createHistogram();
  const WRITERS = 10;
  const EVENTS_PER_TX = 10;
  const txPerWriterPerSecond = STEADY_RATE / WRITERS / EVENTS_PER_TX;
  const command = (i: number): CommandRequest => ({
    caller: 'bench',
    idempotencyKey: null,
    fingerprint: 'x',
    streamId: `steady_${i}`,
    streamType: 'payment',
    metadata: { actor: 'bench', correlationId: 'c', causationId: null },
    decide: () => ({
      events: Array.from({ length: EVENTS_PER_TX }, (_, k) => ({ type: 'Tick', data: { k } })),
      respond: () => ({ statusCode: 200, body: null }),
    }),
  });
  let seq = 0;
  // Each writer hints the relay after its commit, as the API and the executor do (OutboxHint).
  const hint = new OutboxHint(db);
  const steadyEnd = performance.now() + STEADY_SECONDS * 1000;
  const writers = Array.from({ length: WRITERS }, async () => {
    let next = performance.now();
    while (performance.now() < steadyEnd) {
      const [result] = await executeCommands(db, [command(seq++)], { topic: relayTopic });
      const committed = performance.now();
      hint.poke();
      if (result?.ok && result.value.kind === 'applied')
        for (const e of result.value.events) commitTimes.set(e.eventId, committed);
      next += 1000 / txPerWriterPerSecond;
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
  });
  await Promise.all(writers);
  await hint.close();
  await waitFor(async () => [...commitTimes.keys()].every((id) => ackTimes.has(id)), {
    timeoutMs: 60_000,
    intervalMs: 50,
    describe: () => 'steady-state events were not all acknowledged',
  });
  for (const [id, committed] of commitTimes) {
    histogram.record(Math.max(1, Math.round(((ackTimes.get(id) as number) - committed) * 1000)));
  }
  const offered = commitTimes.size / STEADY_SECONDS;
  await relay.stop();
  await publisher.disconnect();
  await bus.close();
  await db.destroy();
  const p99 = histogram.percentile(99) / 1000;
  log(
    `steady: ${commitTimes.size} events (${offered.toFixed(0)}/s offered by ${WRITERS} writers, ${EVENTS_PER_TX} events per transaction), ` +
      `commit-to-ack p50 ${(histogram.percentile(50) / 1000).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`,
  );
  log(
    `machine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, PostgreSQL ${pgVersion}, Kafka (${kafkaServer.source}), Node ${process.version}`,
  );
  console.log(
    `relay: ${relayRate.toFixed(0)} events/s, ceiling ${ceiling.toFixed(0)}/s, ratio ${(relayRate / ceiling).toFixed(2)}, lag p99 ${p99.toFixed(1)} ms at 1000/s`,
  );
} finally {
  await kafkaServer.stop();
  await postgres.stop();
}
