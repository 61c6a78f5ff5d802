import { LedgerError } from '../errors.ts';
import type { Account, Posting } from '../journal/postings.ts';
import { money, type Currency } from '../money/money.ts';
import type {
  CancelPayment,
  CaptureMethod,
  CapturePayment,
  CreatePayment,
  Metadata,
  PaymentCommand,
  PaymentOutcome,
  RefundPayment,
  StripeOperation,
} from './paymentCommands.ts';
import type { PaymentEvent } from './paymentEvents.ts';

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

/** Where a payment is. `failed` and `canceled` are terminal; `succeeded` means money was captured. */
export type PaymentStatus =
  'pending' | 'requires_action' | 'authorized' | 'succeeded' | 'failed' | 'canceled';

/**
 * Forward order of the statuses: a fact never moves a payment to a lower rank, and nothing moves
 * it out of a terminal one (`failed`, `canceled`).
 */
export const statusRank = {
  pending: 0,
  requires_action: 1,
  authorized: 2,
  succeeded: 3,
  failed: 4,
  canceled: 4,
} as const satisfies Record<PaymentStatus, number>;

/** A Stripe call whose result is not known yet (timeout, 5xx after retries): the reconciler resolves it. */
export interface UnknownOutcome {
  readonly operation: StripeOperation;
  readonly attempt: number;
  readonly idempotencyKey: string;
}

/** What the ledger knows of one payment, folded from its events (the store tracks the version). */
export interface PaymentState {
  readonly exists: boolean;
  readonly paymentId: string | null;
  readonly customerId: string | null;
  readonly paymentMethodId: string | null;
  /** The amount the caller asked for. */
  readonly amount: bigint;
  readonly currency: Currency | null;
  readonly captureMethod: CaptureMethod | null;
  readonly offSession: boolean;
  readonly description: string | null;
  readonly metadata: Metadata;
  readonly status: PaymentStatus;
  readonly intentId: string | null;
  readonly authorizedAmount: bigint;
  readonly capturedAmount: bigint;
  readonly refundedAmount: bigint;
  /**
   * Refunds requested and not yet resolved (refund id -> amount): reserved against the captured
   * amount. A null-prototype record, so an id such as `constructor` is never found by accident.
   */
  readonly pendingRefunds: Readonly<Record<string, bigint>>;
  /** Refund ids that completed or failed (a refund id is used once). */
  readonly settledRefunds: readonly string[];
  readonly disputedAmount: bigint;
  readonly disputeIds: readonly string[];
  readonly feesAmount: bigint;
  /** Stripe balance transaction ids whose fee is recorded. */
  readonly feeIds: readonly string[];
  /** Amount of the capture asked for and not yet confirmed by Stripe. */
  readonly captureRequested: bigint | null;
  readonly cancelRequested: boolean;
  readonly unknownOutcome: UnknownOutcome | null;
  /** Last attempt number submitted to Stripe, per operation (a null-prototype record). */
  readonly attempts: Readonly<Record<string, number>>;
  /** What the customer must do (3-D Secure) while `requires_action`. */
  readonly nextAction: { readonly type: string; readonly redirectUrl: string | null } | null;
  readonly failure: {
    readonly code: string;
    readonly declineCode: string | null;
    readonly message: string;
  } | null;
}

/** The state of a payment that does not exist yet. */
export function initialPaymentState(): PaymentState {
  return {
    exists: false,
    paymentId: null,
    customerId: null,
    paymentMethodId: null,
    amount: 0n,
    currency: null,
    captureMethod: null,
    offSession: false,
    description: null,
    metadata: {},
    status: 'pending',
    intentId: null,
    authorizedAmount: 0n,
    capturedAmount: 0n,
    refundedAmount: 0n,
    pendingRefunds: dictionary({}),
    settledRefunds: [],
    disputedAmount: 0n,
    disputeIds: [],
    feesAmount: 0n,
    feeIds: [],
    captureRequested: null,
    cancelRequested: false,
    unknownOutcome: null,
    attempts: dictionary({}),
    nextAction: null,
    failure: null,
  };
}

/** Sum of the refunds requested and not yet resolved. */
export function pendingRefundTotal(state: PaymentState): bigint {
  let total = 0n;
  for (const amount of Object.values(state.pendingRefunds)) total += amount;
  return total;
}

/** What a new refund may still take: captured, less refunded, less reserved by pending refunds. */
export function refundableAmount(state: PaymentState): bigint {
  return state.capturedAmount - state.refundedAmount - pendingRefundTotal(state);
}

// ---------------------------------------------------------------------------------------------
// Evolve
// ---------------------------------------------------------------------------------------------

/** Applies one event to a payment's state (pure and total: events are facts, never refused here). */
export function evolvePayment(state: PaymentState, event: PaymentEvent): PaymentState {
  switch (event.type) {
    case 'PaymentCreated': {
      const d = event.data;
      return {
        ...state,
        exists: true,
        paymentId: d.paymentId,
        customerId: d.customerId,
        paymentMethodId: d.paymentMethodId,
        amount: d.amount,
        currency: d.currency,
        captureMethod: d.captureMethod,
        offSession: d.offSession,
        description: d.description,
        metadata: d.metadata,
        status: 'pending',
      };
    }
    case 'PaymentSubmitted':
      return {
        ...state,
        attempts: dictionary(state.attempts, { [event.data.operation]: event.data.attempt }),
      };
    case 'PaymentIntentCreated':
      return {
        ...state,
        intentId: event.data.intentId,
        unknownOutcome: state.unknownOutcome?.operation === 'create_intent' ? null : state.unknownOutcome,
      };
    case 'PaymentRequiresAction':
      return {
        ...state,
        status: 'requires_action',
        intentId: event.data.intentId,
        nextAction: event.data.nextAction,
        unknownOutcome: clearPaymentLevelUnknown(state),
      };
    case 'PaymentAuthorized':
      return {
        ...state,
        status: 'authorized',
        intentId: event.data.intentId,
        authorizedAmount: event.data.amount,
        nextAction: null,
        unknownOutcome: clearPaymentLevelUnknown(state),
      };
    case 'PaymentSucceeded':
      return {
        ...state,
        status: 'succeeded',
        intentId: event.data.intentId,
        authorizedAmount: max(state.authorizedAmount, event.data.amount),
        capturedAmount: event.data.amount,
        captureRequested: null,
        nextAction: null,
        unknownOutcome: clearPaymentLevelUnknown(state),
      };
    case 'PaymentCaptured': {
      const capturedAmount = state.capturedAmount + event.data.amount;
      return {
        ...state,
        status: 'succeeded',
        authorizedAmount: max(state.authorizedAmount, capturedAmount),
        capturedAmount,
        captureRequested: null,
        nextAction: null,
        unknownOutcome: clearPaymentLevelUnknown(state),
      };
    }
    case 'PaymentFailed':
      return {
        ...state,
        status: 'failed',
        failure: { code: event.data.code, declineCode: event.data.declineCode, message: event.data.message },
        captureRequested: null,
        nextAction: null,
        unknownOutcome: clearPaymentLevelUnknown(state),
      };
    case 'PaymentCanceled':
      return {
        ...state,
        status: 'canceled',
        captureRequested: null,
        nextAction: null,
        unknownOutcome: clearPaymentLevelUnknown(state),
      };
    case 'PaymentOutcomeUnknown':
      return {
        ...state,
        unknownOutcome: {
          operation: event.data.operation,
          attempt: event.data.attempt,
          idempotencyKey: event.data.idempotencyKey,
        },
      };
    case 'PaymentCaptureRequested':
      return { ...state, captureRequested: event.data.amount };
    case 'PaymentCancelRequested':
      return { ...state, cancelRequested: true };
    case 'RefundRequested':
      return {
        ...state,
        pendingRefunds: dictionary(state.pendingRefunds, { [event.data.refundId]: event.data.amount }),
      };
    case 'PaymentRefunded':
      return {
        ...state,
        refundedAmount: state.refundedAmount + event.data.amount,
        ...settleRefund(state, event.data.refundId),
      };
    case 'RefundFailed':
      return { ...state, ...settleRefund(state, event.data.refundId) };
    case 'PaymentDisputed':
      return {
        ...state,
        disputedAmount: state.disputedAmount + event.data.amount,
        disputeIds: [...state.disputeIds, event.data.disputeId],
      };
    case 'FeeRecorded':
      return {
        ...state,
        feesAmount: state.feesAmount + event.data.amount,
        feeIds: [...state.feeIds, event.data.balanceTransactionId],
      };
    case 'DiscrepancyDetected':
      // For a person to look at; it changes nothing the ledger believes.
      return state;
    default: {
      const never: never = event;
      return never;
    }
  }
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/**
 * A new null-prototype record from the own entries of `records`, later ones winning: keys are
 * ids from outside, so none may resolve through Object.prototype (`constructor`, `__proto__`).
 */
function dictionary<V>(...records: readonly Readonly<Record<string, V>>[]): Readonly<Record<string, V>> {
  const out = Object.create(null) as Record<string, V>;
  for (const record of records) {
    for (const key of Object.keys(record)) out[key] = record[key] as V;
  }
  return out;
}

/** The own value of `key` in `record`, never one inherited from Object.prototype. */
function ownValue<V>(record: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Whether an unknown create/confirm/capture/cancel call is open (refunds resolve on their own). */
function hasPaymentLevelUnknown(state: PaymentState): boolean {
  return state.unknownOutcome !== null && refundIdOf(state.unknownOutcome.operation) === null;
}

/** A status fact resolves an unknown payment-level call, never an unknown refund. */
function clearPaymentLevelUnknown(state: PaymentState): UnknownOutcome | null {
  return hasPaymentLevelUnknown(state) ? null : state.unknownOutcome;
}

function settleRefund(
  state: PaymentState,
  refundId: string,
): Pick<PaymentState, 'pendingRefunds' | 'settledRefunds' | 'unknownOutcome'> {
  return {
    pendingRefunds: dictionary(
      Object.fromEntries(Object.entries(state.pendingRefunds).filter(([id]) => id !== refundId)),
    ),
    settledRefunds: [...state.settledRefunds, refundId],
    unknownOutcome: state.unknownOutcome?.operation === `refund:${refundId}` ? null : state.unknownOutcome,
  };
}

/** The refund id of a `refund:{id}` operation, or null for a payment-level operation. */
function refundIdOf(operation: StripeOperation): string | null {
  return operation.startsWith('refund:') ? operation.slice('refund:'.length) : null;
}

// ---------------------------------------------------------------------------------------------
// Decide
// ---------------------------------------------------------------------------------------------

type Outcome<T extends PaymentOutcome['type']> = Extract<PaymentOutcome, { type: T }>;

/**
 * Decides what a caller's command or a Stripe outcome means for a payment, as the events to append.
 *
 * Commands raise a `LedgerError` when they break a rule: `payment_not_found`,
 * `payment_already_exists`, `invalid_amount`, `invalid_transition`, `capture_exceeds_authorized`,
 * `refund_exceeds_captured`. Outcomes (executor, webhook fold, reconciler) are facts about Stripe:
 * they raise only `payment_not_found`; a stale or duplicate one yields `[]` (never a step back),
 * and one that contradicts the ledger yields a `DiscrepancyDetected` for a person to look at.
 */
export function decidePayment(command: PaymentCommand | PaymentOutcome, state: PaymentState): PaymentEvent[] {
  if (command.type !== 'CreatePayment' && !state.exists) {
    throw new LedgerError('payment_not_found', `no payment ${command.data.paymentId}: create it first`);
  }
  switch (command.type) {
    case 'CreatePayment':
      return createPayment(command, state);
    case 'CapturePayment':
      return capturePayment(command, state);
    case 'CancelPayment':
      return cancelPayment(command, state);
    case 'RefundPayment':
      return refundPayment(command, state);
    case 'RecordSubmission':
      return recordSubmission(command, state);
    case 'RecordIntentCreated':
      return recordIntentCreated(command, state);
    case 'RecordRequiresAction':
      return recordRequiresAction(command, state);
    case 'RecordAuthorized':
      return recordAuthorized(command, state);
    case 'RecordSucceeded':
      return recordSucceeded(command, state);
    case 'RecordFailed':
      return recordFailed(command, state);
    case 'RecordOutcomeUnknown':
      return recordOutcomeUnknown(command, state);
    case 'RecordCaptured':
      return recordCaptured(command, state);
    case 'RecordCanceled':
      return recordCanceled(command, state);
    case 'RecordRefunded':
      return recordRefunded(command, state);
    case 'RecordRefundFailed':
      return recordRefundFailed(command, state);
    case 'RecordDisputed':
      return recordDisputed(command, state);
    case 'RecordFee':
      return recordFee(command, state);
    case 'RecordDiscrepancy':
      return recordDiscrepancy(command);
    default: {
      const never: never = command;
      return never;
    }
  }
}

// --- caller commands ---------------------------------------------------------------------------

function createPayment(command: CreatePayment, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (state.exists) {
    throw new LedgerError(
      'payment_already_exists',
      `payment ${d.paymentId} already exists: use a new payment id for a new payment`,
    );
  }
  for (const [field, value] of [
    ['paymentId', d.paymentId],
    ['customerId', d.customerId],
    ['paymentMethodId', d.paymentMethodId],
  ] as const) {
    if (value === '') throw new LedgerError('invalid_command', `${field} must not be empty`);
  }
  money(d.amount, d.currency); // throws invalid_amount (zero, negative, too large, KWD not ending in 0)
  return [
    {
      type: 'PaymentCreated',
      data: {
        paymentId: d.paymentId,
        customerId: d.customerId,
        paymentMethodId: d.paymentMethodId,
        amount: d.amount,
        currency: d.currency,
        captureMethod: d.captureMethod,
        offSession: d.offSession,
        description: d.description,
        metadata: d.metadata,
        at: d.now,
      },
    },
  ];
}

function capturePayment(command: CapturePayment, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (state.status !== 'authorized') {
    throw new LedgerError(
      'invalid_transition',
      `only an authorized payment can be captured; payment ${d.paymentId} is ${state.status}`,
    );
  }
  if (state.captureRequested !== null) {
    throw new LedgerError(
      'invalid_transition',
      `a capture of ${state.captureRequested} is already in progress for payment ${d.paymentId}`,
    );
  }
  if (state.cancelRequested) {
    throw new LedgerError('invalid_transition', `payment ${d.paymentId} is being canceled`);
  }
  const amount = d.amount ?? state.authorizedAmount;
  money(amount, currencyOf(state));
  if (amount > state.authorizedAmount) {
    throw new LedgerError(
      'capture_exceeds_authorized',
      `cannot capture ${amount}: only ${state.authorizedAmount} is authorized`,
    );
  }
  return [{ type: 'PaymentCaptureRequested', data: { paymentId: d.paymentId, amount, at: d.now } }];
}

function cancelPayment(command: CancelPayment, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (statusRank[state.status] > statusRank.authorized) {
    throw new LedgerError(
      'invalid_transition',
      state.status === 'succeeded'
        ? `payment ${d.paymentId} has moved money: refund it instead`
        : `payment ${d.paymentId} is already ${state.status}`,
    );
  }
  if (state.unknownOutcome !== null) {
    // Canceling blind could race a charge that went through: reconciliation decides first.
    throw new LedgerError(
      'invalid_transition',
      `the outcome of a Stripe ${state.unknownOutcome.operation} for payment ${d.paymentId} is still unknown; retry once it is reconciled`,
    );
  }
  if (state.cancelRequested) {
    throw new LedgerError('invalid_transition', `a cancel of payment ${d.paymentId} is already in progress`);
  }
  if (state.captureRequested !== null) {
    throw new LedgerError('invalid_transition', `payment ${d.paymentId} is being captured`);
  }
  return [{ type: 'PaymentCancelRequested', data: { paymentId: d.paymentId, reason: d.reason, at: d.now } }];
}

function refundPayment(command: RefundPayment, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (state.status !== 'succeeded' || state.capturedAmount <= 0n) {
    throw new LedgerError(
      'invalid_transition',
      `only a captured payment can be refunded; payment ${d.paymentId} is ${state.status}`,
    );
  }
  if (ownValue(state.pendingRefunds, d.refundId) !== undefined || state.settledRefunds.includes(d.refundId)) {
    throw new LedgerError('invalid_transition', `refund ${d.refundId} already exists: use a new refund id`);
  }
  const left = refundableAmount(state);
  if (d.amount === null && left <= 0n) {
    throw new LedgerError('refund_exceeds_captured', `nothing is left to refund on payment ${d.paymentId}`);
  }
  const amount = d.amount ?? left;
  money(amount, currencyOf(state));
  if (amount > left) {
    throw new LedgerError(
      'refund_exceeds_captured',
      `cannot refund ${amount}: ${left} of ${state.capturedAmount} captured is left ` +
        `(refunded ${state.refundedAmount}, pending ${pendingRefundTotal(state)})`,
    );
  }
  return [
    {
      type: 'RefundRequested',
      data: { paymentId: d.paymentId, refundId: d.refundId, amount, reason: d.reason, at: d.now },
    },
  ];
}

// --- outcomes: facts from Stripe, never refused ------------------------------------------------

function recordSubmission(command: Outcome<'RecordSubmission'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  const last = ownValue(state.attempts, d.operation);
  // A redelivered submission (same or older attempt) is already recorded.
  if (isTerminal(state) || (last !== undefined && d.attempt <= last)) return [];
  return [
    {
      type: 'PaymentSubmitted',
      data: {
        paymentId: d.paymentId,
        operation: d.operation,
        attempt: d.attempt,
        idempotencyKey: d.idempotencyKey,
        at: d.now,
      },
    },
  ];
}

function recordIntentCreated(command: Outcome<'RecordIntentCreated'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (state.intentId === d.intentId) return [];
  // A second PaymentIntent for one payment could charge twice (ARCHITECTURE.md, guarantee 7).
  if (state.intentId !== null)
    return [discrepancy(d.paymentId, 'intentId', state.intentId, d.intentId, d.now)];
  return [
    { type: 'PaymentIntentCreated', data: { paymentId: d.paymentId, intentId: d.intentId, at: d.now } },
  ];
}

function recordRequiresAction(command: Outcome<'RecordRequiresAction'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  const foreign = foreignIntent(state, d.intentId, d.paymentId, d.now);
  if (foreign.length > 0) return foreign;
  if (isTerminal(state) || statusRank[state.status] > statusRank.requires_action) return [];
  if (
    state.status === 'requires_action' &&
    state.nextAction?.type === d.nextAction.type &&
    // The same next action again is a duplicate, unless it resolves an unknown (re)confirm.
    !hasPaymentLevelUnknown(state)
  ) {
    return [];
  }
  return [
    {
      type: 'PaymentRequiresAction',
      data: { paymentId: d.paymentId, intentId: d.intentId, nextAction: d.nextAction, at: d.now },
    },
  ];
}

function recordAuthorized(command: Outcome<'RecordAuthorized'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  const foreign = foreignIntent(state, d.intentId, d.paymentId, d.now);
  if (foreign.length > 0) return foreign;
  // Only manual-capture intents stop at requires_capture; automatic ones go straight to succeeded.
  if (state.captureMethod !== 'manual') return [];
  if (isTerminal(state) || statusRank[state.status] >= statusRank.authorized) return [];
  const events: PaymentEvent[] = [
    {
      type: 'PaymentAuthorized',
      data: { paymentId: d.paymentId, intentId: d.intentId, amount: d.amount, at: d.now },
    },
  ];
  if (d.amount !== state.amount) {
    events.push(discrepancy(d.paymentId, 'authorizedAmount', String(state.amount), String(d.amount), d.now));
  }
  return events;
}

function recordSucceeded(command: Outcome<'RecordSucceeded'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  const foreign = foreignIntent(state, d.intentId, d.paymentId, d.now);
  const contradiction = moneyFactContradiction(state, d.paymentId, d.amount, d.now);
  if (contradiction !== null) return [...contradiction, ...foreign];
  if (state.captureMethod === 'manual' && state.status === 'authorized') {
    // payment_intent.succeeded is sent after a capture: it is the capture if that is not recorded yet.
    return [...capturedEvents(state, d.paymentId, d.amount, d.now), ...foreign];
  }
  // Stripe is the truth for money moved: book what it says, and flag a different amount.
  const events: PaymentEvent[] = [
    {
      type: 'PaymentSucceeded',
      data: {
        paymentId: d.paymentId,
        intentId: d.intentId,
        chargeId: d.chargeId,
        amount: d.amount,
        postings: [posting(customerAccount(state), 'stripe:pending', d.amount, currencyOf(state))],
        at: d.now,
      },
    },
  ];
  if (d.amount !== state.amount) {
    events.push(discrepancy(d.paymentId, 'amount', String(state.amount), String(d.amount), d.now));
  }
  return [...events, ...foreign];
}

function recordCaptured(command: Outcome<'RecordCaptured'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  // Automatic-capture payments move money with PaymentSucceeded.
  if (state.captureMethod !== 'manual') return [];
  const contradiction = moneyFactContradiction(state, d.paymentId, d.amount, d.now);
  if (contradiction !== null) return contradiction;
  // From pending or requires_action too: webhooks arrive out of order, and a capture implies the hold.
  return capturedEvents(state, d.paymentId, d.amount, d.now);
}

function recordFailed(command: Outcome<'RecordFailed'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (state.status !== 'pending' && state.status !== 'requires_action') return [];
  return [
    {
      type: 'PaymentFailed',
      data: {
        paymentId: d.paymentId,
        code: d.code,
        declineCode: d.declineCode,
        message: d.message,
        at: d.now,
      },
    },
  ];
}

function recordCanceled(command: Outcome<'RecordCanceled'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (statusRank[state.status] > statusRank.authorized) return [];
  return [{ type: 'PaymentCanceled', data: { paymentId: d.paymentId, at: d.now } }];
}

function recordOutcomeUnknown(command: Outcome<'RecordOutcomeUnknown'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  const open = state.unknownOutcome;
  if (
    open !== null &&
    open.operation === d.operation &&
    open.attempt === d.attempt &&
    open.idempotencyKey === d.idempotencyKey
  ) {
    return [];
  }
  if (isResolved(d.operation, state)) return [];
  return [
    {
      type: 'PaymentOutcomeUnknown',
      data: {
        paymentId: d.paymentId,
        operation: d.operation,
        attempt: d.attempt,
        idempotencyKey: d.idempotencyKey,
        reason: d.reason,
        at: d.now,
      },
    },
  ];
}

function recordRefunded(command: Outcome<'RecordRefunded'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (state.settledRefunds.includes(d.refundId) || state.status !== 'succeeded') return [];
  const field = `refund:${d.refundId}`;
  if (d.amount <= 0n) return [discrepancy(d.paymentId, field, 'positive amount', String(d.amount), d.now)];
  const limit = state.capturedAmount - state.refundedAmount;
  if (d.amount > limit) {
    // More than is left of the charge: Stripe cannot have done that; a person must look.
    return [discrepancy(d.paymentId, field, String(limit), String(d.amount), d.now)];
  }
  const events: PaymentEvent[] = [
    {
      type: 'PaymentRefunded',
      data: {
        paymentId: d.paymentId,
        refundId: d.refundId,
        stripeRefundId: d.stripeRefundId,
        amount: d.amount,
        postings: [posting('stripe:pending', 'refunds', d.amount, currencyOf(state))],
        at: d.now,
      },
    },
  ];
  const reserved = ownValue(state.pendingRefunds, d.refundId);
  if (reserved !== undefined && reserved !== d.amount) {
    events.push(discrepancy(d.paymentId, field, String(reserved), String(d.amount), d.now));
  } else if (reserved === undefined && d.amount > refundableAmount(state)) {
    // A refund made outside the ledger (Stripe dashboard) that overlaps refunds we reserved: the
    // money did move, so it is booked; one of the pending refunds will fail at Stripe.
    events.push(discrepancy(d.paymentId, field, String(refundableAmount(state)), String(d.amount), d.now));
  }
  return events;
}

function recordRefundFailed(command: Outcome<'RecordRefundFailed'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (ownValue(state.pendingRefunds, d.refundId) === undefined) return [];
  return [
    {
      type: 'RefundFailed',
      data: { paymentId: d.paymentId, refundId: d.refundId, reason: d.reason, at: d.now },
    },
  ];
}

function recordDisputed(command: Outcome<'RecordDisputed'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (state.disputeIds.includes(d.disputeId) || state.status !== 'succeeded') return [];
  if (d.amount <= 0n) {
    return [discrepancy(d.paymentId, `dispute:${d.disputeId}`, 'positive amount', String(d.amount), d.now)];
  }
  return [
    {
      type: 'PaymentDisputed',
      data: {
        paymentId: d.paymentId,
        disputeId: d.disputeId,
        amount: d.amount,
        reason: d.reason,
        postings: [posting('stripe:pending', 'disputes', d.amount, currencyOf(state))],
        at: d.now,
      },
    },
  ];
}

function recordFee(command: Outcome<'RecordFee'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (state.feeIds.includes(d.balanceTransactionId) || state.status !== 'succeeded') return [];
  if (d.amount <= 0n) {
    return [
      discrepancy(d.paymentId, `fee:${d.balanceTransactionId}`, 'positive amount', String(d.amount), d.now),
    ];
  }
  return [
    {
      type: 'FeeRecorded',
      data: {
        paymentId: d.paymentId,
        balanceTransactionId: d.balanceTransactionId,
        amount: d.amount,
        postings: [posting('stripe:pending', 'fees:stripe', d.amount, currencyOf(state))],
        at: d.now,
      },
    },
  ];
}

function recordDiscrepancy(command: Outcome<'RecordDiscrepancy'>): PaymentEvent[] {
  const d = command.data;
  return [discrepancy(d.paymentId, d.field, d.ledgerValue, d.stripeValue, d.now)];
}

// --- helpers -------------------------------------------------------------------------------------

function isTerminal(state: PaymentState): boolean {
  return state.status === 'failed' || state.status === 'canceled';
}

/** Whether the result of `operation` is already known from a later fact (so it cannot be unknown). */
function isResolved(operation: StripeOperation, state: PaymentState): boolean {
  const refundId = refundIdOf(operation);
  if (refundId !== null) return ownValue(state.pendingRefunds, refundId) === undefined;
  if (isTerminal(state) || state.status === 'succeeded') return true;
  if (operation === 'create_intent') return state.intentId !== null || state.status !== 'pending';
  // A confirm may end in requires_action and be confirmed again after 3-D Secure.
  if (operation === 'confirm') return state.status === 'authorized';
  return false; // capture and cancel resolve only with succeeded, canceled or failed
}

/**
 * A money-moving fact (succeeded, captured) on a payment that is already past it: nothing if it is
 * the same amount (a duplicate), a discrepancy if it disagrees or the payment is terminal (a
 * failed payment never moves again, but money Stripe says moved is never dropped silently).
 * Null when the fact moves the payment forward.
 */
function moneyFactContradiction(
  state: PaymentState,
  paymentId: string,
  amount: bigint,
  now: string,
): PaymentEvent[] | null {
  if (isTerminal(state)) return [discrepancy(paymentId, 'status', state.status, 'succeeded', now)];
  if (amount <= 0n) return [discrepancy(paymentId, 'amount', 'positive amount', String(amount), now)];
  if (state.status === 'succeeded') {
    return amount === state.capturedAmount
      ? []
      : [discrepancy(paymentId, 'capturedAmount', String(state.capturedAmount), String(amount), now)];
  }
  return null;
}

/** PaymentCaptured for `amount`, flagged when it is not the capture asked for (or the whole hold). */
function capturedEvents(state: PaymentState, paymentId: string, amount: bigint, now: string): PaymentEvent[] {
  const events: PaymentEvent[] = [
    {
      type: 'PaymentCaptured',
      data: {
        paymentId,
        amount,
        postings: [posting(customerAccount(state), 'stripe:pending', amount, currencyOf(state))],
        at: now,
      },
    },
  ];
  const expected = state.captureRequested ?? (state.authorizedAmount > 0n ? state.authorizedAmount : null);
  if (expected !== null && amount !== expected) {
    events.push(discrepancy(paymentId, 'capturedAmount', String(expected), String(amount), now));
  }
  return events;
}

/** A fact about another PaymentIntent than the one recorded: flagged, never adopted. */
function foreignIntent(
  state: PaymentState,
  intentId: string,
  paymentId: string,
  now: string,
): PaymentEvent[] {
  return state.intentId !== null && state.intentId !== intentId
    ? [discrepancy(paymentId, 'intentId', state.intentId, intentId, now)]
    : [];
}

function discrepancy(
  paymentId: string,
  field: string,
  ledgerValue: string,
  stripeValue: string,
  at: string,
): PaymentEvent {
  return { type: 'DiscrepancyDetected', data: { paymentId, field, ledgerValue, stripeValue, at } };
}

function posting(source: Account, destination: Account, amount: bigint, currency: Currency): Posting {
  return { source, destination, amount, currency };
}

function currencyOf(state: PaymentState): Currency {
  if (state.currency === null) throw new LedgerError('payment_not_found', 'the payment has no currency');
  return state.currency;
}

function customerAccount(state: PaymentState): Account {
  if (state.customerId === null) throw new LedgerError('payment_not_found', 'the payment has no customer');
  return `customer:${state.customerId}`;
}
