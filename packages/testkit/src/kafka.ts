import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { containerRuntimeAvailable } from './containerRuntime.ts';
import { createTopicWithLeaders } from './kafkaTopics.ts';
import { cacheDir, repoRoot } from './paths.ts';
import { freePorts, startProcess, tail, waitFor, type ManagedProcess } from './processes.ts';

/** A Kafka broker the tests can use, and how to let go of it. */
export interface KafkaServer {
  /** Bootstrap brokers, e.g. `['127.0.0.1:9092']`. */
  readonly brokers: readonly string[];
  readonly source: 'env' | 'testcontainers' | 'local';
  /** Stops what the harness started; no-op for an external broker. */
  stop(): Promise<void>;
  /** Local brokers only: stops the broker process (the broker is down until `start`). */
  halt?(): Promise<void>;
  /** Local brokers only: starts a halted broker again on the same port and data. */
  start?(): Promise<void>;
}

const POM = join(repoRoot, 'packages', 'testkit', 'kafka', 'pom.xml');

/**
 * Finds or starts Kafka: `KAFKA_BROKERS` if set; else Testcontainers when a container runtime
 * answers; else a single-node Apache Kafka 4.x broker in KRaft mode from Maven Central's jars.
 */
export async function startKafka(log: (line: string) => void = () => {}): Promise<KafkaServer> {
  const fromEnv = process.env['KAFKA_BROKERS'];
  if (fromEnv !== undefined && fromEnv !== '') {
    const brokers = fromEnv.split(',').map((b) => b.trim());
    await waitUntilAnswering(
      brokers,
      15_000,
      () => `KAFKA_BROKERS=${fromEnv} is set but no broker answers there`,
    );
    log('kafka: using KAFKA_BROKERS');
    return { brokers, source: 'env', stop: async () => {} };
  }
  if (await containerRuntimeAvailable()) {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const container = await new KafkaContainer('apache/kafka:4.1.1').withKraft().start();
    const brokers = [`${container.getHost()}:${container.getMappedPort(9093)}`];
    log('kafka: started a Testcontainers Kafka');
    return { brokers, source: 'testcontainers', stop: async () => void (await container.stop()) };
  }
  return await startLocalBroker(log);
}

async function waitUntilAnswering(brokers: readonly string[], timeoutMs: number, describe: () => string) {
  const kafka = new Kafka({
    clientId: 'testkit-probe',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1_000,
  });
  await waitFor(
    async () => {
      const admin = kafka.admin();
      try {
        await admin.connect();
        await admin.describeCluster();
        return true;
      } finally {
        await admin.disconnect().catch(() => {});
      }
    },
    { timeoutMs, intervalMs: 300, describe },
  );
}

/**
 * A fresh broker creates its group and transaction coordinators on first use and answers
 * "coordinator loading" meanwhile; one idempotent producer and one group join here keep those
 * retries out of the first test's logs.
 */
async function warmUp(brokers: readonly string[]): Promise<void> {
  const kafka = new Kafka({ clientId: 'testkit-warmup', brokers: [...brokers], logLevel: logLevel.NOTHING });
  const topic = `testkit.warmup.${randomBytes(4).toString('hex')}`;
  const admin = kafka.admin();
  await admin.connect();
  await createTopicWithLeaders(admin, topic, 1);
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [{ value: 'warm-up' }] });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: topic });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let received = false;
  await consumer.run({ eachMessage: async () => void (received = true) });
  await waitFor(async () => received, {
    timeoutMs: 60_000,
    describe: () => 'Kafka warm-up consumer got nothing',
  });
  await consumer.disconnect();
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
}

function need(tool: string, hint: string): void {
  try {
    execFileSync(tool, ['-version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      `No Kafka for the tests and \`${tool}\` is missing to start one. Set KAFKA_BROKERS, start a ` +
        `container runtime, or install it: ${hint}`,
    );
  }
}

/** Fetches the broker's jars (once; cached under .cache/kafka/<pom hash>/libs). */
function brokerJars(log: (line: string) => void): string {
  const pom = readFileSync(POM);
  const dir = cacheDir('kafka', createHash('sha256').update(pom).digest('hex').slice(0, 12));
  const libs = join(dir, 'libs');
  if (existsSync(libs) && readdirSync(libs).some((f) => f.startsWith('kafka_2.13'))) return libs;
  need('mvn', '`apt-get install -y maven`');
  log('kafka: fetching Apache Kafka jars from Maven Central (first run only)');
  const staging = mkdtempSync(join(dir, 'staging-'));
  try {
    execFileSync(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        POM,
        'dependency:copy-dependencies',
        `-DoutputDirectory=${staging}`,
        '-DincludeScope=runtime',
      ],
      { stdio: 'pipe' },
    );
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    const out = (error as { stdout?: Buffer }).stdout?.toString() ?? String(error);
    throw new Error(`could not fetch the Kafka jars with Maven (${POM}):\n${out.slice(-3000)}`, {
      cause: error,
    });
  }
  renameSync(staging, libs);
  return libs;
}

/**
 * Starts a single-node KRaft broker from Maven Central's jars. `name` keeps the log and pid files
 * of several brokers apart (a test may start its own to take it down).
 */
export async function startLocalBroker(
  log: (line: string) => void = () => {},
  name = 'kafka',
): Promise<KafkaServer> {
  need('java', '`apt-get install -y openjdk-17-jre-headless` (Java 17+)');
  const libs = brokerJars(log);
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-kafka-'));
  const [port, controllerPort] = (await freePorts(2)) as [number, number];
  const properties = join(dataDir, 'server.properties');
  writeFileSync(
    properties,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${join(dataDir, 'data')}`,
      'num.partitions=1',
      // The code under test creates its topics; a typo must not create one silently.
      'auto.create.topics.enable=false',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=4',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=4',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      '',
    ].join('\n'),
  );
  const classpath = `${libs}/*`;
  // A Kafka cluster id is 16 random bytes in URL-safe base64 without padding.
  // (Kafka's own random ids never start with '-': the formatter would read one as an option.)
  let clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
  try {
    // With a static controller.quorum.voters, the formatter must not get --standalone.
    execFileSync(
      'java',
      ['-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties],
      {
        stdio: 'pipe',
      },
    );
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(
      `formatting Kafka storage failed: ${String((error as { stderr?: Buffer }).stderr ?? error)}`,
      { cause: error },
    );
  }
  const logFile = join(cacheDir('logs'), `${name}.log`);
  const brokers = [`127.0.0.1:${port}`];
  const launch = async (): Promise<ManagedProcess> => {
    // Heap sized for a shared 2-core machine.
    const broker = startProcess(
      'java',
      [
        '-Xms256m',
        '-Xmx1g',
        '-XX:+UseG1GC',
        '-Djava.awt.headless=true',
        '-cp',
        classpath,
        'kafka.Kafka',
        properties,
      ],
      { logFile, pidFile: join(cacheDir('pids'), `${name}.pid`) },
    );
    try {
      await waitUntilAnswering(brokers, 90_000, () => {
        const exited = broker.child.exitCode !== null ? ' (the broker exited)' : '';
        return `local Kafka did not become ready on 127.0.0.1:${port}${exited}; log:\n${tail(logFile)}`;
      });
    } catch (error) {
      await broker.stop(2_000);
      throw error;
    }
    return broker;
  };
  let broker: ManagedProcess | null;
  try {
    broker = await launch();
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  await warmUp(brokers);
  log(`kafka: started local Apache Kafka (KRaft) on ${brokers[0]}`);
  return {
    brokers,
    source: 'local',
    stop: async () => {
      await broker?.stop(8_000);
      rmSync(dataDir, { recursive: true, force: true });
    },
    halt: async () => {
      await broker?.stop(8_000);
      broker = null;
    },
    start: async () => {
      broker ??= await launch();
    },
  };
}
