import type { CustomerEvent } from '../customers/customerModel.ts';
import { LedgerError } from '../errors.ts';
import type { PaymentEvent, PaymentEventType } from '../payments/paymentEvents.ts';

/** Schema version of every event type today (bumped per type when its data changes shape). */
export const SCHEMA_VERSION = 1;

/**
 * The bigint fields of each payment event's data (the compiler finds a missing type). Stored and
 * published events carry them as decimal strings of minor units; `postings[].amount` too.
 */
const paymentMoneyFields: Record<PaymentEventType, readonly string[]> = {
  PaymentCreated: ['amount'],
  PaymentSubmitted: [],
  PaymentIntentCreated: [],
  PaymentRequiresAction: [],
  PaymentAuthorized: ['amount'],
  PaymentSucceeded: ['amount'],
  PaymentFailed: [],
  PaymentOutcomeUnknown: [],
  PaymentCaptureRequested: ['amount'],
  PaymentCaptured: ['amount'],
  PaymentCancelRequested: [],
  PaymentCanceled: [],
  RefundRequested: ['amount'],
  PaymentRefunded: ['amount'],
  RefundFailed: [],
  PaymentDisputed: ['amount'],
  FeeRecorded: ['amount'],
  DiscrepancyDetected: [],
};

const customerTypes: Record<CustomerEvent['type'], true> = {
  CustomerRegistered: true,
  StripeCustomerCreated: true,
  PaymentMethodSaveRequested: true,
  PaymentMethodAttached: true,
  PaymentMethodAttachFailed: true,
};

/** Every payment event type name. */
export const paymentEventTypes = Object.keys(paymentMoneyFields) as PaymentEventType[];
/** Every customer event type name. */
export const customerEventTypes = Object.keys(customerTypes) as CustomerEvent['type'][];

/** JSON-safe data of an event: every bigint (postings included) becomes a decimal string. */
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

function toBigint(value: unknown, field: string): bigint {
  if (typeof value !== 'string' || !/^-?[0-9]+$/.test(value)) {
    throw new LedgerError('invalid_command', `stored event field ${field} is not an integer string`);
  }
  return BigInt(value);
}

/** Rebuilds a payment event from its stored type and data. */
export function fromStoredPaymentEvent(type: string, data: unknown): PaymentEvent {
  if (!Object.hasOwn(paymentMoneyFields, type))
    throw new LedgerError('invalid_command', `unknown payment event type ${type}`);
  const fields = paymentMoneyFields[type as PaymentEventType];
  const out: Record<string, unknown> = { ...(data as Record<string, unknown>) };
  for (const f of fields) out[f] = toBigint(out[f], f);
  if (Array.isArray(out['postings'])) {
    out['postings'] = (out['postings'] as Record<string, unknown>[]).map((p) => ({
      ...p,
      amount: toBigint(p['amount'], 'postings.amount'),
    }));
  }
  return { type, data: out } as unknown as PaymentEvent;
}

/** Rebuilds a customer event from its stored type and data. */
export function fromStoredCustomerEvent(type: string, data: unknown): CustomerEvent {
  if (!Object.hasOwn(customerTypes, type))
    throw new LedgerError('invalid_command', `unknown customer event type ${type}`);
  return { type, data } as unknown as CustomerEvent;
}
