import { z } from 'zod';
import { LedgerId, Metadata, PaymentMethodId } from './common.ts';

/** POST /v1/customers: register a customer (RegisterCustomer). */
export const RegisterCustomerRequest = z.strictObject({
  customerId: LedgerId.optional(),
  // RFC 5321: at most 64 characters before the @ (Stripe and mail servers refuse longer ones).
  email: z
    .email()
    .max(254)
    .refine((e) => e.lastIndexOf('@') <= 64, 'at most 64 characters before the @'),
  name: z.string().max(200).optional(),
  metadata: Metadata.default({}),
});
export type RegisterCustomerRequest = z.infer<typeof RegisterCustomerRequest>;

/** POST /v1/customers/{customerId}/payment-methods: save a method for off-session charges. */
export const SavePaymentMethodRequest = z.strictObject({
  paymentMethodId: PaymentMethodId,
  setAsDefault: z.boolean().default(true),
});
export type SavePaymentMethodRequest = z.infer<typeof SavePaymentMethodRequest>;

export const Customer = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string().nullable(),
  stripeCustomerId: z.string().nullable(),
  paymentMethods: z.array(z.object({ id: z.string(), attached: z.boolean() })),
  defaultPaymentMethodId: z.string().nullable(),
  version: z.int(),
});
export type Customer = z.infer<typeof Customer>;
