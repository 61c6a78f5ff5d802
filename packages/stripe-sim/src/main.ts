import { StripeSimulator } from './stripeSimulator.ts';

// Runs the simulator on its own: STRIPE_SIM_PORT (default 12111), STRIPE_SIM_WEBHOOK_URL and
// STRIPE_SIM_WEBHOOK_SECRETS (comma-separated whsec_...) to send signed webhooks.
const port = Number(process.env['STRIPE_SIM_PORT'] ?? 12111);
const url = process.env['STRIPE_SIM_WEBHOOK_URL'];
const secrets = (process.env['STRIPE_SIM_WEBHOOK_SECRETS'] ?? '').split(',').filter((s) => s !== '');
const sim = new StripeSimulator(url !== undefined && secrets.length > 0 ? { webhook: { url, secrets } } : {});
const { url: base } = await sim.start(port);
console.log(`Stripe simulator on ${base} (any sk_test_ key); webhooks ${url ?? 'off'}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void sim.stop().then(() => process.exit(0)));
