// One lint setup for the whole repo. Formatting is Prettier's job (checked by `npm test`).
// The layer rules of ARCHITECTURE.md are enforced here, not left as wishes.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const services = ['api', 'outbox-relay', 'stripe-executor', 'reconciler', 'ledger-cli'];
// packages/stripe-gateway is the only importer of the Stripe SDK (tests excepted).
const noStripe = { name: 'stripe', message: 'Only packages/stripe-gateway talks to Stripe.' };

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '.tools/**',
      '.cache/**',
      '.data/**',
      '**/.tsbuild/**',
      'schemas/json/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { process: 'readonly', console: 'readonly' },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: 'error',
      'no-console': 'off',
    },
  },
  {
    // The domain is pure: no I/O, no clock, no randomness. Only relative imports are allowed.
    files: ['packages/ledger/src/**/*.ts'],
    ignores: ['packages/ledger/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(?!\\.{1,2}/)', message: 'packages/ledger is pure: no I/O or third-party imports.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'fetch', message: 'packages/ledger is pure: no I/O.' },
        { name: 'process', message: 'packages/ledger is pure: configuration arrives in commands.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'No clock in the domain: `now` arrives in the command.' },
        {
          object: 'Math',
          property: 'random',
          message: 'No randomness in the domain: ids arrive in the command.',
        },
      ],
    },
  },
  {
    // Packages never import services.
    files: ['packages/**/*.ts', 'schemas/**/*.ts'],
    ignores: ['packages/ledger/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noStripe],
          patterns: [
            { regex: `^@payledger/(${services.join('|')})$`, message: 'A package never imports a service.' },
            { regex: '(^|/)services/', message: 'A package never imports a service.' },
          ],
        },
      ],
    },
  },
  {
    // The gateway may import stripe; it still never imports a service.
    files: ['packages/stripe-gateway/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: `^@payledger/(${services.join('|')})$`, message: 'A package never imports a service.' },
          ],
        },
      ],
    },
  },
  {
    // The embedded composer may import every service, but not Stripe directly.
    files: ['services/embedded/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [noStripe] }] },
  },
  {
    // Tests may import anything they check against.
    files: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Migrations are frozen in time: they see the database as Kysely<any>, never app types.
    files: ['packages/event-store/src/migrations/**/*.ts', 'packages/event-store/src/migrate.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  ...services.map((service) => ({
    // Services never import each other (only the embedded composer in services/embedded may).
    files: [`services/${service}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noStripe],
          patterns: [
            {
              regex: `^@payledger/(${services.filter((s) => s !== service).join('|')})$`,
              message: 'Services never import each other; share code through a package.',
            },
            { regex: '^\\.\\./\\.\\./', message: 'No reaching into another folder: import its package.' },
          ],
        },
      ],
    },
  })),
  {
    // Configuration is parsed once, at start, in config.ts (from the environment main.ts hands
    // it): no process.env anywhere else.
    files: ['packages/**/*.ts', 'services/**/*.ts', 'schemas/**/*.ts'],
    ignores: ['**/config.ts', '**/main.ts', 'packages/testkit/**', '**/*.test.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read the environment only in config.ts.' },
      ],
    },
  },
);
