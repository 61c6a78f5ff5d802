// Test helpers shared by the relay's integration tests (not exported from the package).
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Kafka } from 'kafkajs';
import { executeCommands, type CommandRequest, type Database } from '@payledger/event-store';

/** A command appending `count` events to `streamId` (data: { seq }), no idempotency key. */
export function appendCommand(streamId: string, count: number): CommandRequest {
  return {
    caller: 'relay-test',
    idempotencyKey: null,
    fingerprint: 'x',
    streamId,
    streamType: 'payment',
    metadata: { actor: 'relay-test', correlationId: `corr-${streamId}`, causationId: null },
    decide: (history) => ({
      events: Array.from({ length: count }, (_, i) => ({
        type: 'Tick',
        data: { seq: history.length + i + 1 },
      })),
      respond: () => ({ statusCode: 200, body: null }),
    }),
  };
}

/** Writes `perStream` events to each of `streams` new streams, interleaved across transactions. */
export async function writeEvents(
  db: Kysely<Database>,
  topic: string,
  streams: number,
  perStream: number,
  prefix = 'pay',
): Promise<string[]> {
  const ids = Array.from({ length: streams }, () => `${prefix}_${randomBytes(5).toString('hex')}`);
  for (let round = 0; round < perStream; round++) {
    const results = await executeCommands(
      db,
      ids.map((id) => appendCommand(id, 1)),
      { topic },
    );
    const failed = results.find((r) => !r.ok);
    if (failed !== undefined && !failed.ok) throw failed.error;
  }
  return ids;
}

/** What a consumer saw: per key, the stream versions in arrival order, and every event id. */
export interface Seen {
  readonly byKey: Map<string, number[]>;
  readonly eventIds: string[];
  readonly headers: Record<string, string>[];
}

/** Consumes `topic` from the beginning into a Seen record until `stop()`. */
export async function collect(
  kafka: Kafka,
  topic: string,
): Promise<{ seen: Seen; stop: () => Promise<void> }> {
  const seen: Seen = { byKey: new Map(), eventIds: [], headers: [] };
  const consumer = kafka.consumer({ groupId: `${topic}.checker.${randomBytes(3).toString('hex')}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const key = message.key?.toString() ?? '';
      const value = JSON.parse(message.value?.toString() ?? '{}') as { streamVersion: number };
      const list = seen.byKey.get(key) ?? [];
      list.push(value.streamVersion);
      seen.byKey.set(key, list);
      const headers = Object.fromEntries(
        Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
      );
      seen.headers.push(headers);
      seen.eventIds.push(headers['event-id'] ?? '');
    },
  });
  return { seen, stop: () => consumer.disconnect() };
}

/** Per key, the versions with later duplicates dropped: must be 1..n in order. */
export function firstSeenOrder(versions: readonly number[]): number[] {
  const seenSet = new Set<number>();
  const out: number[] = [];
  for (const v of versions) {
    if (!seenSet.has(v)) {
      seenSet.add(v);
      out.push(v);
    }
  }
  return out;
}

/** True when no key's redelivery went backwards except by re-sending a suffix (at-least-once). */
export function inOrderPerKey(seen: Seen, perStream?: number): boolean {
  for (const versions of seen.byKey.values()) {
    const first = firstSeenOrder(versions);
    if (perStream !== undefined && first.length !== perStream) return false;
    if (first.some((v, i) => v !== i + 1)) return false;
  }
  return true;
}
