import { describe, expect, it } from 'vitest';
import {
  currencyExponents,
  customerEventTypes,
  paymentEventTypes,
  toStoredData,
  type PaymentEvent,
} from '@payledger/ledger';
import { CurrencyCode, eventDataSchemas, SUPPORTED_CURRENCIES } from '@payledger/schemas';

// The published JSON Schemas must describe exactly the events the domain emits.
describe('published event contracts', () => {
  it('have one data schema per domain event type', () => {
    expect(Object.keys(eventDataSchemas).sort()).toEqual(
      [...paymentEventTypes, ...customerEventTypes].sort(),
    );
  });

  it('accept the stored form of a money-moving event', () => {
    const event: PaymentEvent = {
      type: 'PaymentSucceeded',
      data: {
        paymentId: 'pay_1',
        intentId: 'pi_1',
        chargeId: null,
        amount: 2000n,
        postings: [{ source: 'customer:c', destination: 'stripe:pending', amount: 2000n, currency: 'USD' }],
        at: '2026-11-22T10:00:00.000Z',
      },
    };
    expect(eventDataSchemas.PaymentSucceeded.parse(toStoredData(event))).toBeTruthy();
    expect(() => eventDataSchemas.PaymentSucceeded.parse({ ...toStoredData(event), amount: 20.0 })).toThrow();
  });
});

// The wire contract lists the currencies the domain has exponents for, no more and no fewer.
describe('currency contract', () => {
  it('lists exactly the currencies the ledger accepts, in both cases', () => {
    expect([...SUPPORTED_CURRENCIES].sort()).toEqual(Object.keys(currencyExponents).sort());
    expect(CurrencyCode.safeParse('usd').success).toBe(true);
    expect(CurrencyCode.safeParse('USD').success).toBe(true);
    expect(CurrencyCode.safeParse('Usd').success).toBe(false);
    expect(CurrencyCode.safeParse('XYZ').success).toBe(false);
  });
});
