import type { CustomerEvent, CustomerEventType } from '../customers/customerModel.ts';
import { LedgerError } from '../errors.ts';
import type { Posting } from '../journal/postings.ts';
import type { PaymentEvent, PaymentEventType } from '../payments/paymentEvents.ts';

/** Schema version of every event type today (bumped per type when its data changes shape). */
export const SCHEMA_VERSION = 1;

/**
 * The money fields of one event's data: every `bigint` field and every posting list. Stored and
 * published events carry these amounts as decimal strings of minor units, since JSON numbers are
 * floats in most consumers.
 */
type MoneyFields<D> = {
  readonly [F in keyof D as D[F] extends bigint | readonly Posting[] ? F : never]-?: true;
};

type DataOf<E extends { type: string; data: unknown }, T extends E['type']> = Extract<E, { type: T }>['data'];

/**
 * Money fields per payment event type. The compiler checks it both ways: a missing event type,
 * a missing money field or a field that is not money is an error.
 */
const paymentMoneyFields: { readonly [T in PaymentEventType]: MoneyFields<DataOf<PaymentEvent, T>> } = {
  PaymentCreated: { amount: true },
  PaymentSubmitted: {},
  PaymentIntentCreated: {},
  PaymentRequiresAction: {},
  PaymentAuthorized: { amount: true },
  PaymentSucceeded: { amount: true, postings: true },
  PaymentFailed: {},
  PaymentOutcomeUnknown: {},
  PaymentCaptureRequested: { amount: true },
  PaymentCaptured: { amount: true, postings: true },
  PaymentCancelRequested: {},
  PaymentCanceled: {},
  RefundRequested: { amount: true },
  PaymentRefunded: { amount: true, postings: true },
  RefundFailed: {},
  PaymentDisputed: { amount: true, postings: true },
  FeeRecorded: { amount: true, postings: true },
  DiscrepancyDetected: {},
};

/** Money fields per customer event type (none today; the table keeps the compiler watching). */
const customerMoneyFields: { readonly [T in CustomerEventType]: MoneyFields<DataOf<CustomerEvent, T>> } = {
  CustomerRegistered: {},
  StripeCustomerCreated: {},
  PaymentMethodSaveRequested: {},
  PaymentMethodAttached: {},
  PaymentMethodAttachFailed: {},
};

/** Every payment event type name. */
export const paymentEventTypes: readonly PaymentEventType[] = Object.freeze(
  Object.keys(paymentMoneyFields) as PaymentEventType[],
);

/** Every customer event type name. */
export const customerEventTypes: readonly CustomerEventType[] = Object.freeze(
  Object.keys(customerMoneyFields) as CustomerEventType[],
);

/**
 * The JSON form of an event's data, for the event store and Kafka: every bigint (posting amounts
 * included) becomes a decimal string; everything else is already JSON.
 */
export function toStoredData(event: PaymentEvent | CustomerEvent): Record<string, unknown> {
  return toJsonSafe(event.data) as Record<string, unknown>;
}

function toJsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(toJsonSafe);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSafe(v)]));
  }
  return value;
}

/**
 * Rebuilds a payment event from its stored type and JSON data. Throws `invalid_command` for an
 * unknown type, data that is not an object, or a money field that is not an integer string.
 */
export function fromStoredPaymentEvent(type: string, data: unknown): PaymentEvent {
  if (!isKnown(paymentMoneyFields, type)) {
    throw new LedgerError('invalid_command', `unknown payment event type "${type}"`);
  }
  return { type, data: withBigints(type, data, Object.keys(paymentMoneyFields[type])) } as PaymentEvent;
}

/** Rebuilds a customer event from its stored type and JSON data; throws like `fromStoredPaymentEvent`. */
export function fromStoredCustomerEvent(type: string, data: unknown): CustomerEvent {
  if (!isKnown(customerMoneyFields, type)) {
    throw new LedgerError('invalid_command', `unknown customer event type "${type}"`);
  }
  return { type, data: withBigints(type, data, Object.keys(customerMoneyFields[type])) } as CustomerEvent;
}

function isKnown<T extends string>(table: { readonly [K in T]: unknown }, type: string): type is T {
  return Object.hasOwn(table, type);
}

function withBigints(type: string, data: unknown, fields: readonly string[]): Record<string, unknown> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new LedgerError('invalid_command', `stored ${type} data is not an object`);
  }
  const out: Record<string, unknown> = { ...(data as Record<string, unknown>) };
  for (const field of fields) {
    const value = out[field];
    if (field === 'postings') {
      if (!Array.isArray(value)) {
        throw new LedgerError('invalid_command', `stored ${type}.postings is not a list`);
      }
      out[field] = value.map((p: unknown, i) => {
        if (p === null || typeof p !== 'object') {
          throw new LedgerError('invalid_command', `stored ${type}.postings[${i}] is not an object`);
        }
        const posting = p as Record<string, unknown>;
        return { ...posting, amount: toBigint(posting['amount'], `${type}.postings[${i}].amount`) };
      });
    } else {
      out[field] = toBigint(value, `${type}.${field}`);
    }
  }
  return out;
}

function toBigint(value: unknown, field: string): bigint {
  if (typeof value !== 'string' || !/^-?[0-9]+$/.test(value)) {
    throw new LedgerError('invalid_command', `stored field ${field} is not an integer string`);
  }
  return BigInt(value);
}
