import { LedgerError } from '../errors.ts';
import type { Currency } from '../money/money.ts';
import type { Account, Posting } from './postings.ts';

/** Balances by `${account}|${currency}`, debit-positive. */
export type Balances = ReadonlyMap<string, bigint>;

/** Throws `unbalanced_postings` if a posting is not a positive move between two accounts. */
export function assertBalanced(postings: readonly Posting[]): void {
  for (const p of postings) {
    if (p.amount <= 0n)
      throw new LedgerError('unbalanced_postings', `posting amount must be positive, got ${p.amount}`);
    if (p.source === p.destination)
      throw new LedgerError('unbalanced_postings', `posting from ${p.source} to itself`);
  }
}

/** Balances after `postings`: the destination is debited (+), the source credited (-). */
export function applyPostings(balances: Balances, postings: readonly Posting[]): Map<string, bigint> {
  assertBalanced(postings);
  const next = new Map(balances);
  const add = (account: Account, currency: Currency, amount: bigint): void => {
    const key = `${account}|${currency}`;
    next.set(key, (next.get(key) ?? 0n) + amount);
  };
  for (const p of postings) {
    add(p.destination, p.currency, p.amount);
    add(p.source, p.currency, -p.amount);
  }
  return next;
}

/** Sum of all balances per currency: 0n for every currency when the books balance. */
export function trialBalance(balances: Balances): Map<Currency, bigint> {
  const totals = new Map<Currency, bigint>();
  for (const [key, amount] of balances) {
    const currency = key.slice(key.lastIndexOf('|') + 1) as Currency;
    totals.set(currency, (totals.get(currency) ?? 0n) + amount);
  }
  return totals;
}
