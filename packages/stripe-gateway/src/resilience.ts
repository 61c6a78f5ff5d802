/** Exponential backoff with full jitter: a random delay in [0, min(cap, base * 2^retry)). */
export function backoffDelay(
  retry: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** retry));
}

export type BreakerState = 'closed' | 'open' | 'half_open';

/**
 * Circuit breaker: after `threshold` consecutive transient failures it opens and refuses calls
 * for `cooldownMs`; then one probe goes through (half-open): success closes it, failure reopens.
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  #failures = 0;
  #openedAt = 0;
  #state: BreakerState = 'closed';
  #probing = false;

  constructor(options: { threshold?: number; cooldownMs?: number; now?: () => number } = {}) {
    this.#threshold = options.threshold ?? 5;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#cooldownMs) this.#state = 'half_open';
    return this.#state;
  }

  /** True when a call may go out now (in half-open, only one probe at a time). */
  allow(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'half_open' && !this.#probing) {
      this.#probing = true;
      return true;
    }
    return false;
  }

  success(): void {
    this.#failures = 0;
    this.#probing = false;
    this.#state = 'closed';
  }

  /** A transient failure (or an auth failure, which opens at once). */
  failure(openNow = false): void {
    this.#failures++;
    this.#probing = false;
    if (openNow || this.#state === 'half_open' || this.#failures >= this.#threshold) {
      this.#state = 'open';
      this.#openedAt = this.#now();
    }
  }
}

/**
 * Client-side token bucket: at most `perSecond` calls per second (burst 1 by default, so no
 * one-second window ever exceeds the rate). `acquire` waits for a token and returns the wait.
 */
export class TokenBucket {
  readonly #intervalMs: number;
  #next = 0;

  constructor(perSecond: number) {
    this.#intervalMs = 1000 / perSecond;
  }

  async acquire(): Promise<number> {
    const started = performance.now();
    // Grants are at least one interval apart, measured on the real clock at grant time, so a late
    // timer never lets two calls bunch up and no one-second window holds more than the rate.
    for (;;) {
      const now = performance.now();
      if (now >= this.#next) {
        this.#next = now + this.#intervalMs;
        return now - started;
      }
      await new Promise((r) => setTimeout(r, this.#next - now));
    }
  }
}
