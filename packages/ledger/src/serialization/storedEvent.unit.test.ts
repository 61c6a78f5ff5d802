import { describe, expect, it } from 'vitest';
import type { CustomerEvent, CustomerEventType } from '../customers/customerModel.ts';
import { LedgerError } from '../errors.ts';
import type { PaymentEvent, PaymentEventType } from '../payments/paymentEvents.ts';
import {
  SCHEMA_VERSION,
  customerEventTypes,
  fromStoredCustomerEvent,
  fromStoredPaymentEvent,
  paymentEventTypes,
  toStoredData,
} from './storedEvent.ts';

const at = '2026-11-22T10:00:00.000Z';
const p = 'pay_1';
const usd = 'USD' as const;

/** One sample of every payment event type (the compiler finds a missing one). */
const paymentSamples: { [T in PaymentEventType]: Extract<PaymentEvent, { type: T }> } = {
  PaymentCreated: {
    type: 'PaymentCreated',
    data: {
      paymentId: p,
      customerId: 'cus|1',
      paymentMethodId: 'pm_card_visa',
      amount: 2000n,
      currency: usd,
      captureMethod: 'manual',
      offSession: true,
      description: 'order 42',
      metadata: { order: '42' },
      at,
    },
  },
  PaymentSubmitted: {
    type: 'PaymentSubmitted',
    data: { paymentId: p, operation: 'refund:rf_1', attempt: 2, idempotencyKey: 'k', at },
  },
  PaymentIntentCreated: { type: 'PaymentIntentCreated', data: { paymentId: p, intentId: 'pi_1', at } },
  PaymentRequiresAction: {
    type: 'PaymentRequiresAction',
    data: {
      paymentId: p,
      intentId: 'pi_1',
      nextAction: { type: 'redirect_to_url', redirectUrl: 'https://x' },
      at,
    },
  },
  PaymentAuthorized: {
    type: 'PaymentAuthorized',
    data: { paymentId: p, intentId: 'pi_1', amount: 2000n, at },
  },
  PaymentSucceeded: {
    type: 'PaymentSucceeded',
    data: {
      paymentId: p,
      intentId: 'pi_1',
      chargeId: null,
      amount: 2000n,
      postings: [{ source: 'customer:c', destination: 'stripe:pending', amount: 2000n, currency: usd }],
      at,
    },
  },
  PaymentFailed: {
    type: 'PaymentFailed',
    data: { paymentId: p, code: 'card_declined', declineCode: null, message: 'declined', at },
  },
  PaymentOutcomeUnknown: {
    type: 'PaymentOutcomeUnknown',
    data: { paymentId: p, operation: 'confirm', attempt: 1, idempotencyKey: 'k', reason: 'timeout', at },
  },
  PaymentCaptureRequested: { type: 'PaymentCaptureRequested', data: { paymentId: p, amount: 1500n, at } },
  PaymentCaptured: {
    type: 'PaymentCaptured',
    data: {
      paymentId: p,
      amount: 1500n,
      postings: [{ source: 'customer:c', destination: 'stripe:pending', amount: 1500n, currency: usd }],
      at,
    },
  },
  PaymentCancelRequested: { type: 'PaymentCancelRequested', data: { paymentId: p, reason: null, at } },
  PaymentCanceled: { type: 'PaymentCanceled', data: { paymentId: p, at } },
  RefundRequested: {
    type: 'RefundRequested',
    data: { paymentId: p, refundId: 'rf_1', amount: 500n, reason: 'requested_by_customer', at },
  },
  PaymentRefunded: {
    type: 'PaymentRefunded',
    data: {
      paymentId: p,
      refundId: 'rf_1',
      stripeRefundId: 're_1',
      amount: 12345678901234567890n,
      postings: [
        { source: 'stripe:pending', destination: 'refunds', amount: 12345678901234567890n, currency: usd },
      ],
      at,
    },
  },
  RefundFailed: { type: 'RefundFailed', data: { paymentId: p, refundId: 'rf_1', reason: 'x', at } },
  PaymentDisputed: {
    type: 'PaymentDisputed',
    data: {
      paymentId: p,
      disputeId: 'dp_1',
      amount: 2000n,
      reason: 'fraudulent',
      postings: [{ source: 'stripe:pending', destination: 'disputes', amount: 2000n, currency: usd }],
      at,
    },
  },
  FeeRecorded: {
    type: 'FeeRecorded',
    data: {
      paymentId: p,
      balanceTransactionId: 'txn_1',
      amount: 88n,
      postings: [
        { source: 'stripe:pending', destination: 'fees:stripe', amount: 80n, currency: usd },
        { source: 'stripe:pending', destination: 'fees:stripe', amount: 8n, currency: usd },
      ],
      at,
    },
  },
  DiscrepancyDetected: {
    type: 'DiscrepancyDetected',
    data: { paymentId: p, field: 'amount', ledgerValue: '2000', stripeValue: '1500', at },
  },
};

const customerSamples: { [T in CustomerEventType]: Extract<CustomerEvent, { type: T }> } = {
  CustomerRegistered: {
    type: 'CustomerRegistered',
    data: { customerId: 'c', email: 'c@example.com', name: null, metadata: { tier: 'gold' }, at },
  },
  StripeCustomerCreated: {
    type: 'StripeCustomerCreated',
    data: { customerId: 'c', stripeCustomerId: 'cus_1', at },
  },
  PaymentMethodSaveRequested: {
    type: 'PaymentMethodSaveRequested',
    data: { customerId: 'c', paymentMethodId: 'pm_1', setAsDefault: true, at },
  },
  PaymentMethodAttached: {
    type: 'PaymentMethodAttached',
    data: { customerId: 'c', paymentMethodId: 'pm_1', at },
  },
  PaymentMethodAttachFailed: {
    type: 'PaymentMethodAttachFailed',
    data: { customerId: 'c', paymentMethodId: 'pm_1', code: 'card_declined', message: 'no', at },
  },
};

/** What the event store does: JSON text in, JSON text out. */
const throughJson = (data: Record<string, unknown>): unknown => JSON.parse(JSON.stringify(data));

function hasBigint(value: unknown): boolean {
  if (typeof value === 'bigint') return true;
  if (value !== null && typeof value === 'object') return Object.values(value).some(hasBigint);
  return false;
}

function codeOf(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (error) {
    return error instanceof LedgerError ? error.code : 'not a LedgerError';
  }
}

describe('stored events', () => {
  it('list every event type, once', () => {
    expect([...paymentEventTypes].sort()).toEqual(Object.keys(paymentSamples).sort());
    expect([...customerEventTypes].sort()).toEqual(Object.keys(customerSamples).sort());
    expect(SCHEMA_VERSION).toBe(1);
  });

  it.each(Object.values(paymentSamples).map((e) => [e.type, e] as const))(
    'round-trip %s through JSON, bigints as decimal strings',
    (type, event) => {
      const stored = toStoredData(event);
      expect(hasBigint(stored)).toBe(false);
      expect(fromStoredPaymentEvent(type, throughJson(stored))).toEqual(event);
    },
  );

  it.each(Object.values(customerSamples).map((e) => [e.type, e] as const))(
    'round-trip %s through JSON',
    (type, event) => expect(fromStoredCustomerEvent(type, throughJson(toStoredData(event)))).toEqual(event),
  );

  it('writes money as decimal strings of minor units, postings included', () => {
    const stored = toStoredData(paymentSamples.PaymentRefunded);
    expect(stored['amount']).toBe('12345678901234567890');
    expect(stored['postings']).toEqual([
      { source: 'stripe:pending', destination: 'refunds', amount: '12345678901234567890', currency: 'USD' },
    ]);
  });

  it('refuses unknown types, non-object data and money that is not an integer string', () => {
    expect(codeOf(() => fromStoredPaymentEvent('Nope', {}))).toBe('invalid_command');
    expect(codeOf(() => fromStoredPaymentEvent('toString', {}))).toBe('invalid_command');
    expect(codeOf(() => fromStoredCustomerEvent('PaymentCreated', {}))).toBe('invalid_command');
    expect(codeOf(() => fromStoredPaymentEvent('PaymentCanceled', null))).toBe('invalid_command');
    expect(codeOf(() => fromStoredPaymentEvent('PaymentCaptureRequested', { amount: '1.5' }))).toBe(
      'invalid_command',
    );
    expect(codeOf(() => fromStoredPaymentEvent('PaymentCaptureRequested', { amount: 1500 }))).toBe(
      'invalid_command',
    );
    expect(codeOf(() => fromStoredPaymentEvent('PaymentCaptured', { amount: '1' }))).toBe('invalid_command');
    expect(
      codeOf(() => fromStoredPaymentEvent('PaymentCaptured', { amount: '1', postings: [{ amount: 1 }] })),
    ).toBe('invalid_command');
  });
});
