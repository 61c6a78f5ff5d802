import { LedgerError } from '../errors.ts';

/**
 * ISO 4217 exponents (digits after the decimal point) of the currencies the ledger accepts: the
 * ones Stripe settles in. Amounts are always integers in minor units of the currency.
 */
export const currencyExponents = {
  AED: 2,
  AUD: 2,
  BGN: 2,
  BRL: 2,
  CAD: 2,
  CHF: 2,
  CZK: 2,
  DKK: 2,
  EUR: 2,
  GBP: 2,
  HKD: 2,
  HUF: 2,
  INR: 2,
  MXN: 2,
  NOK: 2,
  NZD: 2,
  PLN: 2,
  RON: 2,
  SEK: 2,
  SGD: 2,
  THB: 2,
  USD: 2,
  ZAR: 2,
  // Zero-decimal currencies: whole units.
  CLP: 0,
  JPY: 0,
  KRW: 0,
  VND: 0,
  ISK: 0,
  PYG: 0,
  UGX: 0,
  XAF: 0,
  XOF: 0,
  // Three-decimal currencies: Stripe requires the last digit to be 0.
  BHD: 3,
  JOD: 3,
  KWD: 3,
  OMR: 3,
  TND: 3,
} as const satisfies Record<string, 0 | 2 | 3>;

/** An ISO 4217 code the ledger accepts (upper case). */
export type Currency = keyof typeof currencyExponents;

/** An amount of money: integer minor units of one currency. `number` never holds money. */
export interface Money {
  readonly amount: bigint;
  readonly currency: Currency;
}

/**
 * Largest amount of one payment in minor units: Stripe accepts at most eight digits
 * (99,999,999) for an amount, whatever the currency.
 */
export const MAX_AMOUNT = 99_999_999n;

export function isCurrency(code: string): code is Currency {
  return Object.hasOwn(currencyExponents, code);
}

/** The ISO 4217 exponent of `currency` (JPY 0, USD 2, KWD 3). */
export function exponentOf(currency: Currency): 0 | 2 | 3 {
  return currencyExponents[currency];
}

/** Parses an ISO code (any case) into a `Currency`; throws `unknown_currency`. */
export function parseCurrency(code: string): Currency {
  const upper = code.toUpperCase();
  if (!isCurrency(upper)) {
    throw new LedgerError('unknown_currency', `currency "${code}" is not one the ledger accepts`);
  }
  return upper;
}

/**
 * Builds a positive amount that is valid for its currency; throws `invalid_amount` for zero,
 * negative, too large, or (three-decimal currencies) amounts not ending in 0.
 */
export function money(amount: bigint, currency: Currency): Money {
  if (amount <= 0n) throw new LedgerError('invalid_amount', `amount must be positive, got ${amount}`);
  if (amount > MAX_AMOUNT) {
    throw new LedgerError(
      'invalid_amount',
      `amount ${amount} is above the maximum of ${MAX_AMOUNT} minor units`,
    );
  }
  if (exponentOf(currency) === 3 && amount % 10n !== 0n) {
    throw new LedgerError(
      'invalid_amount',
      `${currency} amounts must end in 0 (Stripe rounds three-decimal currencies to 0.010), got ${amount}`,
    );
  }
  return { amount, currency };
}

/** Renders minor units as a decimal string for people (`2000 USD` -> `20.00`); never parsed back. */
export function formatMinor(amount: bigint, currency: Currency): string {
  const exp = exponentOf(currency);
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString().padStart(exp + 1, '0');
  const whole = exp === 0 ? digits : `${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
  return negative ? `-${whole}` : whole;
}
