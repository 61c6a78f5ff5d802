import { hash } from 'node:crypto';
import { canonicalJson } from './canonicalJson.ts';

/** The prev_hash of the first event of every stream: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields of an event that its hash covers (docs/hash-chain.md). */
export interface HashedEventFields {
  readonly eventId: string;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: unknown;
  readonly metadata: unknown;
  /** ISO 8601 UTC with milliseconds, e.g. `2026-11-22T19:00:00.000Z`. */
  readonly recordedAt: string;
}

/** `hex(sha256(utf8(prevHash + canonicalJson(fields))))`: one link of a stream's chain. */
export function eventHash(prevHash: string, fields: HashedEventFields): string {
  const canonical = canonicalJson({
    data: fields.data,
    eventId: fields.eventId,
    metadata: fields.metadata,
    recordedAt: fields.recordedAt,
    schemaVersion: fields.schemaVersion,
    streamId: fields.streamId,
    streamVersion: fields.streamVersion,
    type: fields.type,
  });
  // One-shot hash(): half the cost of createHash().update().digest() for one short input.
  return hash('sha256', prevHash + canonical, 'hex');
}
