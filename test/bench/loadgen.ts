// Load generator for bench:ingest, run in its own process. Two modes, each sending create-payment
// commands for `seconds` after `warmup` seconds, every latency into a histogram, then one JSON
// line with the result:
// - `closed <clients>`: that many closed-loop clients, each on its own keep-alive connection with
//   one request in flight (throughput at saturation);
// - `open <rate>`: an open loop offering `rate` commands/s on a schedule, whatever the answers do
//   (latency at a stated offered load). A command is due at its scheduled time and its latency
//   counts from then, so a slow answer cannot hide the commands queued behind it (no coordinated
//   omission). It goes out on an idle keep-alive connection, a new one while fewer than
//   MAX_CONNECTIONS are open, or else waits for the first to free up (that wait is in its latency).
// BENCH_TIMELINE=1 adds p50/p99/max per second of the window on stderr: whether a tail is steady
// queueing or bursts.
//
// It speaks HTTP over raw sockets (like wrk) instead of node:http: the load generator shares the
// two cores with the system it measures, and node:http's client cost ~110 us of CPU per request
// here, as much as a third of what the API itself spends. The responses are parsed only as far as
// a load generator must: status line, Content-Length, the body skipped (no chunked encoding: the
// API always sends a length, anything else is counted as an error and the connection replaced).
import { connect, type Socket } from 'node:net';
import { createHistogram, performance } from 'node:perf_hooks';

const [url, token, mode, amountArg, warmupArg, secondsArg, customerId] = process.argv.slice(2);
const amount = Number(amountArg);
const warmupMs = Number(warmupArg) * 1000;
const measureMs = Number(secondsArg) * 1000;
/** Open loop: most connections open at once (the commands in flight at the offered rate). */
const MAX_CONNECTIONS = 512;
if (
  url === undefined ||
  token === undefined ||
  customerId === undefined ||
  (mode !== 'closed' && mode !== 'open') ||
  !(amount > 0)
) {
  console.error(
    'usage: loadgen.ts <url> <token> closed <clients> | open <commands/s>  <warmup s> <seconds> <customerId>',
  );
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

/** BENCH_TIMELINE=1: also a histogram per second of the window (by due time), printed to stderr. */
const TIMELINE = process.env['BENCH_TIMELINE'] === '1';
const perSecond: ReturnType<typeof createHistogram>[] = [];
/** Start of the measured window (performance.now()). */
let t0 = 0;

/** Records one answer of the measured window (latency from `due`, in ms on performance.now()). */
function record(status: number, due: number): void {
  if (!measuring) return;
  if (status === 201) {
    const us = Math.max(1, Math.round((performance.now() - due) * 1000));
    histogram.record(us); // microseconds
    count++;
    if (TIMELINE) {
      const s = Math.floor((due - t0) / 1000);
      if (s >= 0) (perSecond[s] ??= createHistogram()).record(us);
    }
  } else errors++;
}

const connections: Connection[] = [];

/** Closed loop: each client sends its next command as soon as the last one is answered. */
async function closedLoop(clients: number): Promise<void> {
  connections.push(...Array.from({ length: clients }, () => new Connection()));
  await Promise.all(
    connections.map(async (connection) => {
      while (!done) {
        const start = performance.now();
        record(await connection.send(request(seq++)), start);
      }
    }),
  );
}

/** Open loop: `rate` commands/s on a fixed schedule, each timed from when it was due. */
async function openLoop(rate: number): Promise<void> {
  const idle: Connection[] = [];
  const queue: number[] = []; // due times of commands waiting for a connection
  let inFlight = 0;
  const dispatch = (connection: Connection, due: number): void => {
    inFlight++;
    void connection.send(request(seq++)).then((status) => {
      inFlight--;
      record(status, due);
      const next = queue.shift();
      if (next !== undefined && !done) dispatch(connection, next);
      else idle.push(connection);
    });
  };
  const start = performance.now();
  let sent = 0;
  const tick = (): void => {
    if (done) return;
    const due = Math.floor(((performance.now() - start) * rate) / 1000);
    for (; sent < due; sent++) {
      const at = start + (sent * 1000) / rate;
      const connection =
        idle.pop() ??
        (connections.length < MAX_CONNECTIONS
          ? connections[connections.push(new Connection()) - 1]
          : undefined);
      if (connection === undefined) queue.push(at);
      else dispatch(connection, at);
    }
    setTimeout(tick, 1);
  };
  tick();
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (done && inFlight === 0) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });
}

const running = mode === 'closed' ? closedLoop(amount) : openLoop(amount);
await new Promise((r) => setTimeout(r, warmupMs));
measuring = true;
t0 = performance.now();
await new Promise((r) => setTimeout(r, measureMs));
measuring = false;
const elapsed = (performance.now() - t0) / 1000;
done = true;
// A reply that never comes must not hang the bench: after 10 s the connections are closed, which
// settles whatever is still waiting.
await Promise.race([running, new Promise((r) => setTimeout(r, 10_000).unref())]);
for (const c of connections) c.close();
await running;
if (TIMELINE)
  perSecond.forEach((h, i) =>
    process.stderr.write(
      `[loadgen] second ${i}: ${h.count} answered, p50 ${(h.percentile(50) / 1000).toFixed(1)} ms, ` +
        `p99 ${(h.percentile(99) / 1000).toFixed(1)} ms, max ${(h.max / 1000).toFixed(1)} ms\n`,
    ),
  );
console.log(
  JSON.stringify({
    mode,
    count,
    errors,
    seconds: elapsed,
    rate: count / elapsed,
    p50ms: histogram.percentile(50) / 1000,
    p99ms: histogram.percentile(99) / 1000,
    clients: mode === 'closed' ? amount : connections.length,
    offered: mode === 'open' ? amount : null,
    payloadBytes: Buffer.byteLength(body(1)),
  }),
);
