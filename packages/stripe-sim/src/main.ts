import { createServer } from 'node:http';
import { StripeSimulator } from './stripeSimulator.ts';

// Runs the simulator on its own: STRIPE_SIM_PORT (default 12111), STRIPE_SIM_WEBHOOK_URL and
// STRIPE_SIM_WEBHOOK_SECRETS (comma-separated whsec_...) to send signed webhooks.
// STRIPE_SIM_INSPECT_PORT (0 = any) opens a second port, apart from the Stripe-like API, that a
// benchmark or a test in another process reads the simulator's side from:
//   GET /requests?from=<n>  the request log from entry n: [{ method, path, idempotencyKey, at }]
//   GET /payments           per ledger payment id (metadata.ledger_payment_id): intents, charges
const port = Number(process.env['STRIPE_SIM_PORT'] ?? 12111);
const url = process.env['STRIPE_SIM_WEBHOOK_URL'];
const secrets = (process.env['STRIPE_SIM_WEBHOOK_SECRETS'] ?? '').split(',').filter((s) => s !== '');
const inspectPort = process.env['STRIPE_SIM_INSPECT_PORT'];
const sim = new StripeSimulator(url !== undefined && secrets.length > 0 ? { webhook: { url, secrets } } : {});
const { url: base } = await sim.start(port);
console.log(`Stripe simulator on ${base} (any sk_test_ key); webhooks ${url ?? 'off'}`);

if (inspectPort !== undefined) {
  const inspect = createServer((req, res) => {
    const at = new URL(req.url ?? '/', 'http://inspect');
    let body: unknown;
    if (at.pathname === '/requests') {
      body = sim.requests.slice(Number(at.searchParams.get('from') ?? 0));
    } else if (at.pathname === '/payments') {
      const byIntent = new Map<string, { intents: number; charges: number; amount: number }>();
      const byPayment: Record<string, { intents: number; charges: number; amount: number }> = {};
      for (const pi of sim.intents()) {
        const paymentId = String((pi['metadata'] as Record<string, unknown>)['ledger_payment_id']);
        const entry = (byPayment[paymentId] ??= { intents: 0, charges: 0, amount: 0 });
        entry.intents++;
        byIntent.set(String(pi['id']), entry);
      }
      for (const charge of sim.charges()) {
        const entry = byIntent.get(charge.paymentIntent);
        if (entry === undefined) continue;
        entry.charges++;
        entry.amount += charge.amount;
      }
      body = byPayment;
    } else {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => inspect.listen(Number(inspectPort), '127.0.0.1', resolve));
  const address = inspect.address();
  const actual = typeof address === 'object' && address !== null ? address.port : inspectPort;
  console.log(`Stripe simulator inspection on http://127.0.0.1:${actual}`);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void sim.stop().then(() => process.exit(0)));
