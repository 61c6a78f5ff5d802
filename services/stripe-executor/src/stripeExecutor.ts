import type { Kysely, Transaction } from 'kysely';
import {
  CommandBatcher,
  readStream,
  type CommandRequest,
  type Database,
  type StoredEvent,
} from '@payledger/event-store';
import {
  decideCustomer,
  decidePayment,
  evolvePayment,
  toStoredData,
  type CustomerEvent,
  type CustomerOutcome,
  type PaymentEvent,
  type PaymentOutcome,
  type PaymentState,
  type StripeOperation,
} from '@payledger/ledger';
import type { IncomingMessage, Publisher } from '@payledger/messaging';
import { foldCustomer, foldPayment, paymentSummaryRows } from '@payledger/projections';
import {
  idempotencyKey,
  notActedOn,
  type GatewayFailure,
  type IntentView,
  type StripeGateway,
} from '@payledger/stripe-gateway';
import type { ExecutorMetrics } from './executorMetrics.ts';
import { MessageReads } from './messageReads.ts';

/** Stripe may forget an idempotency key after 24 h: an older submission is looked up first. */
export const KEY_RETENTION_MS = 24 * 3600 * 1000;

/** The published event types that ask for a Stripe call. */
const HANDLED = new Set([
  'PaymentCreated.v1',
  'PaymentCaptureRequested.v1',
  'PaymentCancelRequested.v1',
  'RefundRequested.v1',
  'CustomerRegistered.v1',
  'PaymentMethodSaveRequested.v1',
]);

/** A failure to try again later (the message is redelivered; nothing was recorded as done). */
export class TransientError extends Error {
  override name = 'TransientError';
}

/**
 * Stripe did not act on the call (`notActedOn`: the gateway's circuit breaker is open, Stripe
 * rate-limits us, or the same key is still running): the message did not fail by itself, so this
 * delivery does not count toward dead-lettering. While Stripe is down or throttling, work waits
 * for it instead of being parked.
 */
export class StripePausedError extends TransientError {
  override name = 'StripePausedError';
}

/** The error for a failed call to retry later: paused when Stripe did not act on it. */
function retryLater(what: string, failure: GatewayFailure): TransientError {
  const message = `${what}: ${failure.code}: ${failure.message}`;
  return notActedOn(failure) ? new StripePausedError(message) : new TransientError(message);
}

/** A stream's history as this message's handling last saw it: refreshed by each of its writes. */
type History = readonly StoredEvent[];

interface Envelope {
  eventId: string;
  type: string;
  streamId: string;
  data: Record<string, unknown>;
  metadata: { correlationId: string };
}

export interface ExecutorDeps {
  readonly db: Kysely<Database>;
  readonly gateway: StripeGateway;
  readonly metrics: ExecutorMetrics;
  readonly deadLetter: Publisher;
  readonly deadLetterTopic: string;
  readonly maxDeliveries: number;
  /** Topic the outbox rows of the executor's outcome events are addressed to. */
  readonly eventsTopic: string;
  readonly now?: () => Date;
  readonly log?: (message: string) => void;
  /** Most ledger writes committed together in one transaction (group commit); default 500. */
  readonly maxWriteBatch?: number;
  /** Write transactions in flight at once, each holding a connection; default 2. */
  readonly maxWritesInFlight?: number;
  /** Told after each write transaction that committed events: the outbox relay's hint. */
  readonly onCommitted?: () => void;
}

/**
 * Turns ledger events into Stripe calls and Stripe's answers back into ledger events. Every call
 * is recorded (PaymentSubmitted with its attempt and key) before it is made; the key is a function
 * of (payment, operation, attempt), so after a crash or a redelivery the same call carries the
 * same key and Stripe replays instead of charging again. The inbox row of a message is written in
 * the same transaction as its last outcome; the consumer commits the offset only after that.
 */
export class StripeExecutor {
  readonly #deps: ExecutorDeps;
  readonly #deliveries = new Map<string, number>();
  readonly #writes: CommandBatcher;
  readonly #reads: MessageReads;
  /** Ledger customer -> Stripe customer: immutable once recorded (the first one recorded wins). */
  readonly #stripeCustomers = new Map<string, string>();
  /** Lookups (and creates) in progress, so concurrent payments of one customer share one. */
  readonly #customerLookups = new Map<string, Promise<string | null>>();

  constructor(deps: ExecutorDeps) {
    this.#deps = deps;
    // Group commit: the outcomes of many payments in flight share one transaction and one fsync;
    // each command is still decided alone on its stream's locked history and acked after COMMIT.
    this.#writes = new CommandBatcher(deps.db, {
      topic: deps.eventsTopic,
      summarize: paymentSummaryRows,
      maxBatch: deps.maxWriteBatch ?? 500,
      maxInFlight: deps.maxWritesInFlight ?? 2,
      ...(deps.onCommitted === undefined ? {} : { onCommitted: deps.onCommitted }),
    });
    this.#reads = new MessageReads(deps.db);
  }

  /** The consumer's handler: resolves when the message is durably handled (or dead-lettered). */
  async handle(message: IncomingMessage): Promise<void> {
    const type = message.headers['event-type'] ?? '';
    if (!HANDLED.has(type)) return;
    const envelope = JSON.parse(message.value) as Envelope;
    const { metrics } = this.#deps;
    const { seen, history } = await this.#reads.load(envelope.eventId, envelope.streamId);
    if (seen) {
      metrics.handled.inc({ result: 'duplicate' });
      return;
    }
    const deliveries = (this.#deliveries.get(envelope.eventId) ?? 0) + 1;
    this.#deliveries.set(envelope.eventId, deliveries);
    try {
      await this.#dispatch(envelope, history);
      this.#deliveries.delete(envelope.eventId);
      metrics.handled.inc({ result: 'applied' });
    } catch (error) {
      if (error instanceof StripePausedError) {
        // Nothing reached Stripe: handed over again later, as if this delivery had not happened.
        this.#deliveries.set(envelope.eventId, deliveries - 1);
        metrics.handled.inc({ result: 'retry' });
        throw error;
      }
      if (deliveries < this.#deps.maxDeliveries) {
        metrics.handled.inc({ result: 'retry' });
        throw error; // not committed: redelivered
      }
      // The partition keeps moving: park the message with its reason.
      await this.#deps.deadLetter.publish([
        {
          topic: this.#deps.deadLetterTopic,
          key: message.key ?? envelope.streamId,
          value: message.value,
          headers: {
            ...message.headers,
            'dlq-reason': (error as Error).message.slice(0, 500),
            'dlq-deliveries': String(deliveries),
          },
        },
      ]);
      await this.#markHandled(envelope, 'dead_lettered');
      this.#deliveries.delete(envelope.eventId);
      metrics.deadLettered.inc();
      metrics.handled.inc({ result: 'dead_lettered' });
      this.#deps.log?.(`dead-lettered ${envelope.type} ${envelope.eventId}: ${(error as Error).message}`);
    }
  }

  async #dispatch(e: Envelope, history: History): Promise<void> {
    switch (e.type) {
      case 'PaymentCreated.v1':
        return await this.#charge(e, history);
      case 'PaymentCaptureRequested.v1':
        return await this.#capture(e, history);
      case 'PaymentCancelRequested.v1':
        return await this.#cancel(e, history);
      case 'RefundRequested.v1':
        return await this.#refund(e, history);
      case 'CustomerRegistered.v1':
        await this.#stripeCustomer(e.streamId);
        return await this.#markHandled(e, 'applied');
      case 'PaymentMethodSaveRequested.v1':
        return await this.#attach(e);
      default:
        return await this.#markHandled(e, 'skipped');
    }
  }

  // --- payments ---------------------------------------------------------------------------------

  async #charge(e: Envelope, loaded: History): Promise<void> {
    const paymentId = e.streamId;
    let history = loaded;
    let state = foldPayment(history);
    if (state.status !== 'pending' || state.unknownOutcome !== null)
      return await this.#markHandled(e, 'skipped');
    if (state.cancelRequested && state.intentId === null) {
      // Canceled before anything reached Stripe: nothing to charge, nothing to call.
      return await this.#record(
        paymentId,
        history,
        { type: 'RecordCanceled', data: { paymentId, now: this.#now() } },
        e,
        'applied',
      );
    }
    if (state.intentId === null && this.#submittedBeforeRetention(history, 'create_intent')) {
      // Stripe may have forgotten the key: look for the intent before creating one.
      const found = await this.#deps.gateway.findIntents(paymentId);
      if (!found.ok) throw retryLater(`search intents of ${paymentId}`, found.failure);
      const existing = found.value[0];
      if (existing !== undefined) {
        history = await this.#recordSteps(paymentId, history, [
          () => ({
            type: 'RecordIntentCreated',
            data: { paymentId, intentId: existing.id, now: this.#now() },
          }),
        ]);
        state = foldPayment(history);
      }
    }
    if (state.intentId === null) {
      const customer = state.customerId === null ? null : await this.#stripeCustomer(state.customerId);
      const submitted = await this.#submit(paymentId, history, 'create_intent');
      history = submitted.history;
      state = foldPayment(history);
      const created = await this.#deps.gateway.createPaymentIntent(
        {
          paymentId,
          amount: Number(state.amount),
          currency: state.currency ?? 'USD',
          customer,
          paymentMethod: state.paymentMethodId ?? '',
          captureMethod: state.captureMethod ?? 'automatic',
          description: state.description,
        },
        idempotencyKey(paymentId, 'create_intent', submitted.attempt),
      );
      if (!created.ok)
        return await this.#paymentFailure(
          e,
          paymentId,
          history,
          'create_intent',
          submitted.attempt,
          created.failure,
        );
      // The intent id and the submission of the call that follows it (confirm, or cancel when a
      // cancel arrived meanwhile) in one transaction: both are decided on the locked history, so
      // the submission is durable before that call as before, one commit sooner.
      const intentId = created.value.id;
      const now = this.#now();
      history = await this.#recordSteps(paymentId, history, [
        () => ({ type: 'RecordIntentCreated', data: { paymentId, intentId, now } }),
        (after) => nextSubmission(paymentId, after, now),
      ]);
    }
    await this.#confirm(e, paymentId, history);
  }

  async #confirm(e: Envelope, paymentId: string, loaded: History): Promise<void> {
    let history = loaded;
    const state = foldPayment(history);
    const intentId = state.intentId as string;
    if (state.cancelRequested) {
      // A cancel arrived between create and confirm: cancel the intent instead of confirming it.
      const submitted = await this.#submit(paymentId, history, 'cancel');
      const { attempt } = submitted;
      const canceled = await this.#deps.gateway.cancelPaymentIntent(
        intentId,
        idempotencyKey(paymentId, 'cancel', attempt),
      );
      if (!canceled.ok)
        return await this.#paymentFailure(
          e,
          paymentId,
          submitted.history,
          'cancel',
          attempt,
          canceled.failure,
          intentId,
        );
      return await this.#applyIntent(e, paymentId, submitted.history, canceled.value);
    }
    let forced: number | undefined;
    if (this.#submittedBeforeRetention(history, 'confirm')) {
      // The confirm key may be forgotten by now: retrieve first, and only confirm what still needs it.
      const current = await this.#deps.gateway.retrievePaymentIntent(intentId);
      if (!current.ok) throw retryLater(`retrieve ${intentId}`, current.failure);
      if (
        current.value.status !== 'requires_confirmation' &&
        current.value.status !== 'requires_payment_method'
      ) {
        return await this.#applyIntent(e, paymentId, history, current.value);
      }
      forced = (state.attempts['confirm'] ?? 0) + 1;
    }
    const submitted = await this.#submit(paymentId, history, 'confirm', forced);
    history = submitted.history;
    let attempt = submitted.attempt;
    for (;;) {
      const result = await this.#deps.gateway.confirmPaymentIntent(
        intentId,
        state.offSession,
        idempotencyKey(paymentId, 'confirm', attempt),
      );
      if (result.ok) return await this.#applyIntent(e, paymentId, history, result.value);
      // processing_error: Stripe suggests one more try, as a new attempt with a new key.
      if (result.failure.retryWithNewAttempt && attempt === 1) {
        const again = await this.#submit(paymentId, history, 'confirm', 2);
        history = again.history;
        attempt = again.attempt;
        continue;
      }
      return await this.#paymentFailure(e, paymentId, history, 'confirm', attempt, result.failure, intentId);
    }
  }

  /** Records what a PaymentIntent's state says. */
  async #applyIntent(e: Envelope, paymentId: string, history: History, pi: IntentView): Promise<void> {
    const now = this.#now();
    let outcome: PaymentOutcome | null = null;
    switch (pi.status) {
      case 'succeeded':
        outcome = {
          type: 'RecordSucceeded',
          data: {
            paymentId,
            intentId: pi.id,
            chargeId: pi.latestCharge,
            amount: BigInt(pi.amountReceived),
            now,
          },
        };
        this.#deps.metrics.outcomes.inc({ result: 'succeeded', decline_code: '' });
        break;
      case 'requires_capture':
        outcome = {
          type: 'RecordAuthorized',
          data: { paymentId, intentId: pi.id, amount: BigInt(pi.amountCapturable), now },
        };
        this.#deps.metrics.outcomes.inc({ result: 'authorized', decline_code: '' });
        break;
      case 'requires_action':
        outcome = {
          type: 'RecordRequiresAction',
          data: {
            paymentId,
            intentId: pi.id,
            nextAction: pi.nextAction ?? { type: 'use_stripe_sdk', redirectUrl: null },
            now,
          },
        };
        this.#deps.metrics.outcomes.inc({ result: 'requires_action', decline_code: '' });
        break;
      case 'canceled':
        outcome = { type: 'RecordCanceled', data: { paymentId, now } };
        break;
      case 'requires_payment_method':
        if (pi.lastError !== null) {
          outcome = {
            type: 'RecordFailed',
            data: {
              paymentId,
              code: pi.lastError.code,
              declineCode: pi.lastError.declineCode,
              message: pi.lastError.message,
              now,
            },
          };
        }
        break;
      default:
        // processing / requires_confirmation: the webhook or the reconciler will tell.
        break;
    }
    await this.#record(paymentId, history, outcome, e, 'applied');
  }

  async #paymentFailure(
    e: Envelope,
    paymentId: string,
    history: History,
    operation: StripeOperation,
    attempt: number,
    failure: GatewayFailure,
    intentId?: string,
  ): Promise<void> {
    const now = this.#now();
    switch (failure.kind) {
      case 'declined':
      case 'rejected':
        this.#deps.metrics.outcomes.inc({
          result: 'failed',
          decline_code: failure.declineCode ?? failure.code,
        });
        if (operation === 'create_intent' || operation === 'confirm') {
          return await this.#record(
            paymentId,
            history,
            {
              type: 'RecordFailed',
              data: {
                paymentId,
                code: failure.code,
                declineCode: failure.declineCode,
                message: failure.message,
                now,
              },
            },
            e,
            'applied',
          );
        }
        return await this.#record(
          paymentId,
          history,
          {
            type: 'RecordDiscrepancy',
            data: {
              paymentId,
              field: operation,
              ledgerValue: 'requested',
              stripeValue: `${failure.code}: ${failure.message}`,
              now,
            },
          },
          e,
          'applied',
        );
      case 'needs_customer':
        this.#deps.metrics.outcomes.inc({
          result: 'requires_action',
          decline_code: failure.declineCode ?? failure.code,
        });
        return await this.#record(
          paymentId,
          history,
          {
            type: 'RecordRequiresAction',
            data: {
              paymentId,
              intentId: intentId ?? '',
              nextAction: { type: failure.code, redirectUrl: null },
              now,
            },
          },
          e,
          'applied',
        );
      case 'check_state': {
        if (intentId === undefined) throw retryLater(operation, failure);
        const current = await this.#deps.gateway.retrievePaymentIntent(intentId);
        if (!current.ok) throw retryLater(`retrieve after ${operation}`, current.failure);
        return await this.#applyIntent(e, paymentId, history, current.value);
      }
      case 'unknown_outcome':
        // The charge may have happened: never guess, never create a new intent. Reconciliation decides.
        return await this.#record(
          paymentId,
          history,
          {
            type: 'RecordOutcomeUnknown',
            data: {
              paymentId,
              operation,
              attempt,
              idempotencyKey: idempotencyKey(paymentId, operation, attempt),
              reason: `${failure.code}: ${failure.message}`,
              now,
            },
          },
          e,
          'applied',
        );
      case 'retryable':
      case 'auth':
      case 'our_bug':
        throw retryLater(`${operation} ${failure.kind}`, failure);
      default: {
        const never: never = failure.kind;
        throw new Error(`unhandled failure kind ${String(never)}`);
      }
    }
  }

  async #capture(e: Envelope, history: History): Promise<void> {
    const paymentId = e.streamId;
    const state = foldPayment(history);
    if (state.status !== 'authorized' || state.intentId === null || state.captureRequested === null)
      return await this.#markHandled(e, 'skipped');
    const submitted = await this.#submit(paymentId, history, 'capture');
    const { attempt } = submitted;
    const result = await this.#deps.gateway.capturePaymentIntent(
      state.intentId,
      Number(state.captureRequested),
      idempotencyKey(paymentId, 'capture', attempt),
    );
    if (!result.ok)
      return await this.#paymentFailure(
        e,
        paymentId,
        submitted.history,
        'capture',
        attempt,
        result.failure,
        state.intentId,
      );
    await this.#record(
      paymentId,
      submitted.history,
      {
        type: 'RecordCaptured',
        data: { paymentId, amount: BigInt(result.value.amountReceived), now: this.#now() },
      },
      e,
      'applied',
    );
  }

  async #cancel(e: Envelope, history: History): Promise<void> {
    const paymentId = e.streamId;
    const state = foldPayment(history);
    if (state.status === 'canceled' || state.status === 'failed' || state.status === 'succeeded')
      return await this.#markHandled(e, 'skipped');
    if (state.intentId === null) {
      // Nothing was sent to Stripe: the cancel is ours alone.
      return await this.#record(
        paymentId,
        history,
        { type: 'RecordCanceled', data: { paymentId, now: this.#now() } },
        e,
        'applied',
      );
    }
    const submitted = await this.#submit(paymentId, history, 'cancel');
    const { attempt } = submitted;
    const result = await this.#deps.gateway.cancelPaymentIntent(
      state.intentId,
      idempotencyKey(paymentId, 'cancel', attempt),
    );
    if (!result.ok)
      return await this.#paymentFailure(
        e,
        paymentId,
        submitted.history,
        'cancel',
        attempt,
        result.failure,
        state.intentId,
      );
    await this.#applyIntent(e, paymentId, submitted.history, result.value);
  }

  async #refund(e: Envelope, history: History): Promise<void> {
    const paymentId = e.streamId;
    const refundId = String(e.data['refundId']);
    const state = foldPayment(history);
    const amount = state.pendingRefunds[refundId];
    if (amount === undefined || state.intentId === null) return await this.#markHandled(e, 'skipped');
    const operation: StripeOperation = `refund:${refundId}`;
    const submitted = await this.#submit(paymentId, history, operation);
    const { attempt } = submitted;
    const result = await this.#deps.gateway.createRefund(
      { intentId: state.intentId, amount: Number(amount), refundId },
      idempotencyKey(paymentId, operation, attempt),
    );
    if (!result.ok) {
      if (result.failure.kind === 'declined' || result.failure.kind === 'rejected') {
        return await this.#record(
          paymentId,
          submitted.history,
          {
            type: 'RecordRefundFailed',
            data: {
              paymentId,
              refundId,
              reason: `${result.failure.code}: ${result.failure.message}`,
              now: this.#now(),
            },
          },
          e,
          'applied',
        );
      }
      return await this.#paymentFailure(
        e,
        paymentId,
        submitted.history,
        operation,
        attempt,
        result.failure,
        state.intentId,
      );
    }
    const now = this.#now();
    const outcome: PaymentOutcome | null =
      result.value.status === 'succeeded'
        ? {
            type: 'RecordRefunded',
            data: {
              paymentId,
              refundId,
              stripeRefundId: result.value.id,
              amount: BigInt(result.value.amount),
              now,
            },
          }
        : result.value.status === 'failed' || result.value.status === 'canceled'
          ? { type: 'RecordRefundFailed', data: { paymentId, refundId, reason: result.value.status, now } }
          : null; // pending: refund.updated / refund.failed webhooks finish it
    await this.#record(paymentId, submitted.history, outcome, e, 'applied');
  }

  // --- customers --------------------------------------------------------------------------------

  /**
   * The Stripe customer of a ledger customer, created (idempotently) when missing. Cached once
   * known: the first Stripe customer recorded for a ledger customer is the one for good.
   */
  async #stripeCustomer(customerId: string): Promise<string | null> {
    const known = this.#stripeCustomers.get(customerId);
    if (known !== undefined) return known;
    let lookup = this.#customerLookups.get(customerId);
    if (lookup === undefined) {
      lookup = this.#lookUpStripeCustomer(customerId).finally(() => this.#customerLookups.delete(customerId));
      this.#customerLookups.set(customerId, lookup);
    }
    return await lookup;
  }

  async #lookUpStripeCustomer(customerId: string): Promise<string | null> {
    const history = await readStream(this.#deps.db, customerId);
    const state = foldCustomer(history);
    if (!state.exists) return null;
    if (state.stripeCustomerId !== null) {
      this.#stripeCustomers.set(customerId, state.stripeCustomerId);
      return state.stripeCustomerId;
    }
    const created = await this.#deps.gateway.createCustomer(
      { ledgerCustomerId: customerId, email: state.email ?? '', name: state.name },
      idempotencyKey(customerId, 'create_customer', 1),
    );
    if (!created.ok) throw retryLater(`create customer ${customerId}`, created.failure);
    const recorded = foldCustomer(
      await this.#recordCustomer(customerId, {
        type: 'RecordStripeCustomer',
        data: { customerId, stripeCustomerId: created.value.id, now: this.#now() },
      }),
    );
    // Whoever recorded first wins (a concurrent executor may have): use what the ledger holds.
    const id = recorded.stripeCustomerId ?? created.value.id;
    this.#stripeCustomers.set(customerId, id);
    return id;
  }

  async #attach(e: Envelope): Promise<void> {
    const customerId = e.streamId;
    const paymentMethodId = String(e.data['paymentMethodId']);
    const stripeCustomer = await this.#stripeCustomer(customerId);
    if (stripeCustomer === null) return await this.#markHandled(e, 'skipped');
    const result = await this.#deps.gateway.attachPaymentMethod(
      paymentMethodId,
      stripeCustomer,
      e.data['setAsDefault'] === true,
      idempotencyKey(customerId, `attach:${paymentMethodId}`, 1),
    );
    const now = this.#now();
    if (!result.ok && result.failure.kind !== 'declined' && result.failure.kind !== 'rejected') {
      throw retryLater(`attach ${paymentMethodId}`, result.failure);
    }
    const outcome: CustomerOutcome = result.ok
      ? { type: 'RecordPaymentMethodAttached', data: { customerId, paymentMethodId, now } }
      : {
          type: 'RecordPaymentMethodAttachFailed',
          data: {
            customerId,
            paymentMethodId,
            code: result.failure.code,
            message: result.failure.message,
            now,
          },
        };
    await this.#recordCustomer(customerId, outcome, e);
  }

  // --- ledger writes ----------------------------------------------------------------------------

  /** True when the last submission of `operation` in `history` is older than Stripe's key retention. */
  #submittedBeforeRetention(history: History, operation: StripeOperation): boolean {
    const last = history.findLast(
      (ev) => ev.type === 'PaymentSubmitted' && ev.data['operation'] === operation,
    );
    if (last === undefined) return false;
    const now = this.#deps.now?.() ?? new Date();
    return now.getTime() - Date.parse(String(last.data['at'])) > KEY_RETENTION_MS;
  }

  /**
   * Records the call about to be made and returns its attempt number (and the history after it):
   * the last submitted attempt when it has no outcome yet (a crash or redelivery: same key), else
   * a new one. Resolves only once the submission is committed: record, then call.
   */
  async #submit(
    paymentId: string,
    history: History,
    operation: StripeOperation,
    forced?: number,
  ): Promise<{ attempt: number; history: History }> {
    const last = foldPayment(history).attempts[operation];
    const attempt = forced ?? last ?? 1;
    if (last === attempt) return { attempt, history };
    const now = this.#now();
    const after = await this.#recordSteps(paymentId, history, [
      () => submission(paymentId, operation, attempt, now),
    ]);
    return { attempt, history: after };
  }

  /** Appends a payment outcome (none = just mark handled); with `handled`, its inbox row joins the transaction. */
  async #record(
    paymentId: string,
    held: History,
    outcome: PaymentOutcome | null,
    handled?: Envelope,
    result = 'applied',
  ): Promise<void> {
    await this.#recordSteps(paymentId, held, outcome === null ? [] : [() => outcome], handled, result);
  }

  /**
   * Appends outcomes decided one after another in ONE command on the stream's locked history,
   * each step seeing the state left by the ones before it (a step may return null: nothing).
   * Returns the stream's history after the command: what it was decided on plus what it appended.
   */
  async #recordSteps(
    paymentId: string,
    held: History,
    steps: readonly ((state: PaymentState) => PaymentOutcome | null)[],
    handled?: Envelope,
    result = 'applied',
  ): Promise<History> {
    const fingerprint = steps.length === 0 ? 'none' : 'steps';
    return await this.#append(paymentId, 'payment', fingerprint, held, handled, result, (history) => {
      let state = foldPayment(history);
      const events: PaymentEvent[] = [];
      for (const step of steps) {
        const outcome = step(state);
        if (outcome === null) continue;
        for (const ev of decidePayment(outcome, state)) {
          events.push(ev);
          state = evolvePayment(state, ev);
        }
      }
      return events;
    });
  }

  async #recordCustomer(customerId: string, outcome: CustomerOutcome, handled?: Envelope): Promise<History> {
    return await this.#append(
      customerId,
      'customer',
      outcome.type,
      undefined,
      handled,
      'applied',
      (history) => decideCustomer(outcome, foldCustomer(history)),
    );
  }

  /**
   * One command appended as the executor through the group commit, decided on the stream's
   * latest (locked) history; with `handled`, the message's inbox row is written in the same
   * transaction exactly when the command succeeds. Resolves after COMMIT with the stream's history
   * after the command; rejects with the command's error (nothing of it was written).
   */
  async #append(
    streamId: string,
    streamType: 'payment' | 'customer',
    fingerprint: string,
    held: History | undefined,
    handled: Envelope | undefined,
    result: string,
    decide: (history: readonly StoredEvent[]) => readonly (PaymentEvent | CustomerEvent)[],
  ): Promise<History> {
    // The history the command was decided on, as executeCommands handed it over under the lock.
    let decidedOn: readonly StoredEvent[] = [];
    const request: CommandRequest = {
      caller: 'stripe-executor',
      idempotencyKey: null,
      fingerprint,
      streamId,
      streamType,
      // What this message's handling already holds of the stream: the batch reads only what
      // came after it (nothing, unless another writer appended meanwhile).
      knownHistory: held,
      metadata: {
        actor: 'stripe-executor',
        correlationId: handled?.metadata.correlationId ?? streamId,
        causationId: handled?.eventId ?? null,
      },
      decide: (history) => {
        decidedOn = history;
        return {
          events: decide(history).map((ev) => ({ type: ev.type, data: toStoredData(ev) })),
          respond: () => ({ statusCode: 200, body: null }),
        };
      },
      inbox:
        handled === undefined
          ? undefined
          : {
              eventId: handled.eventId,
              eventType: handled.type,
              streamId: handled.streamId,
              outcome: result,
            },
    };
    const settled = await this.#writes.submit(request);
    return settled.kind === 'applied' ? [...decidedOn, ...settled.events] : decidedOn;
  }

  async #markHandled(e: Envelope, result: string): Promise<void> {
    await this.#deps.db.transaction().execute((trx) => insertInbox(trx, e, result));
  }

  #now(): string {
    return (this.#deps.now?.() ?? new Date()).toISOString();
  }
}

async function insertInbox(trx: Transaction<Database>, e: Envelope, outcome: string): Promise<void> {
  await trx
    .insertInto('executor_inbox')
    .values({ event_id: e.eventId, event_type: e.type, stream_id: e.streamId, outcome })
    .onConflict((oc) => oc.column('event_id').doNothing())
    .execute();
}

/**
 * The submission of the call that follows an intent's creation: cancel if a cancel was requested
 * meanwhile, else confirm; the attempt is the last one without an outcome, else the first.
 */
function nextSubmission(paymentId: string, state: PaymentState, now: string): PaymentOutcome | null {
  const operation: StripeOperation = state.cancelRequested ? 'cancel' : 'confirm';
  const last = state.attempts[operation];
  const attempt = last ?? 1;
  if (last === attempt) return null;
  return submission(paymentId, operation, attempt, now);
}

/** The record of a Stripe call about to be made, with its deterministic idempotency key. */
function submission(
  paymentId: string,
  operation: StripeOperation,
  attempt: number,
  now: string,
): PaymentOutcome {
  return {
    type: 'RecordSubmission',
    data: {
      paymentId,
      operation,
      attempt,
      idempotencyKey: idempotencyKey(paymentId, operation, attempt),
      now,
    },
  };
}
