import { describe, expect, it } from 'vitest';
import { LedgerError } from '../errors.ts';
import type { CustomerEvent } from './customerModel.ts';
import { decideCustomer, evolveCustomer, initialCustomerState } from './customerDecider.ts';

const now = '2026-11-22T10:00:00.000Z';
const registered: CustomerEvent = {
  type: 'CustomerRegistered',
  data: { customerId: 'c', email: 'c@example.com', name: null, metadata: {}, at: now },
};
const fold = (...events: CustomerEvent[]) => events.reduce(evolveCustomer, initialCustomerState());

describe('customer decider', () => {
  it('registers once', () => {
    expect(
      decideCustomer(
        {
          type: 'RegisterCustomer',
          data: { customerId: 'c', email: 'c@example.com', name: null, metadata: {}, now },
        },
        fold(),
      ),
    ).toEqual([registered]);
    expect(() =>
      decideCustomer(
        {
          type: 'RegisterCustomer',
          data: { customerId: 'c', email: 'x@example.com', name: null, metadata: {}, now },
        },
        fold(registered),
      ),
    ).toThrow(LedgerError);
  });
  it('saves a payment method once, default by request; refuses unknown customers', () => {
    const save = {
      type: 'SavePaymentMethod' as const,
      data: { customerId: 'c', paymentMethodId: 'pm_card_visa', setAsDefault: true, now },
    };
    const [requested] = decideCustomer(save, fold(registered));
    expect(requested?.type).toBe('PaymentMethodSaveRequested');
    const state = fold(registered, requested as CustomerEvent);
    expect(state.defaultPaymentMethodId).toBe('pm_card_visa');
    expect(decideCustomer(save, state)).toEqual([]);
    expect(() => decideCustomer(save, fold())).toThrow(/register it first/);
  });
  it('treats executor outcomes as idempotent facts; a failed attach drops the method', () => {
    const requested: CustomerEvent = {
      type: 'PaymentMethodSaveRequested',
      data: { customerId: 'c', paymentMethodId: 'pm_x', setAsDefault: true, at: now },
    };
    const attach = {
      type: 'RecordPaymentMethodAttached' as const,
      data: { customerId: 'c', paymentMethodId: 'pm_x', now },
    };
    const [attached] = decideCustomer(attach, fold(registered, requested));
    expect(decideCustomer(attach, fold(registered, requested, attached as CustomerEvent))).toEqual([]);
    const failed = decideCustomer(
      {
        type: 'RecordPaymentMethodAttachFailed',
        data: { customerId: 'c', paymentMethodId: 'pm_x', code: 'card_declined', message: 'no', now },
      },
      fold(registered, requested),
    );
    const after = fold(registered, requested, ...failed);
    expect(after.paymentMethods).toEqual([]);
    expect(after.defaultPaymentMethodId).toBeNull();
    const stripe = {
      type: 'RecordStripeCustomer' as const,
      data: { customerId: 'c', stripeCustomerId: 'cus_1', now },
    };
    const [created] = decideCustomer(stripe, fold(registered));
    expect(decideCustomer(stripe, fold(registered, created as CustomerEvent))).toEqual([]);
  });
});
