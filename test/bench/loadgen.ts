// Load generator for bench:ingest, run in its own process: `clients` closed-loop HTTP clients on
// keep-alive connections send create-payment commands for `seconds` after `warmup` seconds, and
// latency goes into a histogram. Prints one JSON line with the result.
import { Agent, request } from 'node:http';
import { createHistogram, performance } from 'node:perf_hooks';

const [url, token, clientsArg, warmupArg, secondsArg, customerId] = process.argv.slice(2);
const clients = Number(clientsArg);
const warmupMs = Number(warmupArg) * 1000;
const measureMs = Number(secondsArg) * 1000;
if (url === undefined || token === undefined || customerId === undefined || !(clients > 0)) {
  console.error('usage: loadgen.ts <url> <token> <clients> <warmup s> <seconds> <customerId>');
  process.exit(2);
}
const target = new URL('/v1/payments', url);
const agent = new Agent({ keepAlive: true, maxSockets: clients });
const histogram = createHistogram();
let measuring = false;
let done = false;
let count = 0;
let errors = 0;
let seq = 0;
const body = (n: number) =>
  JSON.stringify({
    customerId,
    paymentMethodId: 'pm_card_visa',
    amount: 1000 + (n % 5000),
    currency: 'USD',
    description: `bench order ${n}`,
    metadata: { order: `o-${n}`, channel: 'bench' },
  });

function send(): Promise<number> {
  const n = seq++;
  const payload = body(n);
  return new Promise((resolve) => {
    const req = request(
      target,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: token,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          'idempotency-key': `bench-${process.pid}-${n}`,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(payload);
  });
}

async function client(): Promise<void> {
  while (!done) {
    const start = performance.now();
    const status = await send();
    if (!measuring) continue;
    if (status === 201) {
      histogram.record(Math.max(1, Math.round((performance.now() - start) * 1000))); // microseconds
      count++;
    } else errors++;
  }
}

const running = Array.from({ length: clients }, () => client());
await new Promise((r) => setTimeout(r, warmupMs));
measuring = true;
const t0 = performance.now();
await new Promise((r) => setTimeout(r, measureMs));
measuring = false;
const elapsed = (performance.now() - t0) / 1000;
done = true;
await Promise.all(running);
agent.destroy();
console.log(
  JSON.stringify({
    count,
    errors,
    seconds: elapsed,
    rate: count / elapsed,
    p50ms: histogram.percentile(50) / 1000,
    p99ms: histogram.percentile(99) / 1000,
    clients,
    payloadBytes: Buffer.byteLength(body(1)),
  }),
);
