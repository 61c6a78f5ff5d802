import { LedgerError } from '../errors.ts';
import type {
  CustomerCommand,
  CustomerEvent,
  CustomerOutcome,
  CustomerState,
  RegisterCustomer,
  SavePaymentMethod,
} from './customerModel.ts';

type Outcome<T extends CustomerOutcome['type']> = Extract<CustomerOutcome, { type: T }>;

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

/** Applies one event to a customer's state (pure and total: events are facts). */
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
      const id = event.data.paymentMethodId;
      return {
        ...state,
        paymentMethods: state.paymentMethods.some((m) => m.id === id)
          ? state.paymentMethods
          : [...state.paymentMethods, { id, attached: false }],
        defaultPaymentMethodId: event.data.setAsDefault ? id : state.defaultPaymentMethodId,
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

/**
 * Decides a customer command or executor outcome. Commands raise `customer_already_exists`,
 * `customer_not_found` or `invalid_command`; outcomes are facts and raise only
 * `customer_not_found`: a duplicate or stale one yields `[]`.
 */
export function decideCustomer(
  command: CustomerCommand | CustomerOutcome,
  state: CustomerState,
): CustomerEvent[] {
  if (command.type !== 'RegisterCustomer' && !state.exists) {
    throw new LedgerError('customer_not_found', `no customer ${command.data.customerId}: register it first`);
  }
  switch (command.type) {
    case 'RegisterCustomer':
      return registerCustomer(command, state);
    case 'SavePaymentMethod':
      return savePaymentMethod(command, state);
    case 'RecordStripeCustomer':
      return recordStripeCustomer(command, state);
    case 'RecordPaymentMethodAttached':
      return recordPaymentMethodAttached(command, state);
    case 'RecordPaymentMethodAttachFailed':
      return recordPaymentMethodAttachFailed(command, state);
    default: {
      const never: never = command;
      return never;
    }
  }
}

function registerCustomer(command: RegisterCustomer, state: CustomerState): CustomerEvent[] {
  const d = command.data;
  if (state.exists) {
    throw new LedgerError('customer_already_exists', `customer ${d.customerId} already exists`);
  }
  if (d.customerId === '') throw new LedgerError('invalid_command', 'customerId must not be empty');
  return [
    {
      type: 'CustomerRegistered',
      data: { customerId: d.customerId, email: d.email, name: d.name, metadata: d.metadata, at: d.now },
    },
  ];
}

function savePaymentMethod(command: SavePaymentMethod, state: CustomerState): CustomerEvent[] {
  const d = command.data;
  if (d.paymentMethodId === '') throw new LedgerError('invalid_command', 'paymentMethodId must not be empty');
  const known = state.paymentMethods.some((m) => m.id === d.paymentMethodId);
  const defaultUnchanged = !d.setAsDefault || state.defaultPaymentMethodId === d.paymentMethodId;
  // Saving a saved method again is a no-op, unless it now becomes the default.
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

function recordStripeCustomer(
  command: Outcome<'RecordStripeCustomer'>,
  state: CustomerState,
): CustomerEvent[] {
  const d = command.data;
  // The first Stripe customer recorded is the one; a later (retried) create is a duplicate.
  if (state.stripeCustomerId !== null) return [];
  return [
    {
      type: 'StripeCustomerCreated',
      data: { customerId: d.customerId, stripeCustomerId: d.stripeCustomerId, at: d.now },
    },
  ];
}

function recordPaymentMethodAttached(
  command: Outcome<'RecordPaymentMethodAttached'>,
  state: CustomerState,
): CustomerEvent[] {
  const d = command.data;
  const method = state.paymentMethods.find((m) => m.id === d.paymentMethodId);
  if (method === undefined || method.attached) return [];
  return [
    {
      type: 'PaymentMethodAttached',
      data: { customerId: d.customerId, paymentMethodId: d.paymentMethodId, at: d.now },
    },
  ];
}

function recordPaymentMethodAttachFailed(
  command: Outcome<'RecordPaymentMethodAttachFailed'>,
  state: CustomerState,
): CustomerEvent[] {
  const d = command.data;
  const method = state.paymentMethods.find((m) => m.id === d.paymentMethodId);
  // After an attach, a failure is stale: Stripe reports an attach once it succeeded.
  if (method === undefined || method.attached) return [];
  return [
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
