import { createHash } from 'node:crypto';

/**
 * The Idempotency-Key of a Stripe call: a deterministic function of (payment id, operation,
 * attempt), so a crash, a redelivered message or a retry sends the same key and Stripe replays the
 * first result instead of charging again. A new attempt (a deliberate second try after a
 * processing_error, or after the key may have expired) gets a new key. At most 255 characters
 * (Stripe's limit): long ids are hashed.
 */
export function idempotencyKey(paymentId: string, operation: string, attempt: number): string {
  const plain = `ledger:${paymentId}:${operation}:${attempt}`;
  if (plain.length <= 255) return plain;
  return `ledger:sha256:${createHash('sha256').update(plain).digest('hex')}`;
}
