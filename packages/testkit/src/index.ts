export { startPostgres, startLocalCluster, type PostgresServer } from './postgres.ts';
export { startKafka, startLocalBroker, type KafkaServer } from './kafka.ts';
export { freePort, freePorts, waitFor, startProcess, tail, type ManagedProcess } from './processes.ts';
export { repoRoot, cacheDir } from './paths.ts';
export { cpuShares, cpuTimes, parseProcStat, type CpuTimes } from './cpuSteal.ts';
