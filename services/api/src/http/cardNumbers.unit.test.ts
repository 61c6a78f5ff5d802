import { describe, expect, it } from 'vitest';
import { containsCardNumber, luhnValid, maskCardNumbers } from './cardNumbers.ts';

describe('card number detection', () => {
  it.each([
    ['4242424242424242'],
    ['4242 4242 4242 4242'],
    ['4000-0000-0000-0002'],
    ['{"note":"card 5555555555554444 thanks"}'],
    ['{"amount":378282246310005}'],
    ['6011111111111117'],
    ['{"k":"4000002760003184"}'],
    ['{"ref":"ref-4242424242424242"}'], // glued to a word and a dash
    ['4242.4242.4242.4242'], // dots
    ['4242  4242  4242  4242'], // double spaces
    ['-4242424242424242'], // a negative JSON number
  ])('refuses %s', (text) => {
    expect(containsCardNumber(text)).toBe(true);
  });

  it.each([
    ['4242424242424241'], // fails Luhn
    ['424242424242'], // 12 digits
    ['42424242424242424242'], // 20 digits
    ['{"at":1763840000000}'], // millisecond timestamp: industry digit 1
    ['{"order":"o-12345","amount":2000}'],
    ['pm_card_visa'],
    ['{"at":"2026-12-05T14:50:18.123Z","ip":"127.0.0.1","phone":"+1 555-555-5555"}'],
    ['{"id":"4f1c2a9e-8b7d-4c3e-9a1b-2d3e4f5a6b7c"}'], // a UUID
  ])('accepts %s', (text) => {
    expect(containsCardNumber(text)).toBe(false);
  });

  it('implements Luhn', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
  });

  it('masks card numbers for logs and leaves other digits alone', () => {
    expect(maskCardNumbers('/v1/payments?customerId=4242424242424242&limit=20')).toBe(
      '/v1/payments?customerId=[card number]&limit=20',
    );
    expect(maskCardNumbers('/v1/payments/4242-4242-4242-4242')).toBe('/v1/payments/[card number]');
    expect(maskCardNumbers('/v1/payments/4242424242424241?at=1763840000000')).toBe(
      '/v1/payments/4242424242424241?at=1763840000000',
    );
  });
});
