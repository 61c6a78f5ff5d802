// Load generator for bench:ingest, run in its own process: `clients` closed-loop HTTP/1.1 clients,
// each on its own keep-alive connection with one request in flight, send create-payment commands
// for `seconds` after `warmup` seconds; every latency goes into a histogram. Prints one JSON line
// with the result.
//
// It speaks HTTP over raw sockets (like wrk) instead of node:http: the load generator shares the
// two cores with the system it measures, and node:http's client cost ~110 us of CPU per request
// here, as much as a third of what the API itself spends. The responses are parsed only as far as
// a load generator must: status line, Content-Length, the body skipped (no chunked encoding: the
// API always sends a length, anything else is counted as an error and the connection replaced).
import { connect, type Socket } from 'node:net';
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
const head =
  `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nAuthorization: ${token}\r\n` +
  'Content-Type: application/json\r\nConnection: keep-alive\r\n';

function request(n: number): string {
  const payload = body(n);
  return (
    `${head}Idempotency-Key: bench-${process.pid}-${n}\r\n` +
    `Content-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`
  );
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** One connection: resolves each request with its status (0: the connection failed or the reply was unreadable). */
class Connection {
  #socket: Socket | null = null;
  #buffer: Buffer = Buffer.alloc(0);
  #pending: ((status: number) => void) | null = null;

  #open(): Socket {
    const socket = connect({ host: target.hostname, port: Number(target.port) });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    const fail = () => {
      if (this.#socket !== socket) return; // replaced already (its reply was settled then)
      this.#socket = null;
      this.#buffer = Buffer.alloc(0);
      this.#settle(0);
    };
    socket.on('error', fail);
    socket.on('close', fail);
    this.#socket = socket;
    return socket;
  }

  send(text: string): Promise<number> {
    return new Promise((resolve) => {
      this.#pending = resolve;
      (this.#socket ?? this.#open()).write(text);
    });
  }

  #settle(status: number): void {
    const pending = this.#pending;
    this.#pending = null;
    pending?.(status);
  }

  #receive(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const end = this.#buffer.indexOf(HEADER_END);
    if (end < 0) return;
    const headers = this.#buffer.toString('latin1', 0, end);
    const status = Number(headers.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(headers);
    if (length === null || !Number.isInteger(status)) {
      // Not a reply this client can delimit (no length): count it as failed, start afresh.
      this.#socket?.destroy();
      return;
    }
    const total = end + HEADER_END.length + Number(length[1]);
    if (this.#buffer.length < total) return;
    this.#buffer = this.#buffer.subarray(total);
    if (/\r\nconnection: *close/i.test(headers)) {
      const socket = this.#socket;
      this.#socket = null;
      socket?.destroy();
    }
    this.#settle(status);
  }

  close(): void {
    this.#socket?.destroy();
  }
}

async function client(connection: Connection): Promise<void> {
  while (!done) {
    const start = performance.now();
    const status = await connection.send(request(seq++));
    if (!measuring) continue;
    if (status === 201) {
      histogram.record(Math.max(1, Math.round((performance.now() - start) * 1000))); // microseconds
      count++;
    } else errors++;
  }
}

const connections = Array.from({ length: clients }, () => new Connection());
const running = connections.map((c) => client(c));
await new Promise((r) => setTimeout(r, warmupMs));
measuring = true;
const t0 = performance.now();
await new Promise((r) => setTimeout(r, measureMs));
measuring = false;
const elapsed = (performance.now() - t0) / 1000;
done = true;
// A reply that never comes must not hang the bench: after 10 s the connections are closed, which
// settles whatever is still waiting.
await Promise.race([Promise.all(running), new Promise((r) => setTimeout(r, 10_000).unref())]);
for (const c of connections) c.close();
await Promise.all(running);
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
