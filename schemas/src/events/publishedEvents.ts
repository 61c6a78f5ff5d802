import { z } from 'zod';

// The published (Kafka) form of ledger events. Money in events is a decimal string of integer
// minor units ("2000"), so that no consumer in any language parses it through a float.

const Amount = z.string().regex(/^[0-9]{1,20}$/, 'integer minor units as a decimal string');
const Currency = z.string().regex(/^[A-Z]{3}$/);
const At = z.iso.datetime();
const Operation = z.string().regex(/^(create_intent|confirm|capture|cancel|refund:[A-Za-z0-9_-]+)$/);
const Posting = z.object({ source: z.string(), destination: z.string(), amount: Amount, currency: Currency });
const Postings = z.array(Posting).min(1);
const pid = { paymentId: z.string() };
const cid = { customerId: z.string() };

/** Data schema of every event type, keyed by the internal type name (schema version 1). */
export const eventDataSchemas = {
  PaymentCreated: z.object({
    ...pid,
    customerId: z.string(),
    paymentMethodId: z.string(),
    amount: Amount,
    currency: Currency,
    captureMethod: z.enum(['automatic', 'manual']),
    offSession: z.boolean(),
    description: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    at: At,
  }),
  PaymentSubmitted: z.object({
    ...pid,
    operation: Operation,
    attempt: z.int(),
    idempotencyKey: z.string(),
    at: At,
  }),
  PaymentIntentCreated: z.object({ ...pid, intentId: z.string(), at: At }),
  PaymentRequiresAction: z.object({
    ...pid,
    intentId: z.string(),
    nextAction: z.object({ type: z.string(), redirectUrl: z.string().nullable() }),
    at: At,
  }),
  PaymentAuthorized: z.object({ ...pid, intentId: z.string(), amount: Amount, at: At }),
  PaymentSucceeded: z.object({
    ...pid,
    intentId: z.string(),
    chargeId: z.string().nullable(),
    amount: Amount,
    postings: Postings,
    at: At,
  }),
  PaymentFailed: z.object({
    ...pid,
    code: z.string(),
    declineCode: z.string().nullable(),
    message: z.string(),
    at: At,
  }),
  PaymentOutcomeUnknown: z.object({
    ...pid,
    operation: Operation,
    attempt: z.int(),
    idempotencyKey: z.string(),
    reason: z.string(),
    at: At,
  }),
  PaymentCaptureRequested: z.object({ ...pid, amount: Amount, at: At }),
  PaymentCaptured: z.object({ ...pid, amount: Amount, postings: Postings, at: At }),
  PaymentCancelRequested: z.object({ ...pid, reason: z.string().nullable(), at: At }),
  PaymentCanceled: z.object({ ...pid, at: At }),
  RefundRequested: z.object({
    ...pid,
    refundId: z.string(),
    amount: Amount,
    reason: z.string().nullable(),
    at: At,
  }),
  PaymentRefunded: z.object({
    ...pid,
    refundId: z.string(),
    stripeRefundId: z.string(),
    amount: Amount,
    postings: Postings,
    at: At,
  }),
  RefundFailed: z.object({ ...pid, refundId: z.string(), reason: z.string(), at: At }),
  PaymentDisputed: z.object({
    ...pid,
    disputeId: z.string(),
    amount: Amount,
    reason: z.string(),
    postings: Postings,
    at: At,
  }),
  FeeRecorded: z.object({
    ...pid,
    balanceTransactionId: z.string(),
    amount: Amount,
    postings: Postings,
    at: At,
  }),
  DiscrepancyDetected: z.object({
    ...pid,
    field: z.string(),
    ledgerValue: z.string(),
    stripeValue: z.string(),
    at: At,
  }),
  CustomerRegistered: z.object({
    ...cid,
    email: z.string(),
    name: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    at: At,
  }),
  StripeCustomerCreated: z.object({ ...cid, stripeCustomerId: z.string(), at: At }),
  PaymentMethodSaveRequested: z.object({
    ...cid,
    paymentMethodId: z.string(),
    setAsDefault: z.boolean(),
    at: At,
  }),
  PaymentMethodAttached: z.object({ ...cid, paymentMethodId: z.string(), at: At }),
  PaymentMethodAttachFailed: z.object({
    ...cid,
    paymentMethodId: z.string(),
    code: z.string(),
    message: z.string(),
    at: At,
  }),
} as const;

export type PublishedEventType = keyof typeof eventDataSchemas;

/** The Kafka message value of every ledger event (`type` is versioned: `PaymentCreated.v1`). */
export const PublishedEventEnvelope = z.object({
  eventId: z.uuid(),
  type: z.string().regex(/^[A-Za-z]+\.v[0-9]+$/),
  streamId: z.string(),
  streamType: z.enum(['payment', 'customer']),
  streamVersion: z.int().positive(),
  data: z.record(z.string(), z.unknown()),
  metadata: z.object({ actor: z.string(), correlationId: z.string(), causationId: z.string().nullable() }),
  recordedAt: At,
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type PublishedEventEnvelope = z.infer<typeof PublishedEventEnvelope>;

/** Validates a published event: envelope, then the data schema of its type and version. */
export function parsePublishedEvent(value: unknown): PublishedEventEnvelope {
  const envelope = PublishedEventEnvelope.parse(value);
  const [name, version] = envelope.type.split('.v');
  const schema = version === '1' ? eventDataSchemas[name as PublishedEventType] : undefined;
  if (schema === undefined) throw new Error(`unknown event type ${envelope.type}`);
  schema.parse(envelope.data);
  return envelope;
}
