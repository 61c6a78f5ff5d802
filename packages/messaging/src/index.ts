export type {
  Consumer,
  ConsumerOptions,
  IncomingMessage,
  MessageBus,
  MessageHandler,
  OutgoingMessage,
  Publisher,
  TopicSpec,
} from './messageBus.ts';
export { MessagingError, messagingErrorCodes, type MessagingErrorCode } from './errors.ts';
export { KafkaBus, type KafkaBusOptions } from './kafka/kafkaBus.ts';
export { InProcessBus, type InProcessBusOptions } from './memory/inProcessBus.ts';
