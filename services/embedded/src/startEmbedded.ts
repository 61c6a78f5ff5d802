import { loadConfig, startApi, type RunningApi } from '@payledger/api';
import { InProcessBus, KafkaBus, type MessageBus } from '@payledger/messaging';
import { AdvisoryLease, LocalLease, OutboxRelay, createRelayMetrics } from '@payledger/outbox-relay';
import { loadExecutorConfig, startExecutor, type RunningExecutor } from '@payledger/stripe-executor';
import { StripeSimulator } from '@payledger/stripe-sim';

/** The services composed in one process, and how to stop them all. */
export interface EmbeddedSystem {
  readonly apiUrl: string;
  readonly embedded: boolean;
  /** The bus the relay publishes to (in-process unless KAFKA_BROKERS is set). */
  readonly bus: MessageBus;
  readonly eventsTopic: string;
  /** The in-process Stripe simulator (null when STRIPE_SECRET_KEY points at Stripe). */
  readonly stripeSimulator: StripeSimulator | null;
  close(): Promise<void>;
}

/**
 * Starts every service in this process through its public entry point. With nothing configured
 * it needs no external server: PGlite under LEDGER_DATA_DIR (default .data/pglite) and the
 * in-process message bus. With DATABASE_URL and KAFKA_BROKERS the same code runs on them.
 */
export async function startEmbedded(env: Record<string, string | undefined>): Promise<EmbeddedSystem> {
  const apiConfig = loadConfig(env);
  const api: RunningApi = await startApi(apiConfig);
  const brokers = env['KAFKA_BROKERS'];
  const bus: MessageBus =
    brokers !== undefined && brokers !== ''
      ? new KafkaBus({ brokers: brokers.split(','), clientId: 'ledger-embedded' })
      : new InProcessBus({ defaultPartitions: 12 });
  await bus.ensureTopics([{ topic: apiConfig.eventsTopic, partitions: 12 }]);
  const publisher = bus.publisher();
  await publisher.connect();
  const relay = new OutboxRelay(
    {
      db: api.db,
      publisher,
      lease:
        apiConfig.database.kind === 'postgres'
          ? new AdvisoryLease(apiConfig.database.url, 'outbox')
          : new LocalLease(),
      metrics: createRelayMetrics('embedded'),
      log: (level, message) => {
        if (level !== 'info') console.error(`[outbox-relay] ${message}`);
      },
    },
    // PGlite has no NOTIFY between sessions here: poll often, it is all in memory.
    {
      partition: 'outbox',
      batchSize: 500,
      lingerMs: 0,
      pollIntervalMs: apiConfig.database.kind === 'pglite' ? 100 : 1000,
      retentionIntervalMs: 60_000,
    },
  );
  relay.start();

  // Stripe: the real API when STRIPE_SECRET_KEY is set, else the simulator in this process.
  let simulator: StripeSimulator | null = null;
  const stripeEnv: Record<string, string> = {};
  if (env['STRIPE_SECRET_KEY'] === undefined || env['STRIPE_SECRET_KEY'] === '') {
    simulator = new StripeSimulator();
    const sim = await simulator.start(Number(env['STRIPE_SIM_PORT'] ?? 0));
    Object.assign(stripeEnv, {
      STRIPE_SECRET_KEY: 'sk_test_embedded_simulator',
      STRIPE_API_HOST: sim.host,
      STRIPE_API_PORT: String(sim.port),
      STRIPE_API_PROTOCOL: 'http',
    });
  }
  const executor: RunningExecutor = await startExecutor(
    loadExecutorConfig({
      ...env,
      ...stripeEnv,
      // The executor shares this process's database and bus; these only satisfy its config.
      DATABASE_URL:
        apiConfig.database.kind === 'postgres'
          ? apiConfig.database.url
          : 'postgres://embedded.invalid/pglite',
      KAFKA_BROKERS: brokers !== undefined && brokers !== '' ? brokers : 'in-process',
      LEDGER_EVENTS_TOPIC: apiConfig.eventsTopic,
      METRICS_PORT: env['EXECUTOR_METRICS_PORT'] ?? '0',
    }),
    bus,
    { db: api.db },
  );
  return {
    apiUrl: api.url,
    embedded: apiConfig.embedded,
    bus,
    eventsTopic: apiConfig.eventsTopic,
    stripeSimulator: simulator,
    async close() {
      await executor.close();
      await simulator?.stop();
      await relay.stop();
      await publisher.disconnect();
      await bus.close();
      await api.close();
    },
  };
}
