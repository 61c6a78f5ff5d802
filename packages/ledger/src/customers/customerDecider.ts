import { LedgerError } from '../errors.ts';
import type { CustomerCommand, CustomerEvent, CustomerOutcome, CustomerState } from './customerModel.ts';

/** The state of a customer that does not exist yet. */
export function initialCustomerState(): CustomerState {
  return {
    exists: false,
    customerId: null,
    email: null,
    name: null,
    stripeCustomerId: null,
    paymentMethods: [],
    defaultPaymentMethodId: null,
  };
}

/** Applies one event to a customer's state. */
export function evolveCustomer(state: CustomerState, event: CustomerEvent): CustomerState {
  switch (event.type) {
    case 'CustomerRegistered':
      return {
        ...state,
        exists: true,
        customerId: event.data.customerId,
        email: event.data.email,
        name: event.data.name,
      };
    case 'StripeCustomerCreated':
      return { ...state, stripeCustomerId: event.data.stripeCustomerId };
    case 'PaymentMethodSaveRequested': {
      const known = state.paymentMethods.some((m) => m.id === event.data.paymentMethodId);
      return {
        ...state,
        paymentMethods: known
          ? state.paymentMethods
          : [...state.paymentMethods, { id: event.data.paymentMethodId, attached: false }],
        defaultPaymentMethodId: event.data.setAsDefault
          ? event.data.paymentMethodId
          : state.defaultPaymentMethodId,
      };
    }
    case 'PaymentMethodAttached':
      return {
        ...state,
        paymentMethods: state.paymentMethods.map((m) =>
          m.id === event.data.paymentMethodId ? { ...m, attached: true } : m,
        ),
      };
    case 'PaymentMethodAttachFailed':
      return {
        ...state,
        paymentMethods: state.paymentMethods.filter((m) => m.id !== event.data.paymentMethodId),
        defaultPaymentMethodId:
          state.defaultPaymentMethodId === event.data.paymentMethodId ? null : state.defaultPaymentMethodId,
      };
    default: {
      const never: never = event;
      return never;
    }
  }
}

/** Decides a customer command or executor outcome. Outcomes are idempotent facts. */
export function decideCustomer(
  command: CustomerCommand | CustomerOutcome,
  state: CustomerState,
): CustomerEvent[] {
  if (command.type !== 'RegisterCustomer' && !state.exists) {
    throw new LedgerError('customer_not_found', `no customer ${command.data.customerId}: register it first`);
  }
  switch (command.type) {
    case 'RegisterCustomer': {
      if (state.exists)
        throw new LedgerError(
          'customer_already_exists',
          `customer ${command.data.customerId} already exists`,
        );
      const d = command.data;
      return [
        {
          type: 'CustomerRegistered',
          data: { customerId: d.customerId, email: d.email, name: d.name, metadata: d.metadata, at: d.now },
        },
      ];
    }
    case 'SavePaymentMethod': {
      const d = command.data;
      const known = state.paymentMethods.some((m) => m.id === d.paymentMethodId);
      const defaultUnchanged = !d.setAsDefault || state.defaultPaymentMethodId === d.paymentMethodId;
      if (known && defaultUnchanged) return [];
      return [
        {
          type: 'PaymentMethodSaveRequested',
          data: {
            customerId: d.customerId,
            paymentMethodId: d.paymentMethodId,
            setAsDefault: d.setAsDefault,
            at: d.now,
          },
        },
      ];
    }
    case 'RecordStripeCustomer':
      return state.stripeCustomerId !== null
        ? []
        : [
            {
              type: 'StripeCustomerCreated',
              data: {
                customerId: command.data.customerId,
                stripeCustomerId: command.data.stripeCustomerId,
                at: command.data.now,
              },
            },
          ];
    case 'RecordPaymentMethodAttached': {
      const method = state.paymentMethods.find((m) => m.id === command.data.paymentMethodId);
      return method === undefined || method.attached
        ? []
        : [
            {
              type: 'PaymentMethodAttached',
              data: {
                customerId: command.data.customerId,
                paymentMethodId: command.data.paymentMethodId,
                at: command.data.now,
              },
            },
          ];
    }
    case 'RecordPaymentMethodAttachFailed': {
      const method = state.paymentMethods.find((m) => m.id === command.data.paymentMethodId);
      const d = command.data;
      return method === undefined || method.attached
        ? []
        : [
            {
              type: 'PaymentMethodAttachFailed',
              data: {
                customerId: d.customerId,
                paymentMethodId: d.paymentMethodId,
                code: d.code,
                message: d.message,
                at: d.now,
              },
            },
          ];
    }
    default: {
      const never: never = command;
      return never;
    }
  }
}
