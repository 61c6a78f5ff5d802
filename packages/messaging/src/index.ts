export type {
  Consumer,
  ConsumerOptions,
  IncomingMessage,
  MessageBus,
  MessageHandler,
  OutgoingMessage,
  Publisher,
} from './messageBus.ts';
export { KafkaBus, type KafkaBusOptions } from './kafka/kafkaBus.ts';
export { InProcessBus } from './memory/inProcessBus.ts';
