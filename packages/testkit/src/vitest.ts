// Helpers for test files; they read what the global setup provided (vitest `inject`).
export { createTestDatabase, withDatabase, type TestDatabase } from './testDatabase.ts';
export { createTestTopic, testBrokers, testKafka } from './testTopics.ts';
export { waitFor } from './processes.ts';
