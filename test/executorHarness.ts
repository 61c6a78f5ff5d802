// Helpers for the executor's integration tests: write commands like the API does.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { executeCommands, readStream, type CommandRequest, type Database } from '@payledger/event-store';
import {
  decideCustomer,
  decidePayment,
  evolvePayment,
  toStoredData,
  type CustomerCommand,
  type PaymentCommand,
  type PaymentEvent,
} from '@payledger/ledger';
import { foldCustomer, foldPayment, paymentSummaryRows } from '@payledger/projections';

async function run(db: Kysely<Database>, topic: string, request: CommandRequest): Promise<void> {
  await runAll(db, topic, [request]);
}

async function runAll(db: Kysely<Database>, topic: string, requests: CommandRequest[]): Promise<void> {
  const results = await executeCommands(db, requests, { topic, summarize: paymentSummaryRows });
  for (const r of results) if (!r.ok) throw r.error;
}

const meta = { actor: 'test', correlationId: 'corr', causationId: null };

export async function registerCustomer(
  db: Kysely<Database>,
  topic: string,
  customerId = `cust_${randomBytes(4).toString('hex')}`,
): Promise<string> {
  const command: CustomerCommand = {
    type: 'RegisterCustomer',
    data: {
      customerId,
      email: `${customerId}@example.com`,
      name: null,
      metadata: {},
      now: new Date().toISOString(),
    },
  };
  await run(db, topic, {
    caller: 'test',
    idempotencyKey: null,
    fingerprint: 'x',
    streamId: customerId,
    streamType: 'customer',
    metadata: meta,
    decide: (h) => ({
      events: decideCustomer(command, foldCustomer(h)).map((e) => ({ type: e.type, data: toStoredData(e) })),
      respond: () => ({ statusCode: 201, body: null }),
    }),
  });
  return customerId;
}

export async function paymentCommand(
  db: Kysely<Database>,
  topic: string,
  paymentId: string,
  command: PaymentCommand,
): Promise<void> {
  await run(db, topic, {
    caller: 'test',
    idempotencyKey: null,
    fingerprint: 'x',
    streamId: paymentId,
    streamType: 'payment',
    metadata: meta,
    decide: (h) => ({
      events: decidePayment(command, foldPayment(h)).map((e) => ({ type: e.type, data: toStoredData(e) })),
      respond: () => ({ statusCode: 201, body: null }),
    }),
  });
}

/** Appends domain events as they are (to build a past the executor must cope with). */
export async function appendEvents(
  db: Kysely<Database>,
  topic: string,
  paymentId: string,
  events: PaymentEvent[],
): Promise<void> {
  await run(db, topic, {
    caller: 'test',
    idempotencyKey: null,
    fingerprint: 'x',
    streamId: paymentId,
    streamType: 'payment',
    metadata: meta,
    decide: () => ({
      events: events.map((e) => ({ type: e.type, data: toStoredData(e) })),
      respond: () => ({ statusCode: 201, body: null }),
    }),
  });
}

export async function createPayment(
  db: Kysely<Database>,
  topic: string,
  customerId: string,
  paymentMethodId: string,
  over: PaymentOverrides = {},
): Promise<string> {
  const command = newPayment(customerId, paymentMethodId, over);
  await paymentCommand(db, topic, command.data.paymentId, command);
  return command.data.paymentId;
}

export async function paymentState(db: Kysely<Database>, paymentId: string) {
  const history = await readStream(db, paymentId);
  return { state: foldPayment(history), types: history.map((e) => e.type), history };
}

/**
 * Writes several payments' commands in ONE transaction (each payment's commands in the given
 * order), so the relay publishes them together: the executor gets them in the same fetches,
 * several messages of one payment among other payments' messages.
 */
export async function paymentCommandsAtOnce(
  db: Kysely<Database>,
  topic: string,
  payments: readonly { paymentId: string; commands: readonly PaymentCommand[] }[],
): Promise<void> {
  await runAll(
    db,
    topic,
    payments.map(({ paymentId, commands }) => ({
      caller: 'test',
      idempotencyKey: null,
      fingerprint: 'x',
      streamId: paymentId,
      streamType: 'payment',
      metadata: meta,
      decide: (h) => {
        let state = foldPayment(h);
        const events: PaymentEvent[] = [];
        for (const command of commands) {
          for (const e of decidePayment(command, state)) {
            events.push(e);
            state = evolvePayment(state, e);
          }
        }
        return {
          events: events.map((e) => ({ type: e.type, data: toStoredData(e) })),
          respond: () => ({ statusCode: 201, body: null }),
        };
      },
    })),
  );
}

/** What a test may change in a new payment (the rest: 20.00 USD, automatic capture, on-session). */
export interface PaymentOverrides {
  amount?: bigint;
  captureMethod?: 'automatic' | 'manual';
  offSession?: boolean;
}

/** A CreatePayment command for a new payment id. */
export function newPayment(
  customerId: string,
  paymentMethodId = 'pm_card_visa',
  over: PaymentOverrides = {},
): PaymentCommand & { type: 'CreatePayment' } {
  const paymentId = `pay_${randomBytes(6).toString('hex')}`;
  return {
    type: 'CreatePayment',
    data: {
      paymentId,
      customerId,
      paymentMethodId,
      amount: over.amount ?? 2000n,
      currency: 'USD',
      captureMethod: over.captureMethod ?? 'automatic',
      offSession: over.offSession ?? false,
      description: null,
      metadata: {},
      now: new Date().toISOString(),
    },
  };
}
