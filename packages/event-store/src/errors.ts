/** Codes of the event store's typed errors. */
export const eventStoreErrorCodes = [
  /** The stream moved on since the caller read it: re-read and decide again. */
  'stream_version_conflict',
  /** The stream exists and holds another kind of object (a customer's id given for a payment). */
  'stream_type_mismatch',
  /** The Idempotency-Key was used before by this caller with a different request. */
  'idempotency_key_reused',
  /** A stored event fails its hash check (tampering or corruption). */
  'hash_mismatch',
] as const;

export type EventStoreErrorCode = (typeof eventStoreErrorCodes)[number];

/** The event store's one error class. */
export class EventStoreError extends Error {
  readonly code: EventStoreErrorCode;

  constructor(code: EventStoreErrorCode, message: string) {
    super(message);
    this.name = 'EventStoreError';
    this.code = code;
  }
}
