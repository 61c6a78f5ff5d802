import type { Kysely } from 'kysely';
import type { Database } from '../schema/database.ts';
import { toStoredEvent, type StoredEvent } from './storedEvent.ts';

/** The events of one stream in version order (empty when it does not exist). */
export async function readStream(db: Kysely<Database>, streamId: string): Promise<StoredEvent[]> {
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .where('stream_id', '=', streamId)
    .orderBy('stream_version')
    .execute();
  return rows.map(toStoredEvent);
}

/** A page of the global history from `afterPosition` (exclusive), in position order. */
export async function readAll(
  db: Kysely<Database>,
  afterPosition: string,
  limit: number,
): Promise<StoredEvent[]> {
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .where('position', '>', afterPosition as never)
    .orderBy('position')
    .limit(limit)
    .execute();
  return rows.map(toStoredEvent);
}
