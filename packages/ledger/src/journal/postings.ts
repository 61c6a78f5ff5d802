import type { Currency } from '../money/money.ts';

/**
 * Accounts of the chart (ARCHITECTURE.md): what customers paid us, what Stripe holds for us, fees,
 * refunds, disputes and payouts. Balances are debit-positive: a posting adds its amount to the
 * destination and subtracts it from the source.
 */
export type Account =
  | `customer:${string}`
  | 'stripe:pending'
  | 'stripe:available'
  | 'fees:stripe'
  | 'refunds'
  | 'disputes'
  | 'bank:payouts';

/**
 * One movement of money: `amount` minor units of `currency` from `source` to `destination`
 * (credit source, debit destination). Every posting balances by construction; a journal entry is
 * the list of postings of one event.
 */
export interface Posting {
  readonly source: Account;
  readonly destination: Account;
  readonly amount: bigint;
  readonly currency: Currency;
}
