import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { openDatabase } from '@payledger/event-store';
import { KafkaBus, type MessageBus } from '@payledger/messaging';
import { loadRelayConfig, type RelayConfig } from './config.ts';
import { AdvisoryLease } from './lease.ts';
import { OutboxRelay } from './outboxRelay.ts';
import { createRelayMetrics } from './relayMetrics.ts';

/** A running relay process's parts. */
export interface RunningRelay {
  readonly relay: OutboxRelay;
  readonly metricsUrl: string;
  close(): Promise<void>;
}

/** Starts the relay against PostgreSQL and Kafka, with /metrics and /health on its own port. */
export async function startRelay(config: RelayConfig, bus?: MessageBus): Promise<RunningRelay> {
  const instance = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const db = await openDatabase({ kind: 'postgres', url: config.databaseUrl, poolSize: 4 });
  const messageBus =
    bus ?? new KafkaBus({ brokers: [...config.kafkaBrokers], clientId: `outbox-relay-${instance}` });
  await messageBus.ensureTopics([{ topic: config.eventsTopic, partitions: config.topicPartitions }]);
  const publisher = messageBus.publisher();
  await publisher.connect();
  const metrics = createRelayMetrics(instance);
  const relay = new OutboxRelay(
    {
      db,
      publisher,
      lease: new AdvisoryLease(config.databaseUrl, config.partition),
      metrics,
      log: (level, message) =>
        console[level === 'info' ? 'log' : level](`[outbox-relay ${instance}] ${message}`),
    },
    {
      partition: config.partition,
      batchSize: config.batchSize,
      lingerMs: config.lingerMs,
      pollIntervalMs: config.pollIntervalMs,
      retentionIntervalMs: config.retentionIntervalMs,
    },
  );
  relay.start();
  const server: Server = createServer((req, res) => {
    if (req.url === '/metrics') {
      void metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      });
    } else if (req.url === '/health/live' || req.url === '/health/ready') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok', active: relay.active, instance }));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(config.metricsPort, config.metricsHost, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.metricsPort;
  return {
    relay,
    metricsUrl: `http://${config.metricsHost}:${port}/metrics`,
    async close() {
      await relay.stop();
      await publisher.disconnect();
      if (bus === undefined) await messageBus.close();
      await new Promise((r) => server.close(r));
      await db.destroy();
    },
  };
}

if (import.meta.main) {
  let config: RelayConfig;
  try {
    config = loadRelayConfig(process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  const running = await startRelay(config);
  console.log(`outbox relay up; metrics on ${running.metricsUrl}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void running.close().then(() => process.exit(0)));
  }
}
