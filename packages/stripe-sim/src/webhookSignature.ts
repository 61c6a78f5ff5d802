import { createHmac } from 'node:crypto';

/**
 * The `Stripe-Signature` header Stripe sends: `t=<unix seconds>,v1=<hex>` with one `v1` per active
 * endpoint secret, each HMAC-SHA256(secret, `${t}.${payload}`).
 */
export function signatureHeader(
  payload: string,
  secrets: readonly string[],
  timestampSeconds: number,
): string {
  const signatures = secrets.map(
    (secret) =>
      `v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${payload}`, 'utf8').digest('hex')}`,
  );
  return [`t=${timestampSeconds}`, ...signatures].join(',');
}
