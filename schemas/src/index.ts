export * from './api/common.ts';
export * from './api/payments.ts';
export * from './api/customers.ts';
export * from './events/publishedEvents.ts';
export { jsonSchemas } from './jsonSchemas.ts';
