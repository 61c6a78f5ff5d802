import { defineConfig } from 'vitest/config';

// Test tiers by file name (STYLE.md): *.unit.test.ts need nothing; *.int.test.ts and test/**
// (e2e, chaos) get real PostgreSQL and Kafka from the testkit global setup.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/**/*.unit.test.ts', 'services/**/*.unit.test.ts', 'schemas/**/*.unit.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: [
            'packages/**/*.int.test.ts',
            'services/**/*.int.test.ts',
            'schemas/**/*.int.test.ts',
            'test/**/*.test.ts',
          ],
          globalSetup: ['packages/testkit/src/globalSetup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
