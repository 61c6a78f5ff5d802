/** Codes of the messaging port's typed errors (the same for every adapter). */
export const messagingErrorCodes = [
  /**
   * The broker did not acknowledge every message of a `publish`. None, some or all may have been
   * written: re-send the same messages (consumers dedupe on the `event-id` header).
   */
  'publish_failed',
  /** `ensureTopics` got a bad topic name or partition count, or the broker refused to create it. */
  'topic_setup_failed',
  /** The consumer could not connect to the broker or join its group. */
  'consumer_failed',
  /** `run` was called on a consumer that already ran: create a new consumer instead. */
  'consumer_reused',
  /** The bus was closed: nothing can be published or consumed through it any more. */
  'bus_closed',
] as const;

export type MessagingErrorCode = (typeof messagingErrorCodes)[number];

/** The messaging package's one error class; `cause` holds the adapter's own error, if any. */
export class MessagingError extends Error {
  readonly code: MessagingErrorCode;

  constructor(code: MessagingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MessagingError';
    this.code = code;
  }
}
