export { OutboxRelay, toOutgoing, type RelayDeps, type RelayOptions } from './outboxRelay.ts';
export { AdvisoryLease, LocalLease, type Lease } from './lease.ts';
export { createRelayMetrics, type RelayMetrics } from './relayMetrics.ts';
export { loadRelayConfig, requiredEnvironment, type RelayConfig } from './config.ts';
export { startRelay, type RunningRelay } from './main.ts';
