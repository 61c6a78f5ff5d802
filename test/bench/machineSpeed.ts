// A fixed piece of CPU work timed on this machine, logged beside a bench's result. The VM these
// benches run on changes speed by up to 2x within the hour (CPU taken by its neighbours): the
// same code gave 1,035 and 533 payments/s an hour apart. A run that logs how long this took
// before and after its measured phase says which kind of hour it had, so results are compared
// like with like. Lower is faster; only runs on the same machine compare.
import { hash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { cpuShares, type CpuTimes } from '@payledger/testkit';

const event = {
  data: {
    paymentId: 'pay_0123456789abcdef0123456789abcdef',
    customerId: 'bench-customer',
    amount: '2000',
    currency: 'USD',
    description: 'reference work',
    metadata: { order: 'o-1' },
  },
  metadata: { actor: 'bench', correlationId: 'c-1', causationId: null },
  recordedAt: '2026-12-01T00:00:00.000Z',
};

/** Milliseconds for 20,000 JSON round trips and SHA-256 digests of an event, best of three. */
export function referenceWorkMs(): number {
  let best = Number.POSITIVE_INFINITY;
  let sink = 0;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    for (let i = 0; i < 20_000; i++) {
      const text = JSON.stringify({ ...event, n: i });
      sink += hash('sha256', text, 'hex').length + (JSON.parse(text) as { n: number }).n;
    }
    best = Math.min(best, performance.now() - start);
  }
  if (sink < 0) throw new Error('unreachable');
  return best;
}

/**
 * The machine's CPU over a measured window: the share the hypervisor gave other guests (steal)
 * and the share left idle. Steal of a few percent is normal here; at 20-40 % the same code runs
 * at half speed and the run says more about the neighbours than about the ledger.
 */
export function machineShares(from: CpuTimes | null, to: CpuTimes | null): string {
  const shares = cpuShares(from, to);
  return shares === null
    ? 'CPU shares unknown (no /proc/stat)'
    : `CPU ${shares.stealPercent.toFixed(0)}% stolen by other guests, ${shares.idlePercent.toFixed(0)}% idle`;
}
