import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  EventStoreError,
  readStream,
  type CommandRequest,
  type CommandResponse,
} from '@payledger/event-store';
import { decideCustomer, toStoredData, type CustomerCommand, type CustomerState } from '@payledger/ledger';
import { foldCustomer } from '@payledger/projections';
import {
  LedgerId,
  RegisterCustomerRequest,
  SavePaymentMethodRequest,
  type Customer,
} from '@payledger/schemas';
import type { AppDeps } from '../app.ts';
import type { Credential } from '../auth/credentials.ts';
import { ApiError } from '../http/problems.ts';
import {
  fingerprintOf,
  idempotencyKeyOf,
  metadataOf,
  newId,
  ownedBy,
  requireScope,
} from '../http/requestContext.ts';
import { parseBody } from '../http/validation.ts';

function customerView(state: CustomerState, version: number): Customer {
  return {
    id: state.customerId ?? '',
    email: state.email ?? '',
    name: state.name ?? null,
    stripeCustomerId: state.stripeCustomerId,
    paymentMethods: state.paymentMethods.map((m) => ({ id: m.id, attached: m.attached })),
    defaultPaymentMethodId: state.defaultPaymentMethodId,
    version,
  };
}

/** Customer commands (POST, `payments:write`) and the customer query. */
export function registerCustomerRoutes(app: FastifyInstance, deps: AppDeps): void {
  const run = async (
    request: FastifyRequest,
    credential: Credential,
    customerId: string,
    command: CustomerCommand,
    statusCode: number,
  ): Promise<CommandResponse> => {
    const commandRequest: CommandRequest = {
      caller: credential.id,
      idempotencyKey: idempotencyKeyOf(request),
      fingerprint: fingerprintOf(request),
      streamId: customerId,
      streamType: 'customer',
      metadata: metadataOf(request, credential),
      decide(history) {
        if (!ownedBy(history, credential)) {
          // A writer acts on its own customers only; others' do not exist for it (the id is taken).
          throw command.type === 'RegisterCustomer'
            ? new ApiError('customer_already_exists', `the id ${customerId} is taken: choose another`)
            : new ApiError('customer_not_found', `no customer ${customerId}`);
        }
        const events = decideCustomer(command, foldCustomer(history));
        return {
          events: events.map((e) => ({ type: e.type, data: toStoredData(e) })),
          respond: (appended, prior) => {
            const all = [...prior, ...appended];
            return { statusCode, body: customerView(foldCustomer(all), all.length) };
          },
        };
      },
    };
    try {
      const result = await deps.batcher.submit(commandRequest);
      deps.metrics.commands.inc({ command: command.type, result: result.kind });
      return result.response;
    } catch (error) {
      deps.metrics.commands.inc({ command: command.type, result: 'rejected' });
      if (error instanceof EventStoreError && error.code === 'stream_type_mismatch') {
        // The id names another kind of object (a payment): no customer by that id.
        throw command.type === 'RegisterCustomer'
          ? new ApiError('customer_already_exists', `the id ${customerId} is taken: choose another`)
          : new ApiError('customer_not_found', `no customer ${customerId}`);
      }
      throw error;
    }
  };

  /** The customer id of the path; one that cannot be an id is a customer that does not exist. */
  const customerIdOf = (request: FastifyRequest): string => {
    const id = (request.params as { customerId?: string }).customerId ?? '';
    if (!LedgerId.safeParse(id).success) throw new ApiError('customer_not_found', 'no such customer');
    return id;
  };

  app.post('/v1/customers', async (request, reply) => {
    const credential = requireScope(request, 'payments:write');
    const body = parseBody(RegisterCustomerRequest, request.body);
    const customerId = body.customerId ?? newId('cust');
    const response = await run(
      request,
      credential,
      customerId,
      {
        type: 'RegisterCustomer',
        data: {
          customerId,
          email: body.email,
          name: body.name ?? null,
          metadata: body.metadata,
          now: new Date().toISOString(),
        },
      },
      201,
    );
    return reply
      .code(response.statusCode)
      .header('location', `/v1/customers/${customerId}`)
      .send(response.body);
  });

  app.post('/v1/customers/:customerId/payment-methods', async (request, reply) => {
    const credential = requireScope(request, 'payments:write');
    const customerId = customerIdOf(request);
    const body = parseBody(SavePaymentMethodRequest, request.body);
    const response = await run(
      request,
      credential,
      customerId,
      {
        type: 'SavePaymentMethod',
        data: {
          customerId,
          paymentMethodId: body.paymentMethodId,
          setAsDefault: body.setAsDefault,
          now: new Date().toISOString(),
        },
      },
      202,
    );
    return reply.code(response.statusCode).send(response.body);
  });

  app.get('/v1/customers/:customerId', async (request) => {
    const credential = requireScope(request, 'payments:write', 'ledger:read', 'audit:read');
    const customerId = customerIdOf(request);
    const history = await readStream(deps.db, customerId);
    if (history.length === 0 || history[0]?.streamType !== 'customer' || !ownedBy(history, credential)) {
      throw new ApiError('customer_not_found', `no customer ${customerId}`);
    }
    return customerView(foldCustomer(history), history.length);
  });
}
