import { LedgerError } from '../errors.ts';
import { isCurrency, type Currency } from '../money/money.ts';
import type { Account, Posting } from './postings.ts';

/** Key of one balance: an account in one currency (`stripe:pending|USD`). */
export type BalanceKey = `${Account}|${Currency}`;

/** Balances by account and currency, in minor units, debit-positive. */
export type Balances = ReadonlyMap<BalanceKey, bigint>;

/**
 * Throws `unbalanced_postings` unless every posting is a positive amount of a known currency moved
 * between two different accounts (so that each posting, and any list of them, balances).
 */
export function assertBalanced(postings: readonly Posting[]): void {
  for (const p of postings) {
    if (p.amount <= 0n) {
      throw new LedgerError('unbalanced_postings', `posting amount must be positive, got ${p.amount}`);
    }
    if (p.source === p.destination) {
      throw new LedgerError('unbalanced_postings', `posting from ${p.source} to itself moves nothing`);
    }
    if (!isCurrency(p.currency)) {
      throw new LedgerError('unbalanced_postings', `posting in unknown currency "${String(p.currency)}"`);
    }
  }
}

/**
 * The balances after `postings` (a new map; `balances` is not changed): each destination is
 * debited (+amount), each source credited (-amount). Throws `unbalanced_postings` like
 * `assertBalanced`.
 */
export function applyPostings(balances: Balances, postings: readonly Posting[]): Map<BalanceKey, bigint> {
  assertBalanced(postings);
  const next = new Map(balances);
  for (const p of postings) {
    const debit: BalanceKey = `${p.destination}|${p.currency}`;
    const credit: BalanceKey = `${p.source}|${p.currency}`;
    next.set(debit, (next.get(debit) ?? 0n) + p.amount);
    next.set(credit, (next.get(credit) ?? 0n) - p.amount);
  }
  return next;
}

/** Sum of all balances per currency: `0n` for every currency when the books balance. */
export function trialBalance(balances: Balances): Map<Currency, bigint> {
  const totals = new Map<Currency, bigint>();
  for (const [key, amount] of balances) {
    // The currency follows the last '|': a customer id may itself contain one.
    const currency = key.slice(key.lastIndexOf('|') + 1) as Currency;
    totals.set(currency, (totals.get(currency) ?? 0n) + amount);
  }
  return totals;
}
