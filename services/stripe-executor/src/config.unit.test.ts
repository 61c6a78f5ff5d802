import { describe, expect, it } from 'vitest';
import { loadExecutorConfig } from './config.ts';

const required = {
  DATABASE_URL: 'postgres://ledger@127.0.0.1:5432/ledger',
  KAFKA_BROKERS: '127.0.0.1:9092',
  STRIPE_SECRET_KEY: 'sk_test_abc',
};

describe('stripe-executor configuration', () => {
  it('opens the breaker after 5 transient failures for 30 s unless told otherwise', () => {
    expect(loadExecutorConfig(required).stripe).toMatchObject({
      breakerThreshold: 5,
      breakerCooldownMs: 30_000,
    });
    expect(
      loadExecutorConfig({ ...required, STRIPE_BREAKER_THRESHOLD: '3', STRIPE_BREAKER_COOLDOWN_MS: '1500' })
        .stripe,
    ).toMatchObject({ breakerThreshold: 3, breakerCooldownMs: 1_500 });
  });

  it('refuses a breaker setting out of range, naming it and never the secret key', () => {
    for (const bad of [{ STRIPE_BREAKER_COOLDOWN_MS: '10' }, { STRIPE_BREAKER_THRESHOLD: '0' }]) {
      const attempt = () => loadExecutorConfig({ ...required, ...bad });
      expect(attempt).toThrow(Object.keys(bad)[0]);
      expect(attempt).not.toThrow(/sk_test_abc/);
    }
  });
});
