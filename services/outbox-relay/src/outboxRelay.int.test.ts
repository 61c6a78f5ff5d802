import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { migrateToLatest, openDatabase, type Database } from '@payledger/event-store';
import { KafkaBus } from '@payledger/messaging';
import { freePort, startLocalBroker, startLocalCluster } from '@payledger/testkit';
import {
  createTestDatabase,
  createTestTopic,
  testBrokers,
  testKafka,
  waitFor,
  type TestDatabase,
} from '@payledger/testkit/vitest';
import { Kafka, logLevel } from 'kafkajs';
import { loadRelayConfig } from './config.ts';
import { startRelay, type RunningRelay } from './main.ts';
import { collect, inOrderPerKey, writeEvents } from './relayHarness.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

function relayConfig(
  databaseUrl: string,
  brokers: readonly string[],
  topic: string,
  extra: Record<string, string> = {},
) {
  return loadRelayConfig({
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: brokers.join(','),
    LEDGER_EVENTS_TOPIC: topic,
    METRICS_PORT: '0',
    RELAY_POLL_INTERVAL_MS: '200',
    RELAY_RETENTION_INTERVAL_MS: '500',
    TOPIC_PARTITIONS: '3',
    ...extra,
  });
}

/** A relay in its own process, as deployed. */
async function spawnRelay(databaseUrl: string, topic: string, extra: Record<string, string> = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      KAFKA_BROKERS: testBrokers().join(','),
      LEDGER_EVENTS_TOPIC: topic,
      METRICS_PORT: String(port),
      RELAY_POLL_INTERVAL_MS: '200',
      TOPIC_PARTITIONS: '3',
      ...extra,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const health = async (): Promise<{ active: boolean } | null> => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/live`);
      return (await res.json()) as { active: boolean };
    } catch {
      return null;
    }
  };
  await waitFor(async () => (await health()) !== null, {
    timeoutMs: 30_000,
    describe: () => 'relay process did not start',
  });
  return { child, health, port };
}

const children: ChildProcess[] = [];
let database: TestDatabase;
let db: Kysely<Database>;

beforeAll(async () => {
  database = await createTestDatabase('relay');
  db = await openDatabase({ kind: 'postgres', url: database.url });
  await migrateToLatest(db);
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await db.destroy();
  await database.drop();
});

describe('outbox relay', () => {
  it('publishes every committed row with its headers, keyed by payment, in order per key', async () => {
    const topic = await createTestTopic('relay-basic', 3);
    const ids = await writeEvents(db, topic, 12, 6);
    const running = await startRelay(relayConfig(database.url, testBrokers(), topic));
    const { seen, stop } = await collect(testKafka('relay-check'), topic);
    try {
      await waitFor(async () => new Set(seen.eventIds).size >= 72, {
        timeoutMs: 30_000,
        describe: () => `saw ${new Set(seen.eventIds).size} of 72 events`,
      });
      expect([...seen.byKey.keys()].sort()).toEqual([...ids].sort());
      expect(inOrderPerKey(seen, 6)).toBe(true);
      expect(Object.keys(seen.headers[0] ?? {}).sort()).toEqual([
        'correlation-id',
        'event-hash',
        'event-id',
        'event-type',
        'schema-version',
      ]);
      const metrics = await (await fetch(running.metricsUrl)).text();
      expect(metrics).toMatch(/outbox_published_total\{[^}]*\} 72/);
      expect(metrics).toMatch(/outbox_relay_lease_held\{[^}]*partition="outbox"[^}]*\} 1/);
      expect(metrics).toContain('outbox_lag_seconds');
      // Retention removes published rows and never touches the history.
      await waitFor(
        async () =>
          (await db.selectFrom('outbox').select('id').where('topic', '=', topic).execute()).length === 0,
        {
          timeoutMs: 10_000,
          describe: () => 'published outbox rows were not removed',
        },
      );
      const events = await db.selectFrom('events').select('event_id').where('stream_id', 'in', ids).execute();
      expect(events).toHaveLength(72);
    } finally {
      await stop();
      await running.close();
    }
  });

  it('runs one active relay of two; when it is SIGKILLed the other takes over within seconds', async () => {
    const separate = await createTestDatabase('relay_lease');
    const sdb = await openDatabase({ kind: 'postgres', url: separate.url });
    try {
      await migrateToLatest(sdb);
      const topic = await createTestTopic('relay-lease', 3);
      const a = await spawnRelay(separate.url, topic);
      const b = await spawnRelay(separate.url, topic);
      children.push(a.child, b.child);
      await waitFor(
        async () => ((await a.health())?.active ?? false) !== ((await b.health())?.active ?? false),
        {
          timeoutMs: 20_000,
          describe: () => 'expected exactly one active relay',
        },
      );
      const [active, standby] = (await a.health())?.active ? [a, b] : [b, a];
      const { seen, stop } = await collect(testKafka('relay-lease-check'), topic);
      try {
        await writeEvents(sdb, topic, 5, 4);
        await waitFor(async () => new Set(seen.eventIds).size >= 20, {
          timeoutMs: 30_000,
          describe: () => 'first batch not published',
        });
        active.child.kill('SIGKILL');
        const killedAt = Date.now();
        await waitFor(async () => (await standby.health())?.active === true, {
          timeoutMs: 15_000,
          describe: () => 'the standby did not take over',
        });
        const takeoverMs = Date.now() - killedAt;
        expect(takeoverMs).toBeLessThan(15_000);
        await writeEvents(sdb, topic, 5, 4);
        await waitFor(async () => new Set(seen.eventIds).size >= 40, {
          timeoutMs: 30_000,
          describe: () => 'second batch not published',
        });
        expect(inOrderPerKey(seen, 4)).toBe(true);
      } finally {
        await stop();
        standby.child.kill('SIGTERM');
      }
    } finally {
      await sdb.destroy();
      await separate.drop();
    }
  });

  it('after a SIGKILL mid-stream and a restart, publishes every row; duplicates keep their event id and order holds', async () => {
    const separate = await createTestDatabase('relay_kill');
    const sdb = await openDatabase({ kind: 'postgres', url: separate.url });
    try {
      await migrateToLatest(sdb);
      const topic = await createTestTopic('relay-kill', 3);
      await writeEvents(sdb, topic, 100, 20); // 2,000 events
      const { seen, stop } = await collect(testKafka('relay-kill-check'), topic);
      try {
        const first = await spawnRelay(separate.url, topic, { RELAY_BATCH_SIZE: '50' });
        children.push(first.child);
        await waitFor(async () => seen.eventIds.length >= 300, {
          timeoutMs: 30_000,
          describe: () => 'relay did not start publishing',
        });
        first.child.kill('SIGKILL');
        await new Promise((r) => first.child.once('exit', r));
        const second = await spawnRelay(separate.url, topic, { RELAY_BATCH_SIZE: '50' });
        children.push(second.child);
        await waitFor(async () => new Set(seen.eventIds).size >= 2000, {
          timeoutMs: 60_000,
          describe: () => `saw ${new Set(seen.eventIds).size} of 2000 distinct events`,
        });
        expect(inOrderPerKey(seen, 20)).toBe(true);
        const stored = await sdb.selectFrom('events').select('event_id').execute();
        expect(new Set(seen.eventIds)).toEqual(new Set(stored.map((e) => e.event_id)));
        second.child.kill('SIGTERM');
      } finally {
        await stop();
      }
    } finally {
      await sdb.destroy();
      await separate.drop();
    }
  });
});

describe('outbox relay failures on dedicated servers', () => {
  it('backs off while Kafka is down, reports lag, and loses nothing', async () => {
    const broker = await startLocalBroker(() => {}, 'kafka-down');
    const kafka = new Kafka({
      clientId: 'down-check',
      brokers: [...broker.brokers],
      logLevel: logLevel.NOTHING,
    });
    const topic = 'ledger.down.v1';
    const bus = new KafkaBus({ brokers: [...broker.brokers], clientId: 'relay-down' });
    let running: RunningRelay | null = null;
    try {
      running = await startRelay(relayConfig(database.url, broker.brokers, topic), bus);
      await writeEvents(db, topic, 3, 2);
      const before = await collect(kafka, topic);
      await waitFor(async () => new Set(before.seen.eventIds).size >= 6, {
        timeoutMs: 30_000,
        describe: () => 'not published before the outage',
      });
      await before.stop();

      await broker.halt?.();
      await writeEvents(db, topic, 4, 5);
      const metrics = async () => await (await fetch(running?.metricsUrl ?? '')).text();
      await waitFor(async () => /outbox_lag_rows\{[^}]*\} ([1-9]\d*)/.test(await metrics()), {
        timeoutMs: 30_000,
        describe: () => 'lag was not reported while Kafka was down',
      });
      await waitFor(
        async () => /outbox_relay_errors_total\{[^}]*stage="relay"[^}]*\} [1-9]/.test(await metrics()),
        {
          timeoutMs: 60_000,
          describe: () => 'publish errors were not counted',
        },
      );

      await broker.start?.();
      const after = await collect(kafka, topic);
      await waitFor(async () => new Set(after.seen.eventIds).size >= 26, {
        timeoutMs: 90_000,
        describe: () => `after the outage saw ${new Set(after.seen.eventIds).size} of 26`,
      });
      expect(after.seen.byKey.size).toBe(7);
      expect(inOrderPerKey(after.seen)).toBe(true);
      await after.stop();
    } finally {
      await running?.close();
      await bus.close();
      await broker.stop();
    }
  }, 240_000);

  it('reconnects by itself when PostgreSQL restarts', async () => {
    const server = await startLocalCluster(() => {}, 'pg-restart');
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE relay_restart');
    await admin.end();
    const url = new URL(server.adminUrl);
    url.pathname = '/relay_restart';
    const rdb = await openDatabase({ kind: 'postgres', url: url.toString() });
    const topic = await createTestTopic('relay-pg-restart', 3);
    let running: RunningRelay | null = null;
    const { seen, stop } = await collect(testKafka('pg-restart-check'), topic);
    try {
      await migrateToLatest(rdb);
      running = await startRelay(relayConfig(url.toString(), testBrokers(), topic));
      await writeEvents(rdb, topic, 3, 3);
      await waitFor(async () => new Set(seen.eventIds).size >= 9, {
        timeoutMs: 30_000,
        describe: () => 'not published before restart',
      });
      await server.restart?.();
      await waitFor(
        async () => {
          await writeEvents(rdb, topic, 1, 1, 'after');
          return true;
        },
        { timeoutMs: 30_000, describe: () => 'could not write after the restart' },
      );
      await writeEvents(rdb, topic, 3, 3, 'after');
      await waitFor(async () => [...seen.byKey.keys()].filter((k) => k.startsWith('after_')).length >= 4, {
        timeoutMs: 60_000,
        describe: () => 'the relay did not publish after PostgreSQL restarted',
      });
    } finally {
      await stop();
      await running?.close();
      await rdb.destroy();
      await server.stop();
    }
  }, 180_000);
});
