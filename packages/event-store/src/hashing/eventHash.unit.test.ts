import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonicalJson.ts';
import { eventHash, GENESIS_HASH } from './eventHash.ts';

const example = {
  eventId: '0b6f7c0e-6f0a-4c52-9a5e-2a1f3d9c8e11',
  streamId: 'pay_example',
  streamVersion: 1,
  type: 'PaymentCreated',
  schemaVersion: 1,
  data: {
    paymentId: 'pay_example',
    customerId: 'alice',
    paymentMethodId: 'pm_card_visa',
    amount: '2000',
    currency: 'USD',
    captureMethod: 'automatic',
    offSession: false,
    description: null,
    metadata: {},
    at: '2026-11-22T19:00:00.000Z',
  },
  metadata: { actor: 'orders', correlationId: 'c-1', causationId: null },
  recordedAt: '2026-11-22T19:00:00.123Z',
};

describe('canonical JSON', () => {
  it('sorts keys, drops white space, keeps integers and escapes strings like RFC 8785', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x"\n\u0001é'], c: { z: {}, y: [] } })).toBe(
      '{"a":[true,null,"x\\"\\n\\u0001é"],"b":1,"c":{"y":[],"z":{}}}',
    );
  });

  it('sorts keys by UTF-16 code units at every depth, drops undefined, and parses back to the value', () => {
    expect(canonicalJson({ z: 1, é: 2, '\u{1F600}': 3, Z: 4, a: undefined })).toBe(
      '{"Z":4,"z":1,"é":2,"\u{1F600}":3}',
    );
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constant(null),
        fc.boolean(),
        fc.maxSafeInteger(),
        fc.string({ unit: 'binary' }),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), tie('value'), { maxKeys: 5 }),
      ),
    })).value;
    // The rule written as plainly as possible, to hold the fast version to.
    const reference = (v: unknown): string => {
      if (Array.isArray(v)) return `[${v.map(reference).join(',')}]`;
      if (v === null || typeof v !== 'object') return JSON.stringify(v);
      const entries = Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${reference(x)}`).join(',')}}`;
    };
    fc.assert(
      fc.property(json, (value) => {
        const text = canonicalJson(value);
        expect(text).toBe(reference(value));
        expect(JSON.parse(text)).toEqual(value);
      }),
    );
  });

  it('sorts objects of many keys, integer-like and repeated ones included, as the plain rule does', () => {
    // Past the insertion sort's size, keys the engine orders numerically ("10" before "9"), and
    // the same names again and again (the quoted-key cache).
    const key = fc.oneof(
      fc.constantFrom('amount', 'currency', 'paymentId', 'a', 'B', 'é', '__proto__', ''),
      fc.integer({ min: 0, max: 40 }).map(String),
      fc.string({ unit: 'binary', maxLength: 3 }),
    );
    const leaf = fc.oneof(fc.constant(null), fc.boolean(), fc.maxSafeInteger(), fc.string());
    const object = fc.dictionary(key, fc.oneof(leaf, fc.dictionary(key, leaf, { maxKeys: 30 })), {
      maxKeys: 60,
      size: 'max',
    });
    const plain = (v: unknown): string =>
      v === null || typeof v !== 'object'
        ? JSON.stringify(v)
        : `{${Object.keys(v)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${plain((v as Record<string, unknown>)[k])}`)
            .join(',')}}`;
    fc.assert(
      fc.property(object, (value) => {
        expect(canonicalJson(value)).toBe(plain(value));
      }),
    );
  });

  it('refuses floats and bigints: money must already be a decimal string', () => {
    expect(() => canonicalJson({ amount: 20.5 })).toThrow(/safe integers/);
    expect(() => canonicalJson({ amount: 2000n })).toThrow(/decimal string/);
  });
});

describe('event hash', () => {
  it('matches the worked example of docs/hash-chain.md, recomputed independently', () => {
    const doc = readFileSync(new URL('../../../../docs/hash-chain.md', import.meta.url), 'utf8');
    const hash = eventHash(GENESIS_HASH, example);
    expect(doc).toContain(hash);
    const canonical = doc.split('\n').find((line) => line.startsWith('{"data":'));
    expect(canonical).toBeDefined();
    const independent = createHash('sha256')
      .update(`${'0'.repeat(64)}${canonical}`)
      .digest('hex');
    expect(independent).toBe(hash);
  });

  it('changes when any hashed field or the previous hash changes', () => {
    const base = eventHash(GENESIS_HASH, example);
    expect(eventHash('1'.repeat(64), example)).not.toBe(base);
    expect(eventHash(GENESIS_HASH, { ...example, streamVersion: 2 })).not.toBe(base);
    expect(eventHash(GENESIS_HASH, { ...example, data: { ...example.data, amount: '2001' } })).not.toBe(base);
    expect(eventHash(GENESIS_HASH, { ...example, metadata: { ...example.metadata, actor: 'x' } })).not.toBe(
      base,
    );
  });
});
