// patches/kafkajs@2.2.4.patch also stops kafkajs's request queue from re-arming a 1 ms timer after
// every check when nothing is pending and nothing is throttled (kafkajs#1704, #1751): once a
// connection had answered one request, that timer ran forever, ~60 ms of CPU per second for an
// idle producer, and warned `TimeoutNegativeWarning` on Node >= 23. These tests hold the queue to
// what it must still do without the timer: send what it holds back as soon as it may.
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);

interface Queue {
  push(request: {
    entry: {
      correlationId: number;
      apiKey: number;
      apiName: string;
      apiVersion: number;
      resolve: (response: unknown) => void;
      reject: (error: unknown) => void;
    };
    expectResponse: boolean;
    sendRequest: () => void;
  }): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
  maybeThrottle(ms: number): void;
  destroy(): void;
  throttleCheckTimeoutId: unknown;
  pending: unknown[];
}
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (options: {
  maxInFlightRequests: number;
  requestTimeout: number;
  enforceRequestTimeout: boolean;
  clientId: string;
  broker: string;
  logger: Record<'debug' | 'info' | 'warn' | 'error', () => void>;
}) => Queue;

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const queues: Queue[] = [];
function queue(maxInFlightRequests = 1): Queue {
  const q = new RequestQueue({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: '127.0.0.1:9092',
    logger: quiet,
  });
  queues.push(q);
  return q;
}
const sent: number[] = [];
const request = (correlationId: number) => ({
  entry: {
    correlationId,
    apiKey: 0,
    apiName: 'Produce',
    apiVersion: 3,
    resolve: () => {},
    reject: () => {},
  },
  expectResponse: true,
  sendRequest: () => void sent.push(correlationId),
});
const answer = (q: Queue, correlationId: number) =>
  q.fulfillRequest({ correlationId, payload: Buffer.alloc(0), size: 0 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("kafkajs's request queue, patched", () => {
  afterEach(() => {
    for (const q of queues.splice(0)) q.destroy();
    sent.length = 0;
  });

  it('arms no timer once everything is answered and nothing is throttled', async () => {
    const q = queue();
    q.push(request(1));
    answer(q, 1);
    expect(q.throttleCheckTimeoutId).toBeNull();
    await sleep(5);
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('sends a request held back by the in-flight limit when the one before is answered', async () => {
    const q = queue(1);
    q.push(request(1));
    q.push(request(2));
    expect(sent).toEqual([1]);
    expect(q.pending).toHaveLength(1);
    answer(q, 1);
    expect(sent).toEqual([1, 2]);
    answer(q, 2);
    // The check the held-back request scheduled (10 ms) runs once, then nothing is re-armed.
    await sleep(40);
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('sends a request held back by a throttle once the throttle is over, with nothing else happening', async () => {
    const q = queue(10);
    q.push(request(1));
    answer(q, 1);
    q.maybeThrottle(30);
    q.push(request(2));
    expect(sent).toEqual([1]);
    await sleep(80);
    expect(sent).toEqual([1, 2]);
  });
});
