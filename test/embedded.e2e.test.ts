import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbedded } from '@payledger/embedded';
import { waitFor } from '@payledger/testkit/vitest';

// What a newcomer does after `npm start`: create a customer and a payment with curl, read it back.
describe('embedded start (PGlite, no server)', () => {
  it('serves the API with the documented dev credential, relays its events, and keeps data across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-embedded-'));
    const env = { LEDGER_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' };
    const headers = {
      authorization: 'Bearer dev-writer.dev-writer-secret',
      'content-type': 'application/json',
    };
    try {
      let system = await startEmbedded(env);
      const customer = await fetch(`${system.apiUrl}/v1/customers`, {
        method: 'POST',
        headers: { ...headers, 'idempotency-key': 'cust-1' },
        body: JSON.stringify({ customerId: 'alice', email: 'alice@example.com' }),
      });
      expect(customer.status).toBe(201);
      const created = await fetch(`${system.apiUrl}/v1/payments`, {
        method: 'POST',
        headers: { ...headers, 'idempotency-key': 'pay-1' },
        body: JSON.stringify({
          customerId: 'alice',
          paymentMethodId: 'pm_card_visa',
          amount: 2000,
          currency: 'USD',
        }),
      });
      expect(created.status).toBe(201);
      const payment = (await created.json()) as { id: string };

      // The embedded relay publishes the outbox to the in-process bus.
      const published: string[] = [];
      const consumer = system.bus.consumer({ groupId: 'e2e', topics: [system.eventsTopic] });
      await consumer.run(async (m) => void published.push(`${m.key}:${m.headers['event-type']}`));
      await waitFor(async () => published.includes(`${payment.id}:PaymentCreated.v1`), {
        timeoutMs: 10_000,
        describe: () => `published: ${published.join(', ')}`,
      });
      expect(published).toContain('alice:CustomerRegistered.v1');

      // The embedded executor charges it on the in-process Stripe simulator.
      await waitFor(
        async () => {
          const res = await fetch(`${system.apiUrl}/v1/payments/${payment.id}`, { headers });
          return ((await res.json()) as { payment: { status: string } }).payment.status === 'succeeded';
        },
        { timeoutMs: 15_000, describe: () => 'the embedded executor did not charge the payment' },
      );
      expect(system.stripeSimulator?.charges()).toEqual([
        expect.objectContaining({ amount: 2000, currency: 'usd' }),
      ]);
      await consumer.stop();
      await system.close();

      system = await startEmbedded(env);
      try {
        const read = await fetch(`${system.apiUrl}/v1/payments/${payment.id}`, { headers });
        expect(read.status).toBe(200);
        const body = (await read.json()) as {
          payment: { amount: number; status: string };
          events: unknown[];
        };
        expect(body.payment).toMatchObject({ amount: 2000, status: 'succeeded' });
        expect(body.events.length).toBeGreaterThanOrEqual(5);
        const unauthenticated = await fetch(`${system.apiUrl}/v1/payments`);
        expect(unauthenticated.status).toBe(401);
      } finally {
        await system.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
