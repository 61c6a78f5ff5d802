import { describe, expect, it } from 'vitest';
import { LedgerError, type LedgerErrorCode } from '../errors.ts';
import { decideCustomer, evolveCustomer, initialCustomerState } from './customerDecider.ts';
import type { CustomerCommand, CustomerEvent, CustomerOutcome, CustomerState } from './customerModel.ts';

const now = '2026-11-22T10:00:00.000Z';
const C = 'cus_1';

const fold = (history: readonly CustomerEvent[]): CustomerState =>
  history.reduce(evolveCustomer, initialCustomerState());

/** Given a history, when a command or outcome, then these events or this error code. */
function given(history: readonly CustomerEvent[]) {
  const state = fold(history);
  return {
    when(input: CustomerCommand | CustomerOutcome) {
      return {
        then(expected: readonly CustomerEvent[] | LedgerErrorCode): void {
          if (typeof expected !== 'string') {
            expect(decideCustomer(input, state)).toEqual(expected);
            return;
          }
          let caught: unknown;
          try {
            decideCustomer(input, state);
          } catch (error) {
            caught = error;
          }
          expect(caught).toBeInstanceOf(LedgerError);
          expect((caught as LedgerError).code).toBe(expected);
        },
      };
    },
  };
}

const cmd = {
  register: (email = 'c@example.com', customerId = C): CustomerCommand => ({
    type: 'RegisterCustomer',
    data: { customerId, email, name: 'Ada', metadata: {}, now },
  }),
  save: (paymentMethodId: string, setAsDefault = false): CustomerCommand => ({
    type: 'SavePaymentMethod',
    data: { customerId: C, paymentMethodId, setAsDefault, now },
  }),
};
const out = {
  stripeCustomer: (stripeCustomerId = 'cus_stripe_1'): CustomerOutcome => ({
    type: 'RecordStripeCustomer',
    data: { customerId: C, stripeCustomerId, now },
  }),
  attached: (paymentMethodId: string): CustomerOutcome => ({
    type: 'RecordPaymentMethodAttached',
    data: { customerId: C, paymentMethodId, now },
  }),
  attachFailed: (paymentMethodId: string): CustomerOutcome => ({
    type: 'RecordPaymentMethodAttachFailed',
    data: { customerId: C, paymentMethodId, code: 'card_declined', message: 'declined', now },
  }),
};
const evt = {
  registered: (): CustomerEvent => ({
    type: 'CustomerRegistered',
    data: { customerId: C, email: 'c@example.com', name: 'Ada', metadata: {}, at: now },
  }),
  stripeCustomer: (stripeCustomerId = 'cus_stripe_1'): CustomerEvent => ({
    type: 'StripeCustomerCreated',
    data: { customerId: C, stripeCustomerId, at: now },
  }),
  saveRequested: (paymentMethodId: string, setAsDefault = false): CustomerEvent => ({
    type: 'PaymentMethodSaveRequested',
    data: { customerId: C, paymentMethodId, setAsDefault, at: now },
  }),
  attached: (paymentMethodId: string): CustomerEvent => ({
    type: 'PaymentMethodAttached',
    data: { customerId: C, paymentMethodId, at: now },
  }),
  attachFailed: (paymentMethodId: string): CustomerEvent => ({
    type: 'PaymentMethodAttachFailed',
    data: { customerId: C, paymentMethodId, code: 'card_declined', message: 'declined', at: now },
  }),
};
const registered = [evt.registered()];

describe('RegisterCustomer', () => {
  it('registers a new customer', () => {
    given([]).when(cmd.register()).then(registered);
    expect(fold(registered)).toMatchObject({
      exists: true,
      customerId: C,
      email: 'c@example.com',
      name: 'Ada',
    });
  });
  it('refuses a second registration of the same id', () =>
    given(registered).when(cmd.register('other@example.com')).then('customer_already_exists'));
  it('refuses an empty id', () => given([]).when(cmd.register('c@example.com', '')).then('invalid_command'));
});

describe('a customer that does not exist', () => {
  it.each([cmd.save('pm_1'), out.stripeCustomer(), out.attached('pm_1'), out.attachFailed('pm_1')])(
    'refuses $type',
    (input) => given([]).when(input).then('customer_not_found'),
  );
});

describe('SavePaymentMethod', () => {
  it('asks to save a method, as the default when asked', () => {
    given(registered)
      .when(cmd.save('pm_1'))
      .then([evt.saveRequested('pm_1')]);
    given(registered)
      .when(cmd.save('pm_1', true))
      .then([evt.saveRequested('pm_1', true)]);
    expect(fold([...registered, evt.saveRequested('pm_1', true)])).toMatchObject({
      paymentMethods: [{ id: 'pm_1', attached: false }],
      defaultPaymentMethodId: 'pm_1',
    });
  });
  it('is idempotent for a method already saved', () => {
    given([...registered, evt.saveRequested('pm_1')])
      .when(cmd.save('pm_1'))
      .then([]);
    given([...registered, evt.saveRequested('pm_1', true)])
      .when(cmd.save('pm_1', true))
      .then([]);
  });
  it('makes a saved method the default when asked again with setAsDefault', () => {
    const history = [...registered, evt.saveRequested('pm_1', true), evt.saveRequested('pm_2')];
    given(history)
      .when(cmd.save('pm_2', true))
      .then([evt.saveRequested('pm_2', true)]);
    const state = fold([...history, evt.saveRequested('pm_2', true)]);
    expect(state.defaultPaymentMethodId).toBe('pm_2');
    expect(state.paymentMethods.map((m) => m.id)).toEqual(['pm_1', 'pm_2']);
  });
  it('refuses an empty payment method id', () =>
    given(registered).when(cmd.save('')).then('invalid_command'));
});

describe('executor outcomes', () => {
  it('record the Stripe customer once', () => {
    given(registered).when(out.stripeCustomer()).then([evt.stripeCustomer()]);
    given([...registered, evt.stripeCustomer()])
      .when(out.stripeCustomer())
      .then([]);
    given([...registered, evt.stripeCustomer()])
      .when(out.stripeCustomer('cus_stripe_2'))
      .then([]);
  });
  it('record an attach once, only for a method asked for', () => {
    const history = [...registered, evt.saveRequested('pm_1')];
    given(history)
      .when(out.attached('pm_1'))
      .then([evt.attached('pm_1')]);
    given([...history, evt.attached('pm_1')])
      .when(out.attached('pm_1'))
      .then([]);
    given(history).when(out.attached('pm_unknown')).then([]);
    expect(fold([...history, evt.attached('pm_1')]).paymentMethods).toEqual([{ id: 'pm_1', attached: true }]);
  });
  it('drop a method whose attach failed, and its default', () => {
    const history = [...registered, evt.saveRequested('pm_1', true)];
    given(history)
      .when(out.attachFailed('pm_1'))
      .then([evt.attachFailed('pm_1')]);
    const state = fold([...history, evt.attachFailed('pm_1')]);
    expect(state.paymentMethods).toEqual([]);
    expect(state.defaultPaymentMethodId).toBeNull();
  });
  it('ignore a stale or duplicate attach failure', () => {
    given([...registered, evt.saveRequested('pm_1'), evt.attached('pm_1')])
      .when(out.attachFailed('pm_1'))
      .then([]);
    given([...registered, evt.saveRequested('pm_1'), evt.attachFailed('pm_1')])
      .when(out.attachFailed('pm_1'))
      .then([]);
  });
  it('let a failed method be saved again', () =>
    given([...registered, evt.saveRequested('pm_1'), evt.attachFailed('pm_1')])
      .when(cmd.save('pm_1'))
      .then([evt.saveRequested('pm_1')]));
});
