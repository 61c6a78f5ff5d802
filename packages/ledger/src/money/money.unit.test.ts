import { describe, expect, it } from 'vitest';
import { LedgerError, type LedgerErrorCode } from '../errors.ts';
import {
  MAX_AMOUNT,
  currencyExponents,
  exponentOf,
  formatMinor,
  isCurrency,
  money,
  parseCurrency,
  type Currency,
} from './money.ts';

function codeOf(run: () => unknown): LedgerErrorCode | null {
  try {
    run();
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(LedgerError);
    return (error as LedgerError).code;
  }
}

describe('currency exponents (ISO 4217, as Stripe uses them)', () => {
  it.each([
    ['USD', 2],
    ['EUR', 2],
    ['JPY', 0],
    ['KRW', 0],
    ['CLP', 0],
    ['KWD', 3],
    ['BHD', 3],
    ['JOD', 3],
    ['OMR', 3],
    ['TND', 3],
  ] as const)('%s has %i decimals', (currency, exponent) => expect(exponentOf(currency)).toBe(exponent));
  it('only uses 0, 2 and 3', () =>
    expect(new Set(Object.values(currencyExponents))).toEqual(new Set([0, 2, 3])));
});

describe('parseCurrency', () => {
  it('accepts known codes in any case', () => {
    expect(parseCurrency('usd')).toBe('USD');
    expect(parseCurrency('Jpy')).toBe('JPY');
    expect(isCurrency('KWD')).toBe(true);
  });
  it('refuses unknown codes and prototype keys', () => {
    expect(codeOf(() => parseCurrency('XYZ'))).toBe('unknown_currency');
    expect(codeOf(() => parseCurrency(''))).toBe('unknown_currency');
    expect(isCurrency('constructor')).toBe(false);
    expect(isCurrency('usd')).toBe(false);
  });
});

describe('money', () => {
  it('accepts positive integers up to eight digits', () => {
    expect(money(1n, 'USD')).toEqual({ amount: 1n, currency: 'USD' });
    expect(money(MAX_AMOUNT, 'USD').amount).toBe(99_999_999n);
    expect(money(1n, 'JPY').amount).toBe(1n);
  });
  it('refuses zero, negative and too large amounts with invalid_amount', () => {
    expect(codeOf(() => money(0n, 'USD'))).toBe('invalid_amount');
    expect(codeOf(() => money(-100n, 'USD'))).toBe('invalid_amount');
    expect(codeOf(() => money(MAX_AMOUNT + 1n, 'JPY'))).toBe('invalid_amount');
  });
  it('takes three-decimal amounts only when they end in 0', () => {
    for (const currency of ['KWD', 'BHD', 'JOD', 'OMR', 'TND'] satisfies Currency[]) {
      expect(codeOf(() => money(1005n, currency))).toBe('invalid_amount');
      expect(money(1010n, currency).amount).toBe(1010n);
    }
    expect(() => money(1005n, 'KWD')).toThrow(/end in 0/);
    expect(money(1005n, 'USD').amount).toBe(1005n);
  });
});

describe('formatMinor', () => {
  it.each([
    [2000n, 'USD', '20.00'],
    [5n, 'USD', '0.05'],
    [0n, 'USD', '0.00'],
    [-88n, 'EUR', '-0.88'],
    [2000n, 'JPY', '2000'],
    [0n, 'JPY', '0'],
    [1230n, 'KWD', '1.230'],
    [1n, 'KWD', '0.001'],
    [-10n, 'BHD', '-0.010'],
    [12345678901234567890n, 'USD', '123456789012345678.90'],
  ] as const)('renders %s %s as %s', (amount, currency, text) =>
    expect(formatMinor(amount, currency)).toBe(text),
  );
});
