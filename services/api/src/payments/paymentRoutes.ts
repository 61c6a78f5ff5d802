import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import {
  EventStoreError,
  readStream,
  type CommandRequest,
  type CommandResponse,
  type StoredEvent,
} from '@payledger/event-store';
import {
  decidePayment,
  parseCurrency,
  toStoredData,
  type PaymentCommand,
  type PaymentState,
} from '@payledger/ledger';
import { foldCustomer, foldPayment } from '@payledger/projections';
import {
  CancelPaymentRequest,
  CapturePaymentRequest,
  CreatePaymentRequest,
  LedgerId,
  ListPaymentsQuery,
  RefundPaymentRequest,
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
  readsAll,
  requireScope,
} from '../http/requestContext.ts';
import { parseBody } from '../http/validation.ts';
import { historyView, paymentView } from './paymentView.ts';

/** Payment commands (POST, `payments:write`) and queries (GET). */
export function registerPaymentRoutes(app: FastifyInstance, deps: AppDeps): void {
  /** Customers seen to exist, with the writer that registered them (customers are never deleted). */
  const knownCustomers = new Map<string, string>();
  /** Runs a payment command through group commit and answers with its (possibly replayed) response. */
  const run = async (
    request: FastifyRequest,
    credential: Credential,
    paymentId: string,
    commandName: string,
    command: PaymentCommand,
    respond: (state: PaymentState, history: readonly StoredEvent[]) => CommandResponse,
    newStream = false,
  ): Promise<CommandResponse> => {
    const commandRequest: CommandRequest = {
      caller: credential.id,
      idempotencyKey: idempotencyKeyOf(request),
      fingerprint: fingerprintOf(request),
      streamId: paymentId,
      streamType: 'payment',
      metadata: metadataOf(request, credential),
      newStream,
      decide(history) {
        if (!ownedBy(history, credential)) {
          // A writer acts on its own payments only; others' do not exist for it.
          throw new ApiError('payment_not_found', `no payment ${paymentId}`);
        }
        const events = decidePayment(command, foldPayment(history));
        return {
          events: events.map((e) => ({ type: e.type, data: toStoredData(e) })),
          respond: (appended, prior) => {
            const all = [...prior, ...appended];
            return respond(foldPayment(all), all);
          },
        };
      },
    };
    try {
      const result = await deps.batcher.submit(commandRequest);
      deps.metrics.commands.inc({ command: commandName, result: result.kind });
      return result.response;
    } catch (error) {
      deps.metrics.commands.inc({ command: commandName, result: 'rejected' });
      if (error instanceof EventStoreError && error.code === 'stream_type_mismatch') {
        // The id names another kind of object (a customer): no payment by that id.
        throw new ApiError('payment_not_found', `no payment ${paymentId}`);
      }
      throw error;
    }
  };

  app.post('/v1/payments', async (request, reply) => {
    const credential = requireScope(request, 'payments:write');
    const body = parseBody(CreatePaymentRequest, request.body);
    const currency = parseCurrency(body.currency);
    idempotencyKeyOf(request);
    // The customer must be known; off-session charges need a saved method (the default if none given).
    let paymentMethodId = body.paymentMethodId ?? null;
    // Customers are never deleted: one seen to exist still does (saves a read per command).
    const owner = knownCustomers.get(body.customerId);
    if (owner !== undefined && owner !== credential.id && !readsAll(credential)) {
      throw new ApiError('customer_not_found', `no customer ${body.customerId}: register it first`);
    }
    if (body.offSession || owner === undefined) {
      const history = await readStream(deps.db, body.customerId);
      // Another kind of object's id (a payment's), or another writer's customer, is no customer.
      const customer = foldCustomer(
        history[0]?.streamType === 'customer' && ownedBy(history, credential) ? history : [],
      );
      if (!customer.exists) {
        throw new ApiError('customer_not_found', `no customer ${body.customerId}: register it first`);
      }
      if (knownCustomers.size >= 100_000) knownCustomers.clear();
      knownCustomers.set(body.customerId, history[0]?.metadata.actor ?? '');
      if (body.offSession) {
        paymentMethodId ??= customer.defaultPaymentMethodId;
        if (paymentMethodId === null || !customer.paymentMethods.some((m) => m.id === paymentMethodId)) {
          throw new ApiError(
            'payment_method_not_saved',
            `off-session charges need a payment method saved for customer ${body.customerId} (POST /v1/customers/{id}/payment-methods)`,
          );
        }
      }
    }
    if (paymentMethodId === null) {
      throw new ApiError('invalid_request', 'paymentMethodId is required unless offSession is true', [
        { path: 'paymentMethodId', message: 'required' },
      ]);
    }
    const paymentId = newId('pay');
    const response = await run(
      request,
      credential,
      paymentId,
      'CreatePayment',
      {
        type: 'CreatePayment',
        data: {
          paymentId,
          customerId: body.customerId,
          paymentMethodId,
          amount: BigInt(body.amount),
          currency,
          captureMethod: body.captureMethod,
          offSession: body.offSession,
          description: body.description ?? null,
          metadata: body.metadata,
          now: new Date().toISOString(),
        },
      },
      (state, history) => ({ statusCode: 201, body: paymentView(state, history) }),
      // The id was made just now (newId: 128 random bits): one round trip, no read.
      true,
    );
    // A replay answers with the payment the key made first, not the id drawn for this request.
    const createdId = (response.body as { id?: string }).id ?? paymentId;
    return reply
      .code(response.statusCode)
      .header('location', `/v1/payments/${createdId}`)
      .send(response.body);
  });

  const paymentIdOf = (request: FastifyRequest): string => {
    const id = (request.params as { paymentId?: string }).paymentId ?? '';
    if (!LedgerId.safeParse(id).success) throw new ApiError('payment_not_found', `no payment ${id}`);
    return id;
  };

  app.post('/v1/payments/:paymentId/capture', async (request, reply) => {
    const credential = requireScope(request, 'payments:write');
    const paymentId = paymentIdOf(request);
    const body = parseBody(CapturePaymentRequest, request.body ?? {});
    const response = await run(
      request,
      credential,
      paymentId,
      'CapturePayment',
      {
        type: 'CapturePayment',
        data: {
          paymentId,
          amount: body.amount === undefined ? null : BigInt(body.amount),
          now: new Date().toISOString(),
        },
      },
      (state, history) => ({ statusCode: 202, body: paymentView(state, history) }),
    );
    return reply.code(response.statusCode).send(response.body);
  });

  app.post('/v1/payments/:paymentId/cancel', async (request, reply) => {
    const credential = requireScope(request, 'payments:write');
    const paymentId = paymentIdOf(request);
    const body = parseBody(CancelPaymentRequest, request.body ?? {});
    const response = await run(
      request,
      credential,
      paymentId,
      'CancelPayment',
      {
        type: 'CancelPayment',
        data: { paymentId, reason: body.reason ?? null, now: new Date().toISOString() },
      },
      (state, history) => ({ statusCode: 202, body: paymentView(state, history) }),
    );
    return reply.code(response.statusCode).send(response.body);
  });

  app.post('/v1/payments/:paymentId/refunds', async (request, reply) => {
    const credential = requireScope(request, 'payments:write');
    const paymentId = paymentIdOf(request);
    const body = parseBody(RefundPaymentRequest, request.body ?? {});
    const refundId = newId('rf');
    const response = await run(
      request,
      credential,
      paymentId,
      'RefundPayment',
      {
        type: 'RefundPayment',
        data: {
          paymentId,
          refundId,
          amount: body.amount === undefined ? null : BigInt(body.amount),
          reason: body.reason ?? null,
          now: new Date().toISOString(),
        },
      },
      (state, history) => {
        const requested = [...history].reverse().find((e) => e.type === 'RefundRequested');
        return {
          statusCode: 202,
          body: {
            refundId,
            amount: Number(requested?.data['amount'] ?? 0),
            payment: paymentView(state, history),
          },
        };
      },
    );
    return reply.code(response.statusCode).send(response.body);
  });

  app.get('/v1/payments/:paymentId', async (request) => {
    const credential = requireScope(request, 'payments:write', 'ledger:read', 'audit:read');
    const paymentId = paymentIdOf(request);
    const history = await readStream(deps.db, paymentId);
    if (history.length === 0 || history[0]?.streamType !== 'payment' || !ownedBy(history, credential)) {
      throw new ApiError('payment_not_found', `no payment ${paymentId}`);
    }
    return { payment: paymentView(foldPayment(history), history), events: history.map(historyView) };
  });

  app.get('/v1/payments', async (request) => {
    const credential = requireScope(request, 'payments:write', 'ledger:read', 'audit:read');
    const query = parseBody(ListPaymentsQuery, request.query ?? {});
    let q = deps.db.selectFrom('payment_summaries').select('payment_id');
    if (!readsAll(credential)) q = q.where('created_by', '=', credential.id);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    if (query.customerId !== undefined) q = q.where('customer_id', '=', query.customerId);
    if (query.currency !== undefined) q = q.where('currency', '=', parseCurrency(query.currency));
    if (query.createdFrom !== undefined) q = q.where('created_at', '>=', new Date(query.createdFrom));
    if (query.createdTo !== undefined) q = q.where('created_at', '<', new Date(query.createdTo));
    if (query.cursor !== undefined) {
      const cursor = decodeCursor(query.cursor);
      q = q.where(
        sql<boolean>`(created_at, payment_id) < (${cursor.createdAt}::timestamptz, ${cursor.paymentId})`,
      );
    }
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('payment_id', 'desc')
      .limit(query.limit + 1)
      .execute();
    const page = rows.slice(0, query.limit);
    const payments = await Promise.all(
      page.map(async (r) => {
        const history = await readStream(deps.db, r.payment_id);
        return paymentView(foldPayment(history), history);
      }),
    );
    const last = payments[payments.length - 1];
    const nextCursor =
      rows.length > query.limit && last !== undefined ? encodeCursor(last.createdAt, last.id) : null;
    return { data: payments, nextCursor };
  });
}

function encodeCursor(createdAt: string, paymentId: string): string {
  return Buffer.from(JSON.stringify([createdAt, paymentId])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; paymentId: string } {
  try {
    const [createdAt, paymentId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    // Exactly what encodeCursor wrote: an ISO instant JavaScript writes back the same way (so
    // PostgreSQL reads it too) and an id of the id alphabet (no NUL, nothing to inject).
    if (
      typeof createdAt === 'string' &&
      typeof paymentId === 'string' &&
      LedgerId.safeParse(paymentId).success &&
      isIsoInstant(createdAt)
    ) {
      return { createdAt, paymentId };
    }
  } catch {
    // fall through
  }
  throw new ApiError('invalid_request', 'cursor is not one this API returned', [
    { path: 'cursor', message: 'invalid' },
  ]);
}

function isIsoInstant(text: string): boolean {
  const time = Date.parse(text);
  return !Number.isNaN(time) && new Date(time).toISOString() === text;
}
