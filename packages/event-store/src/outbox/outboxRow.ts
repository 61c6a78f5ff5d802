import type { StoredEvent } from '../streams/storedEvent.ts';

export interface OutboxOptions {
  /** Kafka topic every event is announced on. */
  readonly topic: string;
}

/** The published form of an event: what consumers get as the Kafka message value. */
export interface PublishedEvent {
  readonly eventId: string;
  /** Versioned name, e.g. `PaymentCreated.v1`. */
  readonly type: string;
  readonly streamId: string;
  readonly streamType: string;
  readonly streamVersion: number;
  readonly data: Record<string, unknown>;
  readonly metadata: StoredEvent['metadata'];
  readonly recordedAt: string;
  readonly hash: string;
}

/** Versioned published name of an event type. */
export function publishedType(type: string, schemaVersion: number): string {
  return `${type}.v${schemaVersion}`;
}

/** The outbox row announcing `event` (written in the event's own transaction); payload and headers as JSON values. */
export function outboxRow(event: StoredEvent, options: OutboxOptions) {
  const payload: PublishedEvent = {
    eventId: event.eventId,
    type: publishedType(event.type, event.schemaVersion),
    streamId: event.streamId,
    streamType: event.streamType,
    streamVersion: event.streamVersion,
    data: event.data,
    metadata: event.metadata,
    recordedAt: event.recordedAt,
    hash: event.hash,
  };
  const headers: Record<string, string> = {
    'event-id': event.eventId,
    'event-type': payload.type,
    'schema-version': String(event.schemaVersion),
    'correlation-id': event.metadata.correlationId,
    'event-hash': event.hash,
  };
  return {
    event_id: event.eventId,
    message_key: event.streamId,
    topic: options.topic,
    type: payload.type,
    schema_version: event.schemaVersion,
    payload,
    headers,
  };
}
