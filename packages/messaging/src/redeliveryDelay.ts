import type { ConsumerOptions } from './messageBus.ts';

const DEFAULT_RETRY_DELAY_MS = 200;
const DEFAULT_MAX_RETRY_DELAY_MS = 5_000;

/**
 * How long a consumer waits before handing a failed message to its handler again, after
 * `failures` failures in a row: `retryDelayMs` doubled per further failure, capped at
 * `maxRetryDelayMs`. Both adapters use it, so a failing handler sees the same pace on either.
 */
export function redeliveryDelay(
  failures: number,
  options: Pick<ConsumerOptions, 'retryDelayMs' | 'maxRetryDelayMs'>,
): number {
  const first = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const max = options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS;
  return Math.min(max, first * 2 ** Math.min(Math.max(failures - 1, 0), 30));
}
