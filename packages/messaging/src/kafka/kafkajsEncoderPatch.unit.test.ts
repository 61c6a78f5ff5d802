// patches/kafkajs@2.2.4.patch makes kafkajs's protocol encoder take its buffers from
// Buffer.allocUnsafe (Node's pool) instead of a fresh zero-filled Buffer.alloc per record and per
// header. That is only safe if every byte the encoder hands out was written first: a byte left
// unwritten would carry whatever the pool held before (another message, a password) to Kafka.
// These tests encode a record batch while allocUnsafe returns memory full of garbage and demand
// exactly the bytes of an encoding on zeroed memory, then decode them back.
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';

const require = createRequire(import.meta.url);

interface RecordInput {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer;
  value: Buffer;
  headers: Record<string, string>;
}
interface Encoded {
  buffer: Buffer;
}
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (batch: Record<string, unknown>) => Promise<Encoded>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (
  record: RecordInput,
) => Encoded;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (
  decoder: unknown,
) => Promise<{
  records: { key: Buffer; value: Buffer; headers: Record<string, Buffer>; offset: string }[];
}>;

// Sizes on both sides of Node's pool threshold (4 KiB) and of the encoder's growth steps.
const messages = Array.from({ length: 40 }, (_, i) => ({
  key: `pay_${i.toString(16).padStart(32, '0')}`,
  value: JSON.stringify({ n: i, text: 'é€'.repeat(i * 37) }),
  headers: {
    'event-id': `00000000-0000-4000-8000-${i.toString().padStart(12, '0')}`,
    'event-type': 'PaymentSubmitted.v1',
    'schema-version': '1',
    'correlation-id': 'c'.repeat(i % 7),
    'event-hash': 'a'.repeat(64),
  },
}));

async function encode(): Promise<Buffer> {
  const records = messages.map((m, i) =>
    Record({
      offsetDelta: i,
      timestampDelta: 0,
      key: Buffer.from(m.key),
      value: Buffer.from(m.value),
      headers: m.headers,
    }),
  );
  const batch = await RecordBatch({
    firstTimestamp: 1_796_000_000_000,
    maxTimestamp: 1_796_000_000_000,
    lastOffsetDelta: records.length - 1,
    producerId: 7,
    producerEpoch: 0,
    firstSequence: 0,
    records,
  });
  return Buffer.from(batch.buffer);
}

describe('the patched kafkajs encoder', () => {
  afterEach(() => vi.restoreAllMocks());

  it('draws its buffers from allocUnsafe (the patch is applied)', async () => {
    const spy = vi.spyOn(Buffer, 'allocUnsafe');
    await encode();
    expect(spy).toHaveBeenCalled();
  });

  it('writes every byte it hands out: garbage in the pool never reaches a message', async () => {
    const real = Buffer.allocUnsafe.bind(Buffer);
    vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => real(size).fill(0));
    const onZeros = await encode();
    vi.restoreAllMocks();
    for (const junk of [0xaa, 0xff, 0x01]) {
      vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => real(size).fill(junk));
      expect((await encode()).equals(onZeros)).toBe(true);
      vi.restoreAllMocks();
    }
  });

  it('round-trips through the decoder', async () => {
    const { records } = await decodeBatch(new Decoder(await encode()));
    expect(records).toHaveLength(messages.length);
    records.forEach((r, i) => {
      const m = messages[i] as (typeof messages)[number];
      expect(r.key.toString()).toBe(m.key);
      expect(r.value.toString()).toBe(m.value);
      expect(Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, v.toString()]))).toEqual(
        m.headers,
      );
    });
  });
});
