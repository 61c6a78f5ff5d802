import { describe, expect, it } from 'vitest';
import type { PaymentEvent } from '../payments/paymentEvents.ts';
import {
  fromStoredCustomerEvent,
  fromStoredPaymentEvent,
  paymentEventTypes,
  toStoredData,
} from './storedEvent.ts';

const now = '2026-11-22T10:00:00.000Z';

describe('stored events', () => {
  it('round-trips bigints (postings included) through decimal strings', () => {
    const event: PaymentEvent = {
      type: 'PaymentRefunded',
      data: {
        paymentId: 'p',
        refundId: 'r',
        stripeRefundId: 're',
        amount: 12345678901234567890n,
        postings: [{ source: 'stripe:pending', destination: 'refunds', amount: 500n, currency: 'USD' }],
        at: now,
      },
    };
    const stored = toStoredData(event);
    expect(stored['amount']).toBe('12345678901234567890');
    expect(JSON.parse(JSON.stringify(stored))).toEqual(stored);
    expect(fromStoredPaymentEvent(event.type, JSON.parse(JSON.stringify(stored)))).toEqual(event);
  });
  it('lists every payment event type and refuses unknown ones', () => {
    expect(paymentEventTypes).toContain('PaymentCreated');
    expect(paymentEventTypes).toHaveLength(18);
    expect(() => fromStoredPaymentEvent('Nope', {})).toThrow(/unknown/);
    expect(() => fromStoredCustomerEvent('Nope', {})).toThrow(/unknown/);
    expect(() => fromStoredPaymentEvent('PaymentCaptured', { amount: '1.5' })).toThrow(/integer/);
  });
});
