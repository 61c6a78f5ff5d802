import { createServer, type Server } from 'node:http';
import type { Kysely } from 'kysely';
import { migrateDatabase, openDatabase, OutboxHint, type Database } from '@payledger/event-store';
import { KafkaBus, type MessageBus } from '@payledger/messaging';
import { CircuitBreaker, StripeGateway } from '@payledger/stripe-gateway';
import { loadExecutorConfig, type ExecutorConfig } from './config.ts';
import { createExecutorMetrics } from './executorMetrics.ts';
import { StripeExecutor } from './stripeExecutor.ts';

/** A running executor and how to stop it. */
export interface RunningExecutor {
  readonly metricsUrl: string;
  close(): Promise<void>;
}

/** Starts the executor: a consumer-group member on the events topic, calling Stripe. */
export async function startExecutor(
  config: ExecutorConfig,
  bus?: MessageBus,
  shared?: { db: Kysely<Database> },
): Promise<RunningExecutor> {
  // Its own database: the schema owner migrates it first, over a connection of its own.
  if (shared === undefined) await migrateDatabase(config.migrationDatabaseUrl);
  const db =
    shared?.db ??
    (await openDatabase({ kind: 'postgres', url: config.databaseUrl, poolSize: config.dbPoolSize }));
  const metrics = createExecutorMetrics();
  const gateway = new StripeGateway({
    secretKey: config.stripe.secretKey,
    ...(config.stripe.host !== undefined ? { host: config.stripe.host } : {}),
    ...(config.stripe.port !== undefined ? { port: config.stripe.port } : {}),
    ...(config.stripe.protocol !== undefined ? { protocol: config.stripe.protocol } : {}),
    timeoutMs: config.stripe.timeoutMs,
    maxAttempts: config.stripe.maxAttempts,
    breaker: new CircuitBreaker({
      threshold: config.stripe.breakerThreshold,
      cooldownMs: config.stripe.breakerCooldownMs,
    }),
    ...(config.stripe.ratePerSecond !== undefined ? { ratePerSecond: config.stripe.ratePerSecond } : {}),
    observe: {
      call: (operation, ms, outcome) => metrics.stripeLatency.observe({ operation, outcome }, ms / 1000),
      retry: (operation) => metrics.retries.inc({ operation }),
      limiterWait: (ms) => metrics.limiterWait.observe(ms / 1000),
    },
  });
  const messageBus = bus ?? new KafkaBus({ brokers: [...config.kafkaBrokers], clientId: 'stripe-executor' });
  await messageBus.ensureTopics([
    { topic: config.eventsTopic, partitions: 12 },
    { topic: config.deadLetterTopic, partitions: 1 },
  ]);
  const deadLetter = messageBus.publisher();
  await deadLetter.connect();
  // After each commit of outcome events, the relay hears of their outbox rows (migration 0010).
  const hint = new OutboxHint(db, {
    onError: (error) =>
      console.error(`[stripe-executor] outbox hint failed (the relay polls): ${(error as Error).message}`),
  });
  const executor = new StripeExecutor({
    db,
    onCommitted: () => hint.poke(),
    gateway,
    metrics,
    deadLetter,
    deadLetterTopic: config.deadLetterTopic,
    maxDeliveries: config.maxDeliveries,
    eventsTopic: config.eventsTopic,
    maxWriteBatch: config.writeBatch,
    maxWritesInFlight: config.writesInFlight,
    log: (message) => console.error(`[stripe-executor] ${message}`),
  });
  const consumer = messageBus.consumer({
    groupId: config.groupId,
    topics: [config.eventsTopic],
    fromBeginning: true,
    sessionTimeoutMs: config.sessionTimeoutMs,
    concurrency: config.concurrency,
    concurrencyPerPartition: config.concurrencyPerPartition,
  });
  await consumer.run((message) => executor.handle(message));
  const server: Server = createServer((req, res) => {
    if (req.url === '/metrics') {
      metrics.breakerOpen.set(gateway.breaker.state === 'open' ? 1 : 0);
      // Unknown outcomes still open: read from the ledger's read model, so it falls as they resolve.
      void db
        .selectFrom('payment_summaries')
        .select(db.fn.countAll<string>().as('n'))
        .where('outcome_unknown', '=', true)
        .executeTakeFirst()
        .then((row) => metrics.unknownOpen.set(Number(row?.n ?? 0)))
        .catch(() => {})
        .then(() => metrics.registry.metrics())
        .then((text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        });
    } else if (req.url === '/health/live' || req.url === '/health/ready') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: 'ok', breaker: gateway.breaker.state }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(config.metricsPort, config.metricsHost, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.metricsPort;
  return {
    metricsUrl: `http://${config.metricsHost}:${port}/metrics`,
    async close() {
      await consumer.stop();
      await deadLetter.disconnect();
      if (bus === undefined) await messageBus.close();
      await new Promise((r) => server.close(r));
      await hint.close();
      if (shared === undefined) await db.destroy();
    },
  };
}

if (import.meta.main) {
  let config: ExecutorConfig;
  try {
    config = loadExecutorConfig(process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  const running = await startExecutor(config);
  console.log(`stripe executor up; metrics on ${running.metricsUrl}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void running.close().then(() => process.exit(0)));
  }
}
