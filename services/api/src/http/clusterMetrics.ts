import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

// With API_PROCESSES > 1 every process keeps its own counters, and a scrape of /metrics lands on
// whichever process the cluster gave the connection: one process's counts, a different one each
// time, so rates computed from them are wrong. The process that answers asks the primary, which
// collects every process's registry over IPC (prom-client's AggregatorRegistry) and sums them.

const REQUEST = 'ledger:cluster-metrics-request';
const RESPONSE = 'ledger:cluster-metrics-response';

interface MetricsRequest {
  type: typeof REQUEST;
  id: number;
}
interface MetricsResponse {
  type: typeof RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

function isRequest(message: unknown): message is MetricsRequest {
  return (message as MetricsRequest | null)?.type === REQUEST;
}
function isResponse(message: unknown): message is MetricsResponse {
  return (message as MetricsResponse | null)?.type === RESPONSE;
}

/** In the primary: answers each worker's request with the metrics of all workers, aggregated. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isRequest(message)) return;
    void aggregator.clusterMetrics().then(
      (text) => reply(worker, { type: RESPONSE, id: message.id, text }),
      (error: unknown) => reply(worker, { type: RESPONSE, id: message.id, error: String(error) }),
    );
  });
}

function reply(worker: Worker, message: MetricsResponse): void {
  if (worker.isConnected()) worker.send(message);
}

/**
 * In a worker: offers `registry` for aggregation and returns a reader of the whole cluster's
 * metrics (Prometheus text) from the primary. Rejects after `timeoutMs` without an answer.
 */
export function clusterMetricsReader(registry: Registry, timeoutMs = 5_000): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one is what makes prom-client answer the primary's collection requests here.
  new AggregatorRegistry();
  const pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  let next = 0;
  process.on('message', (message: unknown) => {
    if (!isResponse(message)) return;
    const waiting = pending.get(message.id);
    if (waiting === undefined) return;
    pending.delete(message.id);
    if (message.text !== undefined) waiting.resolve(message.text);
    else
      waiting.reject(new Error(`the primary could not collect the metrics: ${message.error ?? 'no answer'}`));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`the primary did not send the cluster's metrics within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      process.send?.({ type: REQUEST, id } satisfies MetricsRequest);
    });
}
