import { z } from 'zod';
import {
  CancelPaymentRequest,
  CapturePaymentRequest,
  CreatePaymentRequest,
  Customer,
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

const json = (schema: z.ZodType, io: 'input' | 'output' = 'output') => ({
  'application/json': { schema: z.toJSONSchema(schema, { io, target: 'openapi-3.0' }) },
});
const problem = {
  'application/problem+json': { schema: z.toJSONSchema(Problem, { target: 'openapi-3.0' }) },
};
const errors = {
  '400': { description: 'Bad input; nothing stored', content: problem },
  '401': { description: 'No or wrong credential', content: problem },
  '403': { description: 'Credential lacks the scope', content: problem },
  '409': { description: 'Conflicts with the current state', content: problem },
  '413': { description: 'Body too large', content: problem },
  '415': { description: 'Not JSON', content: problem },
  '422': { description: 'Valid input the rules refuse', content: problem },
};
const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: true,
  description: 'Unique per command (1-255 visible ASCII). Same key + same body replays the first response.',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};
const paymentId = { name: 'paymentId', in: 'path', required: true, schema: { type: 'string' } };
const customerId = { name: 'customerId', in: 'path', required: true, schema: { type: 'string' } };
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
  responses: { [status]: { description: 'Accepted and durably stored', content: json(response) }, ...errors },
});
const query = (summary: string, response: z.ZodType, params: object[] = []) => ({
  summary,
  security: [{ bearer: ['payments:write'] }, { bearer: ['ledger:read'] }, { bearer: ['audit:read'] }],
  parameters: params,
  responses: { '200': { description: 'OK', content: json(response) }, ...errors },
});

/** The OpenAPI 3.0 document of the API, generated from the zod contracts (served at /openapi.json). */
export function openApiDocument() {
  const listParams = Object.entries(
    z.toJSONSchema(ListPaymentsQuery, { io: 'input', target: 'openapi-3.0' }).properties ?? {},
  ).map(([name, schema]) => ({ name, in: 'query', required: false, schema }));
  return {
    openapi: '3.0.3',
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
      '/v1/customers/{customerId}': { get: query('A customer', Customer, [customerId]) },
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
        get: query('List payments, newest first, with filters and a cursor', PaymentList, listParams),
      },
      '/v1/payments/{paymentId}': {
        get: query('A payment with its event history', PaymentWithHistory, [paymentId]),
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
