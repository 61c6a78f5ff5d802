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

/** A call let through by the limiter; `release` once it is over (answered, failed or timed out). */
export interface Grant {
  /** How long the call waited for its slot (ms). */
  readonly waitedMs: number;
  release(): void;
}

/**
 * Client-side rate limiter: never more than `perSecond` calls reaching Stripe in any one-second
 * window, whatever the latency between here and there. Stripe counts a request when it arrives,
 * which is after its grant and before its answer; so a call holds its slot from its grant until
 * a window after it is over (`release`). Then any `perSecond + 1` calls arriving within one
 * second would need the last of them granted while the others still held their slots, which the
 * limiter refuses. (A window counted from the grant instead lets a call that reaches Stripe late,
 * such as the first one on a new connection, share its second with the next `perSecond` calls.)
 * Grants are also paced half an interval apart (a few may catch up after a late timer), so a
 * backlog does not burst. Waiters are served first come, first served.
 */
export class TokenBucket {
  readonly #perSecond: number;
  readonly #minGapMs: number;
  /** A second, plus margin for the millisecond clocks that stamp requests on Stripe's side. */
  readonly #windowMs: number;
  readonly #now: () => number;
  /** Calls granted and not over yet. */
  #active = 0;
  /** When the slots of calls that are over free up, oldest first (release time + window). */
  readonly #freeing: number[] = [];
  /** Earliest time of the next grant (pacing); a late timer may catch up a few grants at once. */
  #nextAt = -Infinity;
  /** Callers waiting for a grant; one timer serves them all. */
  readonly #waiting: (() => void)[] = [];
  #timer: NodeJS.Timeout | null = null;

  constructor(perSecond: number, options: { windowMs?: number; now?: () => number } = {}) {
    this.#perSecond = perSecond;
    this.#minGapMs = 500 / perSecond;
    this.#windowMs = options.windowMs ?? 1010;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Resolves once the call may go out; release the grant when the call is over. */
  async acquire(): Promise<Grant> {
    const started = this.#now();
    if (this.#waiting.length > 0 || !this.#take(started)) {
      // One queue and one timer instead of a timer per waiter: hundreds of waiting calls would
      // otherwise all wake up on every free slot and all but one go back to sleep.
      await new Promise<void>((resolve) => {
        this.#waiting.push(resolve);
        this.#schedule();
      });
    }
    let released = false;
    return {
      waitedMs: this.#now() - started,
      release: () => {
        if (released) return;
        released = true;
        this.#active--;
        this.#freeing.push(this.#now() + this.#windowMs);
        this.#schedule();
      },
    };
  }

  /** Slots held at `now`: calls in flight plus calls over less than a window ago. */
  #held(now: number): number {
    while (this.#freeing.length > 0 && (this.#freeing[0] as number) <= now) this.#freeing.shift();
    return this.#active + this.#freeing.length;
  }

  /** Takes a slot at `now` if the window and the gap allow it. */
  #take(now: number): boolean {
    if (this.#held(now) >= this.#perSecond || now < this.#nextAt) return false;
    this.#active++;
    // Paced at half an interval, measured from the schedule rather than from when the timer
    // fired: a busy event loop wakes the limiter late, and it then lets the grants it owed go at
    // once (at most four) instead of falling behind for good. The slots keep every second at
    // Stripe under the rate either way.
    this.#nextAt = Math.max(this.#nextAt, now - 4 * this.#minGapMs) + this.#minGapMs;
    return true;
  }

  #schedule(): void {
    if (this.#timer !== null || this.#waiting.length === 0) return;
    const now = this.#now();
    let wait = this.#nextAt - now;
    if (this.#held(now) >= this.#perSecond) {
      // Every slot taken by a call still in flight: its release schedules the next round.
      if (this.#freeing.length === 0) return;
      wait = Math.max(wait, (this.#freeing[0] as number) - now);
    }
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        while (this.#waiting.length > 0 && this.#take(this.#now())) this.#waiting.shift()?.();
        this.#schedule();
      },
      Math.max(1, wait),
    );
  }
}
