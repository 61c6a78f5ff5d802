import { z } from 'zod';
import * as customers from './api/customers.ts';
import * as payments from './api/payments.ts';
import { eventDataSchemas, PublishedEventEnvelope } from './events/publishedEvents.ts';

/**
 * Every wire contract as JSON Schema (draft 2020-12), keyed by file name under schemas/json/:
 * commands (request bodies) for services written in other languages, and published events.
 */
export function jsonSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const add = (name: string, schema: z.ZodType, io: 'input' | 'output'): void => {
    out[name] = { $id: `https://schemas.payledger.dev/${name}`, ...z.toJSONSchema(schema, { io }) };
  };
  add('commands/CreatePayment.json', payments.CreatePaymentRequest, 'input');
  add('commands/CapturePayment.json', payments.CapturePaymentRequest, 'input');
  add('commands/CancelPayment.json', payments.CancelPaymentRequest, 'input');
  add('commands/RefundPayment.json', payments.RefundPaymentRequest, 'input');
  add('commands/RegisterCustomer.json', customers.RegisterCustomerRequest, 'input');
  add('commands/SavePaymentMethod.json', customers.SavePaymentMethodRequest, 'input');
  add('api/Payment.json', payments.Payment, 'output');
  add('api/PaymentList.json', payments.PaymentList, 'output');
  add('api/Customer.json', customers.Customer, 'output');
  add('events/Envelope.json', PublishedEventEnvelope, 'output');
  for (const [type, schema] of Object.entries(eventDataSchemas))
    add(`events/${type}.v1.json`, schema, 'output');
  return out;
}
