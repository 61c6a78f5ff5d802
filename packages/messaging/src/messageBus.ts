/** A message to publish: `key` decides the partition, so one key's messages stay in order. */
export interface OutgoingMessage {
  readonly topic: string;
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** A consumed message and where it came from. */
export interface IncomingMessage {
  readonly topic: string;
  readonly partition: number;
  /** Offset in the partition, as a decimal string. */
  readonly offset: string;
  readonly key: string | null;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Publishes messages. */
export interface Publisher {
  /** Connects (idempotent). */
  connect(): Promise<void>;
  /**
   * Publishes `messages` and resolves only when every one is acknowledged by all in-sync replicas.
   * On rejection some may have been written: callers re-send, consumers dedupe on `event-id`.
   */
  publish(messages: readonly OutgoingMessage[]): Promise<void>;
  /** Flushes and disconnects. */
  disconnect(): Promise<void>;
}

/** Handles one message; resolving means "done, commit past it"; throwing means "retry it". */
export type MessageHandler = (message: IncomingMessage) => Promise<void>;

/** A consumer-group member: per-partition order, offsets committed only after the handler resolved. */
export interface Consumer {
  /** Starts consuming in the background. */
  run(handler: MessageHandler): Promise<void>;
  /** Stops consuming and leaves the group. */
  stop(): Promise<void>;
}

export interface ConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Where a new group starts: the beginning (default) or only new messages. */
  readonly fromBeginning?: boolean;
  /** How long a silent member keeps its partitions (Kafka: session timeout; default 30 s). */
  readonly sessionTimeoutMs?: number;
  /** Partitions handled at once by this member (order stays per partition); default 1. */
  readonly concurrency?: number;
}

/** The messaging port: nothing else in the system knows whether Kafka or memory is behind it. */
export interface MessageBus {
  /** A publisher on this bus. */
  publisher(): Publisher;
  /** A consumer-group member on this bus. */
  consumer(options: ConsumerOptions): Consumer;
  /** Creates the topics that do not exist yet (existing ones are left alone). */
  ensureTopics(topics: readonly { readonly topic: string; readonly partitions: number }[]): Promise<void>;
  /** Releases the bus's own connections. */
  close(): Promise<void>;
}
