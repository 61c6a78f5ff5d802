import { z } from 'zod';
import {
  CancelPaymentRequest,
  CapturePaymentRequest,
  CreatePaymentRequest,
  Customer,
  LedgerId,
  ListPaymentsQuery,
  Payment,
  PaymentList,
  PaymentWithHistory,
  Problem,
  RefundAccepted,
  RefundPaymentRequest,
  RegisterCustomerRequest,
  SavePaymentMethodRequest,
} from '@payledger/schemas';
import { apiErrorStatus } from './problems.ts';

// OpenAPI 3.1 takes JSON Schema 2020-12 as is: zod's own output, with the limits 3.0 cannot say
// (metadata key lengths, at most 50 keys) kept.
const json = (schema: z.ZodType, io: 'input' | 'output' = 'output') => ({
  'application/json': { schema: z.toJSONSchema(schema, { io }) },
});
const problem = {
  'application/problem+json': { schema: z.toJSONSchema(Problem) },
};
const failure = (description: string) => ({ description, content: problem });
/** The failures every /v1 operation can answer with. */
const common = {
  '401': failure('No or wrong credential'),
  '403': failure('Credential lacks the scope'),
  '500': failure('Our fault, logged; retry (a command with the same Idempotency-Key)'),
  '503': failure('Shutting down or not ready; retry'),
};
/** A command's failures besides the common ones. */
const commandErrors = {
  '400': failure('Bad input (body, Idempotency-Key, card data); nothing stored'),
  '404': failure('The payment or customer it names does not exist (for this credential)'),
  '409': failure('Conflicts with the current state; nothing stored'),
  '413': failure('Body too large; nothing stored'),
  '415': failure('Not JSON; nothing stored'),
  '422': failure('Valid input the rules refuse (or an Idempotency-Key reused); nothing stored'),
  ...common,
};
/** The ids the API accepts (anything else is a 404 without a database read). */
const id = z.toJSONSchema(LedgerId);
const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: true,
  description: 'Unique per command (1-255 visible ASCII). Same key + same body replays the first response.',
  schema: { type: 'string', pattern: '^[\\x21-\\x7E]{1,255}$' },
};
const paymentId = {
  name: 'paymentId',
  in: 'path',
  required: true,
  schema: id,
};
const customerId = {
  name: 'customerId',
  in: 'path',
  required: true,
  schema: id,
};
const command = (
  summary: string,
  scope: string,
  body: z.ZodType,
  status: string,
  response: z.ZodType,
  params: object[] = [],
) => ({
  summary,
  security: [{ bearer: [scope] }],
  parameters: [idempotencyKey, ...params],
  requestBody: { required: true, content: json(body, 'input') },
  responses: {
    [status]: { description: 'Accepted and durably stored', content: json(response) },
    ...commandErrors,
  },
});
const query = (
  summary: string,
  response: z.ZodType,
  params: object[],
  failures: Record<string, ReturnType<typeof failure>>,
) => ({
  summary,
  security: [{ bearer: ['payments:write'] }, { bearer: ['ledger:read'] }, { bearer: ['audit:read'] }],
  parameters: params,
  responses: { '200': { description: 'OK', content: json(response) }, ...failures, ...common },
});
const notFound = { '404': failure('No such object (for this credential)') };

/** The OpenAPI 3.1 document of the API, generated from the zod contracts (served at /openapi.json). */
export function openApiDocument() {
  const listParams = Object.entries(z.toJSONSchema(ListPaymentsQuery, { io: 'input' }).properties ?? {}).map(
    ([name, schema]) => ({ name, in: 'query', required: false, schema }),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Payment ledger API',
      version: '1.0.0',
      description:
        'Commands in, queries out. Money is integer minor units of the currency. Errors are RFC 9457 problem+json with a stable `code`: ' +
        Object.keys(apiErrorStatus).join(', '),
    },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'Authorization: Bearer <credential id>.<secret>',
        },
      },
    },
    paths: {
      '/v1/customers': {
        post: command('Register a customer', 'payments:write', RegisterCustomerRequest, '201', Customer),
      },
      '/v1/customers/{customerId}': { get: query('A customer', Customer, [customerId], notFound) },
      '/v1/customers/{customerId}/payment-methods': {
        post: command(
          'Save a payment method for off-session charges',
          'payments:write',
          SavePaymentMethodRequest,
          '202',
          Customer,
          [customerId],
        ),
      },
      '/v1/payments': {
        post: command('Create a payment', 'payments:write', CreatePaymentRequest, '201', Payment),
        get: query('List payments, newest first, with filters and a cursor', PaymentList, listParams, {
          '400': failure('A filter or the cursor is not valid'),
        }),
      },
      '/v1/payments/{paymentId}': {
        get: query('A payment with its event history', PaymentWithHistory, [paymentId], notFound),
      },
      '/v1/payments/{paymentId}/capture': {
        post: command(
          'Capture an authorised payment (partial allowed)',
          'payments:write',
          CapturePaymentRequest,
          '202',
          Payment,
          [paymentId],
        ),
      },
      '/v1/payments/{paymentId}/cancel': {
        post: command(
          'Cancel a payment that moved no money',
          'payments:write',
          CancelPaymentRequest,
          '202',
          Payment,
          [paymentId],
        ),
      },
      '/v1/payments/{paymentId}/refunds': {
        post: command(
          'Refund part or all of a captured payment',
          'payments:write',
          RefundPaymentRequest,
          '202',
          RefundAccepted,
          [paymentId],
        ),
      },
      '/health/live': {
        get: { summary: 'Liveness', security: [], responses: { '200': { description: 'alive' } } },
      },
      '/health/ready': {
        get: {
          summary: 'Readiness (database answers)',
          security: [],
          responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          security: [],
          responses: { '200': { description: 'text exposition' } },
        },
      },
    },
  };
}
