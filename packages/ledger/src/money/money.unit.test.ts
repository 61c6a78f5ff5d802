import { describe, expect, it } from 'vitest';
import { LedgerError } from '../errors.ts';
import { exponentOf, formatMinor, money, parseCurrency } from './money.ts';

describe('money', () => {
  it('knows each currency exponent', () => {
    expect(exponentOf('JPY')).toBe(0);
    expect(exponentOf('USD')).toBe(2);
    expect(exponentOf('KWD')).toBe(3);
  });
  it('parses currencies in any case and refuses unknown ones', () => {
    expect(parseCurrency('usd')).toBe('USD');
    expect(() => parseCurrency('XYZ')).toThrow(LedgerError);
  });
  it('accepts only positive amounts up to eight digits, three-decimal ones ending in 0', () => {
    expect(money(1n, 'USD')).toEqual({ amount: 1n, currency: 'USD' });
    expect(() => money(0n, 'USD')).toThrow(/positive/);
    expect(() => money(100_000_000n, 'USD')).toThrow(/maximum/);
    expect(() => money(1005n, 'KWD')).toThrow(/end in 0/);
    expect(money(1010n, 'BHD').amount).toBe(1010n);
  });
  it('formats minor units for people', () => {
    expect(formatMinor(2000n, 'USD')).toBe('20.00');
    expect(formatMinor(5n, 'USD')).toBe('0.05');
    expect(formatMinor(2000n, 'JPY')).toBe('2000');
    expect(formatMinor(1230n, 'KWD')).toBe('1.230');
    expect(formatMinor(-88n, 'EUR')).toBe('-0.88');
  });
});
