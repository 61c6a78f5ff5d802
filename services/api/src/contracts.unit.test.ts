import { describe, expect, it } from 'vitest';
import { customerEventTypes, paymentEventTypes, toStoredData, type PaymentEvent } from '@payledger/ledger';
import { eventDataSchemas } from '@payledger/schemas';

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
