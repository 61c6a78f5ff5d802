import { LedgerError } from '../errors.ts';
import type { Posting } from '../journal/postings.ts';
import { money, type Currency } from '../money/money.ts';
import type {
  CancelPayment,
  CapturePayment,
  CreatePayment,
  PaymentCommand,
  PaymentOutcome,
  RefundPayment,
} from './paymentCommands.ts';
import type { PaymentEvent } from './paymentEvents.ts';
import { pendingRefundTotal, statusRank, type PaymentState } from './paymentState.ts';

type Outcome<T extends PaymentOutcome['type']> = Extract<PaymentOutcome, { type: T }>;

/**
 * Decides what a command or a Stripe outcome means for a payment. Commands from callers raise a
 * LedgerError when they break a rule; outcomes are facts from Stripe, so a stale or duplicate one
 * yields no event (never a step back) rather than an error.
 */
export function decidePayment(command: PaymentCommand | PaymentOutcome, state: PaymentState): PaymentEvent[] {
  if (command.type !== 'CreatePayment' && !state.exists) {
    throw new LedgerError('payment_not_found', `no payment ${command.data.paymentId}`);
  }
  switch (command.type) {
    case 'CreatePayment':
      return create(command, state);
    case 'CapturePayment':
      return capture(command, state);
    case 'CancelPayment':
      return cancel(command, state);
    case 'RefundPayment':
      return refund(command, state);
    case 'RecordSubmission':
      return isTerminal(state)
        ? []
        : [{ type: 'PaymentSubmitted', data: { ...strip(command.data), at: command.data.now } }];
    case 'RecordIntentCreated':
      return intentCreated(command, state);
    case 'RecordRequiresAction':
      return statusRank[state.status] >= statusRank.requires_action &&
        !(state.status === 'requires_action' && state.nextAction?.type !== command.data.nextAction.type)
        ? []
        : [
            {
              type: 'PaymentRequiresAction',
              data: {
                paymentId: command.data.paymentId,
                intentId: command.data.intentId,
                nextAction: command.data.nextAction,
                at: command.data.now,
              },
            },
          ];
    case 'RecordAuthorized':
      return state.captureMethod !== 'manual' || statusRank[state.status] >= statusRank.authorized
        ? []
        : [
            {
              type: 'PaymentAuthorized',
              data: {
                paymentId: command.data.paymentId,
                intentId: command.data.intentId,
                amount: command.data.amount,
                at: command.data.now,
              },
            },
          ];
    case 'RecordSucceeded':
      return succeeded(command, state);
    case 'RecordFailed':
      return state.status === 'pending' || state.status === 'requires_action'
        ? [
            {
              type: 'PaymentFailed',
              data: {
                paymentId: command.data.paymentId,
                code: command.data.code,
                declineCode: command.data.declineCode,
                message: command.data.message,
                at: command.data.now,
              },
            },
          ]
        : [];
    case 'RecordOutcomeUnknown':
      return isTerminal(state) || state.status === 'succeeded'
        ? []
        : [{ type: 'PaymentOutcomeUnknown', data: { ...strip(command.data), at: command.data.now } }];
    case 'RecordCaptured':
      return captured(command, state);
    case 'RecordCanceled':
      return statusRank[state.status] <= statusRank.authorized
        ? [{ type: 'PaymentCanceled', data: { paymentId: command.data.paymentId, at: command.data.now } }]
        : [];
    case 'RecordRefunded':
      return refunded(command, state);
    case 'RecordRefundFailed':
      return command.data.refundId in state.pendingRefunds
        ? [
            {
              type: 'RefundFailed',
              data: {
                paymentId: command.data.paymentId,
                refundId: command.data.refundId,
                reason: command.data.reason,
                at: command.data.now,
              },
            },
          ]
        : [];
    case 'RecordDisputed':
      return disputed(command, state);
    case 'RecordFee':
      return fee(command, state);
    case 'RecordDiscrepancy':
      return [{ type: 'DiscrepancyDetected', data: { ...strip(command.data), at: command.data.now } }];
    default: {
      const never: never = command;
      return never;
    }
  }
}

function isTerminal(state: PaymentState): boolean {
  return state.status === 'failed' || state.status === 'canceled';
}

/** Drops the command's `now` (events carry `at`). */
function strip<T extends { now: string }>(data: T): Omit<T, 'now'> {
  const { now: _now, ...rest } = data;
  return rest;
}

function currencyOf(state: PaymentState): Currency {
  if (state.currency === null) throw new LedgerError('payment_not_found', 'payment has no currency');
  return state.currency;
}

function posting(
  source: Posting['source'],
  destination: Posting['destination'],
  amount: bigint,
  currency: Currency,
): Posting[] {
  return [{ source, destination, amount, currency }];
}

function create(command: CreatePayment, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (state.exists) throw new LedgerError('payment_already_exists', `payment ${d.paymentId} already exists`);
  money(d.amount, d.currency); // validates amount for its currency
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

function capture(command: CapturePayment, state: PaymentState): PaymentEvent[] {
  if (state.status !== 'authorized') {
    throw new LedgerError(
      'invalid_transition',
      `only an authorised payment can be captured; this one is ${state.status}`,
    );
  }
  if (state.captureRequested !== null) {
    throw new LedgerError('invalid_transition', 'a capture of this payment is already in progress');
  }
  if (state.cancelRequested) throw new LedgerError('invalid_transition', 'this payment is being canceled');
  const amount = command.data.amount ?? state.authorizedAmount;
  if (amount <= 0n) throw new LedgerError('invalid_amount', `capture amount must be positive, got ${amount}`);
  if (amount > state.authorizedAmount) {
    throw new LedgerError(
      'capture_exceeds_authorized',
      `cannot capture ${amount}: only ${state.authorizedAmount} is authorised`,
    );
  }
  money(amount, currencyOf(state));
  return [
    {
      type: 'PaymentCaptureRequested',
      data: { paymentId: command.data.paymentId, amount, at: command.data.now },
    },
  ];
}

function cancel(command: CancelPayment, state: PaymentState): PaymentEvent[] {
  if (statusRank[state.status] > statusRank.authorized) {
    throw new LedgerError(
      'invalid_transition',
      `a ${state.status} payment cannot be canceled (refund it instead)`,
    );
  }
  if (state.unknownOutcome !== null) {
    throw new LedgerError(
      'invalid_transition',
      'the outcome of a Stripe call for this payment is still unknown; wait for reconciliation before canceling',
    );
  }
  if (state.cancelRequested)
    throw new LedgerError('invalid_transition', 'a cancel of this payment is already in progress');
  if (state.captureRequested !== null)
    throw new LedgerError('invalid_transition', 'this payment is being captured');
  return [
    {
      type: 'PaymentCancelRequested',
      data: { paymentId: command.data.paymentId, reason: command.data.reason, at: command.data.now },
    },
  ];
}

function refund(command: RefundPayment, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (state.status !== 'succeeded' || state.capturedAmount <= 0n) {
    throw new LedgerError(
      'invalid_transition',
      `only a captured payment can be refunded; this one is ${state.status}`,
    );
  }
  if (d.refundId in state.pendingRefunds || state.settledRefunds.includes(d.refundId)) {
    throw new LedgerError('invalid_transition', `refund ${d.refundId} already exists`);
  }
  const left = state.capturedAmount - state.refundedAmount - pendingRefundTotal(state);
  const amount = d.amount ?? left;
  if (amount <= 0n) {
    throw new LedgerError(
      d.amount === null ? 'refund_exceeds_captured' : 'invalid_amount',
      d.amount === null ? 'nothing is left to refund' : `refund amount must be positive, got ${amount}`,
    );
  }
  if (amount > left) {
    throw new LedgerError(
      'refund_exceeds_captured',
      `cannot refund ${amount}: ${left} of ${state.capturedAmount} captured is left (refunded ${state.refundedAmount}, pending ${pendingRefundTotal(state)})`,
    );
  }
  money(amount, currencyOf(state));
  return [
    {
      type: 'RefundRequested',
      data: { paymentId: d.paymentId, refundId: d.refundId, amount, reason: d.reason, at: d.now },
    },
  ];
}

function intentCreated(command: Outcome<'RecordIntentCreated'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (state.intentId === d.intentId) return [];
  if (state.intentId !== null) {
    return [
      {
        type: 'DiscrepancyDetected',
        data: {
          paymentId: d.paymentId,
          field: 'intentId',
          ledgerValue: state.intentId,
          stripeValue: d.intentId,
          at: d.now,
        },
      },
    ];
  }
  return [
    { type: 'PaymentIntentCreated', data: { paymentId: d.paymentId, intentId: d.intentId, at: d.now } },
  ];
}

function succeeded(command: Outcome<'RecordSucceeded'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (state.captureMethod === 'manual') {
    // payment_intent.succeeded after a manual capture: the capture is the money movement.
    if (state.status !== 'authorized') return [];
    return captured(
      { type: 'RecordCaptured', data: { paymentId: d.paymentId, amount: d.amount, now: d.now } },
      state,
    );
  }
  if (statusRank[state.status] >= statusRank.succeeded) return [];
  const currency = currencyOf(state);
  const events: PaymentEvent[] = [
    {
      type: 'PaymentSucceeded',
      data: {
        paymentId: d.paymentId,
        intentId: d.intentId,
        chargeId: d.chargeId,
        amount: d.amount,
        postings: posting(`customer:${state.customerId ?? ''}`, 'stripe:pending', d.amount, currency),
        at: d.now,
      },
    },
  ];
  if (d.amount !== state.amount) {
    // Stripe is the truth for money moved; a person must look at why it differs.
    events.push({
      type: 'DiscrepancyDetected',
      data: {
        paymentId: d.paymentId,
        field: 'amount',
        ledgerValue: String(state.amount),
        stripeValue: String(d.amount),
        at: d.now,
      },
    });
  }
  return events;
}

function captured(command: Outcome<'RecordCaptured'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (state.status !== 'authorized') return [];
  if (d.amount <= 0n) return [];
  return [
    {
      type: 'PaymentCaptured',
      data: {
        paymentId: d.paymentId,
        amount: d.amount,
        postings: posting(
          `customer:${state.customerId ?? ''}`,
          'stripe:pending',
          d.amount,
          currencyOf(state),
        ),
        at: d.now,
      },
    },
  ];
}

function refunded(command: Outcome<'RecordRefunded'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (state.settledRefunds.includes(d.refundId) || state.status !== 'succeeded' || d.amount <= 0n) return [];
  const reserved = state.pendingRefunds[d.refundId];
  if (reserved === undefined) {
    // A refund we did not ask for (e.g. made in Stripe's dashboard): accept what still fits.
    const left = state.capturedAmount - state.refundedAmount - pendingRefundTotal(state);
    if (d.amount > left) {
      return [
        {
          type: 'DiscrepancyDetected',
          data: {
            paymentId: d.paymentId,
            field: `refund:${d.refundId}`,
            ledgerValue: String(left),
            stripeValue: String(d.amount),
            at: d.now,
          },
        },
      ];
    }
  } else if (d.amount > reserved) {
    return [
      {
        type: 'DiscrepancyDetected',
        data: {
          paymentId: d.paymentId,
          field: `refund:${d.refundId}`,
          ledgerValue: String(reserved),
          stripeValue: String(d.amount),
          at: d.now,
        },
      },
    ];
  }
  return [
    {
      type: 'PaymentRefunded',
      data: {
        paymentId: d.paymentId,
        refundId: d.refundId,
        stripeRefundId: d.stripeRefundId,
        amount: d.amount,
        postings: posting('stripe:pending', 'refunds', d.amount, currencyOf(state)),
        at: d.now,
      },
    },
  ];
}

function disputed(command: Outcome<'RecordDisputed'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (state.disputeIds.includes(d.disputeId) || state.status !== 'succeeded' || d.amount <= 0n) return [];
  return [
    {
      type: 'PaymentDisputed',
      data: {
        paymentId: d.paymentId,
        disputeId: d.disputeId,
        amount: d.amount,
        reason: d.reason,
        postings: posting('stripe:pending', 'disputes', d.amount, currencyOf(state)),
        at: d.now,
      },
    },
  ];
}

function fee(command: Outcome<'RecordFee'>, state: PaymentState): PaymentEvent[] {
  const d = command.data;
  if (state.feeIds.includes(d.balanceTransactionId) || state.status !== 'succeeded' || d.amount <= 0n)
    return [];
  return [
    {
      type: 'FeeRecorded',
      data: {
        paymentId: d.paymentId,
        balanceTransactionId: d.balanceTransactionId,
        amount: d.amount,
        postings: posting('stripe:pending', 'fees:stripe', d.amount, currencyOf(state)),
        at: d.now,
      },
    },
  ];
}
