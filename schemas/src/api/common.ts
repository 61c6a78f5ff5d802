import { z } from 'zod';

/**
 * Wire form of money: an integer number of minor units of the currency (as Stripe does), e.g.
 * 2000 with USD = 20.00 USD, 2000 with JPY = 2000 JPY. Never a decimal or a float. At most 8 digits.
 */
export const MinorUnits = z
  .int()
  .positive()
  .max(99_999_999)
  .describe('Integer amount in minor units of the currency (USD cents, JPY yen, KWD fils).');

/**
 * The ISO 4217 codes the ledger accepts: the currencies Stripe settles in. The ledger's money
 * module holds their exponents; a unit test keeps the two lists equal.
 */
export const SUPPORTED_CURRENCIES = [
  'AED',
  'AUD',
  'BGN',
  'BRL',
  'CAD',
  'CHF',
  'CZK',
  'DKK',
  'EUR',
  'GBP',
  'HKD',
  'HUF',
  'INR',
  'MXN',
  'NOK',
  'NZD',
  'PLN',
  'RON',
  'SEK',
  'SGD',
  'THB',
  'USD',
  'ZAR',
  'CLP',
  'JPY',
  'KRW',
  'VND',
  'ISK',
  'PYG',
  'UGX',
  'XAF',
  'XOF',
  'BHD',
  'JOD',
  'KWD',
  'OMR',
  'TND',
] as const;

/**
 * A supported ISO 4217 currency code, upper case (ours) or lower case (Stripe's); answers are
 * always upper case. Listed as an enum so that a publisher in any language knows the whole set.
 */
export const CurrencyCode = z
  .enum([...SUPPORTED_CURRENCIES, ...SUPPORTED_CURRENCIES.map((c) => c.toLowerCase())])
  .describe('ISO 4217 currency code the ledger accepts, e.g. USD (or usd).');

/** Caller metadata, within Stripe's limits (50 keys, key <= 40 chars, value <= 500 chars). */
export const Metadata = z
  .record(z.string().min(1).max(40), z.string().max(500))
  .refine((m) => Object.keys(m).length <= 50, 'at most 50 metadata keys')
  // The refinement does not reach JSON Schema by itself.
  .meta({ maxProperties: 50 })
  .describe('Free-form string pairs; at most 50 keys, keys up to 40 and values up to 500 characters.');

/** Ledger identifiers of our own objects. */
export const LedgerId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, at most 64');

/** A Stripe PaymentMethod id (`pm_...`) tokenized by the caller's front end: never card data. */
export const PaymentMethodId = z
  .string()
  .regex(/^pm_[A-Za-z0-9_]{1,200}$/, 'a Stripe PaymentMethod id such as pm_card_visa')
  .describe('Stripe PaymentMethod id (pm_...). Card numbers are refused everywhere.');

/** RFC 9457 problem details, as every error is rendered. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
  code: z.string().describe('Stable machine-readable error code.'),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof Problem>;
