import { describe, expect, it } from 'vitest';
import { containsCardNumber, luhnValid } from './cardNumbers.ts';

describe('card number detection', () => {
  it.each([
    ['4242424242424242'],
    ['4242 4242 4242 4242'],
    ['4000-0000-0000-0002'],
    ['{"note":"card 5555555555554444 thanks"}'],
    ['{"amount":378282246310005}'],
    ['6011111111111117'],
    ['{"k":"4000002760003184"}'],
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
  ])('accepts %s', (text) => {
    expect(containsCardNumber(text)).toBe(false);
  });

  it('implements Luhn', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
  });
});
