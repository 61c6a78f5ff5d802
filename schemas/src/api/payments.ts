import { z } from 'zod';
import { CurrencyCode, LedgerId, Metadata, MinorUnits, PaymentMethodId } from './common.ts';

/** POST /v1/payments: open a payment (CreatePayment). */
export const CreatePaymentRequest = z.strictObject({
  customerId: LedgerId,
  /** Omitted for an off-session charge: the customer's default saved method is used. */
  paymentMethodId: PaymentMethodId.optional(),
  amount: MinorUnits,
  currency: CurrencyCode,
  captureMethod: z.enum(['automatic', 'manual']).default('automatic'),
  offSession: z.boolean().default(false),
  description: z.string().max(1000).optional(),
  metadata: Metadata.default({}),
});
export type CreatePaymentRequest = z.infer<typeof CreatePaymentRequest>;

/** POST /v1/payments/{paymentId}/capture: capture all (no amount) or part of an authorisation. */
export const CapturePaymentRequest = z.strictObject({ amount: MinorUnits.optional() });
export type CapturePaymentRequest = z.infer<typeof CapturePaymentRequest>;

/** POST /v1/payments/{paymentId}/cancel. */
export const CancelPaymentRequest = z.strictObject({ reason: z.string().max(500).optional() });
export type CancelPaymentRequest = z.infer<typeof CancelPaymentRequest>;

/** POST /v1/payments/{paymentId}/refunds: refund all that is left (no amount) or part. */
export const RefundPaymentRequest = z.strictObject({
  amount: MinorUnits.optional(),
  reason: z.string().max(500).optional(),
});
export type RefundPaymentRequest = z.infer<typeof RefundPaymentRequest>;

export const PaymentStatus = z.enum([
  'pending',
  'requires_action',
  'authorized',
  'succeeded',
  'failed',
  'canceled',
]);

/** A payment as the API shows it. Amounts are integer minor units. */
export const Payment = z.object({
  id: z.string(),
  customerId: z.string(),
  paymentMethodId: z.string(),
  amount: z.int(),
  currency: z.string(),
  captureMethod: z.enum(['automatic', 'manual']),
  offSession: z.boolean(),
  description: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
  status: PaymentStatus,
  amountAuthorized: z.int(),
  amountCaptured: z.int(),
  amountRefunded: z.int(),
  outcomeUnknown: z.boolean(),
  nextAction: z.object({ type: z.string(), redirectUrl: z.string().nullable() }).nullable(),
  failure: z.object({ code: z.string(), declineCode: z.string().nullable(), message: z.string() }).nullable(),
  stripePaymentIntentId: z.string().nullable(),
  version: z.int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Payment = z.infer<typeof Payment>;

/** One event of a payment's history, as stored. */
export const HistoryEvent = z.object({
  position: z.string(),
  eventId: z.string(),
  streamVersion: z.int(),
  type: z.string(),
  schemaVersion: z.int(),
  data: z.record(z.string(), z.unknown()),
  metadata: z.object({ actor: z.string(), correlationId: z.string(), causationId: z.string().nullable() }),
  recordedAt: z.string(),
  prevHash: z.string(),
  hash: z.string(),
});

/** GET /v1/payments/{paymentId}. */
export const PaymentWithHistory = z.object({ payment: Payment, events: z.array(HistoryEvent) });

/** An ISO 8601 instant PostgreSQL can hold too: year 0000 is valid to JavaScript, not to it. */
const Instant = z.iso.datetime().regex(/^(?!0000)/, 'a year from 0001');

/** Query of GET /v1/payments. */
export const ListPaymentsQuery = z.strictObject({
  status: PaymentStatus.optional(),
  customerId: LedgerId.optional(),
  currency: CurrencyCode.optional(),
  createdFrom: Instant.optional(),
  createdTo: Instant.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
export type ListPaymentsQuery = z.infer<typeof ListPaymentsQuery>;

/** GET /v1/payments: newest first; pass `nextCursor` as `cursor` for the next page. */
export const PaymentList = z.object({ data: z.array(Payment), nextCursor: z.string().nullable() });

/** The answer to a refund request. */
export const RefundAccepted = z.object({ refundId: z.string(), amount: z.int(), payment: Payment });
