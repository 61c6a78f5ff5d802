import type { StoredEvent } from '../streams/storedEvent.ts';
import { eventHash, GENESIS_HASH } from './eventHash.ts';

/** One broken link found by `verifyStreams`. */
export interface ChainBreak {
  readonly streamId: string;
  readonly streamVersion: number;
  readonly eventId: string;
  readonly problem: 'hash_mismatch' | 'prev_hash_mismatch' | 'version_gap';
}

/**
 * Checks events (any order, several streams) against their per-stream hash chains: versions
 * 1..n without gaps, each prev_hash equal to the previous hash, each hash recomputed.
 */
export function verifyStreams(events: readonly StoredEvent[]): ChainBreak[] {
  const byStream = new Map<string, StoredEvent[]>();
  for (const e of events) {
    const list = byStream.get(e.streamId) ?? [];
    list.push(e);
    byStream.set(e.streamId, list);
  }
  const breaks: ChainBreak[] = [];
  for (const [streamId, list] of byStream) {
    list.sort((a, b) => a.streamVersion - b.streamVersion);
    let prev = GENESIS_HASH;
    let expectedVersion = 1;
    for (const e of list) {
      const at = { streamId, streamVersion: e.streamVersion, eventId: e.eventId };
      if (e.streamVersion !== expectedVersion) breaks.push({ ...at, problem: 'version_gap' });
      if (e.prevHash !== prev) breaks.push({ ...at, problem: 'prev_hash_mismatch' });
      if (eventHash(e.prevHash, e) !== e.hash) breaks.push({ ...at, problem: 'hash_mismatch' });
      prev = e.hash;
      expectedVersion = e.streamVersion + 1;
    }
  }
  return breaks;
}
