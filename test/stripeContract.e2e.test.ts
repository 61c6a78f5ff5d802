import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StripeGateway, idempotencyKey, type GatewayResult } from '@payledger/stripe-gateway';
import { freePort, waitFor } from '@payledger/testkit';

// Every request shape the gateway sends, checked by stripe-mock: Stripe's own mock that validates
// each request against Stripe's OpenAPI specification. A rejected shape fails the test.
const STRIPE_MOCK = 'github.com/stripe/stripe-mock@v0.203.0';

function stripeMockBinary(): string {
  let gopath: string;
  try {
    gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      `stripe-mock is needed for the Stripe contract test and Go is missing to build it: install Go, then \`go install ${STRIPE_MOCK}\``,
    );
  }
  const binary = join(gopath, 'bin', 'stripe-mock');
  if (!existsSync(binary)) {
    // Built once from the Go module proxy, then reused.
    execFileSync('go', ['install', STRIPE_MOCK], { stdio: 'inherit' });
  }
  return binary;
}

let mock: ChildProcess;
let gateway: StripeGateway;
let mockUrl: string;

beforeAll(async () => {
  const binary = stripeMockBinary();
  const port = await freePort();
  mock = spawn(binary, ['-http-addr', `127.0.0.1:${port}`], { stdio: 'ignore' });
  await waitFor(
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}/v1/customers`, {
        headers: { authorization: 'Bearer sk_test_123' },
      });
      return res.ok;
    },
    { timeoutMs: 30_000, describe: () => `stripe-mock did not answer on port ${port}` },
  );
  mockUrl = `http://127.0.0.1:${port}`;
  gateway = new StripeGateway({
    secretKey: 'sk_test_123',
    host: '127.0.0.1',
    port,
    protocol: 'http',
    ratePerSecond: 0,
    maxAttempts: 1,
  });
}, 600_000);

afterAll(() => {
  mock?.kill('SIGTERM');
});

function accepted<T>(result: GatewayResult<T>): T {
  if (!result.ok)
    throw new Error(
      `stripe-mock rejected the request: ${result.failure.status} ${result.failure.code}: ${result.failure.message}`,
    );
  return result.value;
}

describe('gateway requests against stripe-mock (Stripe OpenAPI validation)', () => {
  const paymentId = 'pay_contract';

  it('customers: create', async () => {
    accepted(
      await gateway.createCustomer(
        { ledgerCustomerId: 'c1', email: 'c1@example.com', name: 'C One' },
        'contract-cust',
      ),
    );
    accepted(
      await gateway.createCustomer(
        { ledgerCustomerId: 'c2', email: 'c2@example.com', name: null },
        'contract-cust-2',
      ),
    );
  });

  it('payment methods: attach and set as default', async () => {
    accepted(await gateway.attachPaymentMethod('pm_card_visa', 'cus_123', true, 'contract-attach'));
    accepted(await gateway.attachPaymentMethod('pm_card_visa', 'cus_123', false, 'contract-attach-2'));
  });

  it('payment intents: create (automatic and manual), confirm (on and off session), capture, cancel, retrieve, search', async () => {
    for (const captureMethod of ['automatic', 'manual'] as const) {
      accepted(
        await gateway.createPaymentIntent(
          {
            paymentId,
            amount: 2000,
            currency: 'USD',
            customer: 'cus_123',
            paymentMethod: 'pm_card_visa',
            captureMethod,
            description: 'order 42',
          },
          idempotencyKey(paymentId, `create_intent_${captureMethod}`, 1),
        ),
      );
    }
    accepted(
      await gateway.createPaymentIntent(
        {
          paymentId,
          amount: 500,
          currency: 'JPY',
          customer: null,
          paymentMethod: 'pm_card_visa',
          captureMethod: 'automatic',
          description: null,
        },
        idempotencyKey(paymentId, 'create_intent', 2),
      ),
    );
    accepted(await gateway.confirmPaymentIntent('pi_123', false, idempotencyKey(paymentId, 'confirm', 1)));
    accepted(await gateway.confirmPaymentIntent('pi_123', true, idempotencyKey(paymentId, 'confirm', 2)));
    accepted(await gateway.capturePaymentIntent('pi_123', 1500, idempotencyKey(paymentId, 'capture', 1)));
    accepted(await gateway.cancelPaymentIntent('pi_123', idempotencyKey(paymentId, 'cancel', 1)));
    accepted(await gateway.retrievePaymentIntent('pi_123'));
    accepted(await gateway.findIntents(paymentId));
  });

  it('refunds: create partial with our refund id', async () => {
    accepted(
      await gateway.createRefund(
        { intentId: 'pi_123', amount: 500, refundId: 'rf_1' },
        idempotencyKey(paymentId, 'refund:rf_1', 1),
      ),
    );
  });

  it('rejects a shape Stripe does not accept, so the checks above can fail', async () => {
    const res = await fetch(`${mockUrl}/v1/payment_intents`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_test_123', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'amount=twenty&currency=usd&unknown_param=1',
    });
    expect(res.status).toBe(400);
  });
});
