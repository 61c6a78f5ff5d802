import { describe, expect, it } from 'vitest';
import { LedgerError, type LedgerErrorCode } from '../errors.ts';
import type { Posting } from '../journal/postings.ts';
import type { Currency } from '../money/money.ts';
import type { CreatePayment, PaymentCommand, PaymentOutcome, StripeOperation } from './paymentCommands.ts';
import type { PaymentEvent } from './paymentEvents.ts';
import {
  decidePayment,
  evolvePayment,
  initialPaymentState,
  pendingRefundTotal,
  refundableAmount,
  type PaymentState,
} from './paymentDecider.ts';

const now = '2026-11-22T10:00:00.000Z';
const P = 'pay_1';
const C = 'cus_1';

const fold = (history: readonly PaymentEvent[]): PaymentState =>
  history.reduce(evolvePayment, initialPaymentState());

/** Given a history, when a command or outcome, then these events (in order) or this error code. */
function given(history: readonly PaymentEvent[]) {
  const state = fold(history);
  return {
    when(input: PaymentCommand | PaymentOutcome) {
      return {
        then(expected: readonly PaymentEvent[] | LedgerErrorCode): void {
          if (typeof expected !== 'string') {
            expect(decidePayment(input, state)).toEqual(expected);
            return;
          }
          let caught: unknown;
          try {
            decidePayment(input, state);
          } catch (error) {
            caught = error;
          }
          expect(caught).toBeInstanceOf(LedgerError);
          expect((caught as LedgerError).code).toBe(expected);
        },
      };
    },
  };
}

// --- inputs -------------------------------------------------------------------------------------

const cmd = {
  create: (over: Partial<CreatePayment['data']> = {}): PaymentCommand => ({
    type: 'CreatePayment',
    data: {
      paymentId: P,
      customerId: C,
      paymentMethodId: 'pm_card_visa',
      amount: 2000n,
      currency: 'USD',
      captureMethod: 'automatic',
      offSession: false,
      description: null,
      metadata: {},
      now,
      ...over,
    },
  }),
  capture: (amount: bigint | null): PaymentCommand => ({
    type: 'CapturePayment',
    data: { paymentId: P, amount, now },
  }),
  cancel: (reason: string | null = null): PaymentCommand => ({
    type: 'CancelPayment',
    data: { paymentId: P, reason, now },
  }),
  refund: (refundId: string, amount: bigint | null): PaymentCommand => ({
    type: 'RefundPayment',
    data: { paymentId: P, refundId, amount, reason: null, now },
  }),
};

const out = {
  submission: (operation: StripeOperation, attempt = 1): PaymentOutcome => ({
    type: 'RecordSubmission',
    data: { paymentId: P, operation, attempt, idempotencyKey: `${P}:${operation}:${attempt}`, now },
  }),
  intentCreated: (intentId = 'pi_1'): PaymentOutcome => ({
    type: 'RecordIntentCreated',
    data: { paymentId: P, intentId, now },
  }),
  requiresAction: (actionType = 'use_stripe_sdk', intentId = 'pi_1'): PaymentOutcome => ({
    type: 'RecordRequiresAction',
    data: { paymentId: P, intentId, nextAction: { type: actionType, redirectUrl: null }, now },
  }),
  authorized: (amount = 2000n, intentId = 'pi_1'): PaymentOutcome => ({
    type: 'RecordAuthorized',
    data: { paymentId: P, intentId, amount, now },
  }),
  succeeded: (amount = 2000n, intentId = 'pi_1'): PaymentOutcome => ({
    type: 'RecordSucceeded',
    data: { paymentId: P, intentId, chargeId: 'ch_1', amount, now },
  }),
  failed: (): PaymentOutcome => ({
    type: 'RecordFailed',
    data: {
      paymentId: P,
      code: 'card_declined',
      declineCode: 'insufficient_funds',
      message: 'declined',
      now,
    },
  }),
  unknown: (operation: StripeOperation, attempt = 1): PaymentOutcome => ({
    type: 'RecordOutcomeUnknown',
    data: {
      paymentId: P,
      operation,
      attempt,
      idempotencyKey: `${P}:${operation}:${attempt}`,
      reason: 'timeout',
      now,
    },
  }),
  captured: (amount: bigint): PaymentOutcome => ({
    type: 'RecordCaptured',
    data: { paymentId: P, amount, now },
  }),
  canceled: (): PaymentOutcome => ({ type: 'RecordCanceled', data: { paymentId: P, now } }),
  refunded: (refundId: string, amount: bigint): PaymentOutcome => ({
    type: 'RecordRefunded',
    data: { paymentId: P, refundId, stripeRefundId: `re_${refundId}`, amount, now },
  }),
  refundFailed: (refundId: string): PaymentOutcome => ({
    type: 'RecordRefundFailed',
    data: { paymentId: P, refundId, reason: 'expired_or_canceled_card', now },
  }),
  disputed: (disputeId: string, amount: bigint): PaymentOutcome => ({
    type: 'RecordDisputed',
    data: { paymentId: P, disputeId, amount, reason: 'fraudulent', now },
  }),
  fee: (balanceTransactionId: string, amount: bigint): PaymentOutcome => ({
    type: 'RecordFee',
    data: { paymentId: P, balanceTransactionId, amount, now },
  }),
  discrepancy: (field: string, ledgerValue: string, stripeValue: string): PaymentOutcome => ({
    type: 'RecordDiscrepancy',
    data: { paymentId: P, field, ledgerValue, stripeValue, now },
  }),
};

// --- events -------------------------------------------------------------------------------------

const post = (
  source: Posting['source'],
  destination: Posting['destination'],
  amount: bigint,
  currency: Currency = 'USD',
): Posting[] => [{ source, destination, amount, currency }];

const evt = {
  created: (over: Partial<Extract<PaymentEvent, { type: 'PaymentCreated' }>['data']> = {}): PaymentEvent => ({
    type: 'PaymentCreated',
    data: {
      paymentId: P,
      customerId: C,
      paymentMethodId: 'pm_card_visa',
      amount: 2000n,
      currency: 'USD',
      captureMethod: 'automatic',
      offSession: false,
      description: null,
      metadata: {},
      at: now,
      ...over,
    },
  }),
  submitted: (operation: StripeOperation, attempt = 1): PaymentEvent => ({
    type: 'PaymentSubmitted',
    data: { paymentId: P, operation, attempt, idempotencyKey: `${P}:${operation}:${attempt}`, at: now },
  }),
  intentCreated: (intentId = 'pi_1'): PaymentEvent => ({
    type: 'PaymentIntentCreated',
    data: { paymentId: P, intentId, at: now },
  }),
  requiresAction: (actionType = 'use_stripe_sdk', intentId = 'pi_1'): PaymentEvent => ({
    type: 'PaymentRequiresAction',
    data: { paymentId: P, intentId, nextAction: { type: actionType, redirectUrl: null }, at: now },
  }),
  authorized: (amount = 2000n, intentId = 'pi_1'): PaymentEvent => ({
    type: 'PaymentAuthorized',
    data: { paymentId: P, intentId, amount, at: now },
  }),
  succeeded: (amount = 2000n, currency: Currency = 'USD', intentId = 'pi_1'): PaymentEvent => ({
    type: 'PaymentSucceeded',
    data: {
      paymentId: P,
      intentId,
      chargeId: 'ch_1',
      amount,
      postings: post(`customer:${C}`, 'stripe:pending', amount, currency),
      at: now,
    },
  }),
  failed: (): PaymentEvent => ({
    type: 'PaymentFailed',
    data: {
      paymentId: P,
      code: 'card_declined',
      declineCode: 'insufficient_funds',
      message: 'declined',
      at: now,
    },
  }),
  unknown: (operation: StripeOperation, attempt = 1): PaymentEvent => ({
    type: 'PaymentOutcomeUnknown',
    data: {
      paymentId: P,
      operation,
      attempt,
      idempotencyKey: `${P}:${operation}:${attempt}`,
      reason: 'timeout',
      at: now,
    },
  }),
  captureRequested: (amount: bigint): PaymentEvent => ({
    type: 'PaymentCaptureRequested',
    data: { paymentId: P, amount, at: now },
  }),
  captured: (amount: bigint, currency: Currency = 'USD'): PaymentEvent => ({
    type: 'PaymentCaptured',
    data: {
      paymentId: P,
      amount,
      postings: post(`customer:${C}`, 'stripe:pending', amount, currency),
      at: now,
    },
  }),
  cancelRequested: (reason: string | null = null): PaymentEvent => ({
    type: 'PaymentCancelRequested',
    data: { paymentId: P, reason, at: now },
  }),
  canceled: (): PaymentEvent => ({ type: 'PaymentCanceled', data: { paymentId: P, at: now } }),
  refundRequested: (refundId: string, amount: bigint): PaymentEvent => ({
    type: 'RefundRequested',
    data: { paymentId: P, refundId, amount, reason: null, at: now },
  }),
  refunded: (refundId: string, amount: bigint, currency: Currency = 'USD'): PaymentEvent => ({
    type: 'PaymentRefunded',
    data: {
      paymentId: P,
      refundId,
      stripeRefundId: `re_${refundId}`,
      amount,
      postings: post('stripe:pending', 'refunds', amount, currency),
      at: now,
    },
  }),
  refundFailed: (refundId: string): PaymentEvent => ({
    type: 'RefundFailed',
    data: { paymentId: P, refundId, reason: 'expired_or_canceled_card', at: now },
  }),
  disputed: (disputeId: string, amount: bigint): PaymentEvent => ({
    type: 'PaymentDisputed',
    data: {
      paymentId: P,
      disputeId,
      amount,
      reason: 'fraudulent',
      postings: post('stripe:pending', 'disputes', amount),
      at: now,
    },
  }),
  fee: (balanceTransactionId: string, amount: bigint): PaymentEvent => ({
    type: 'FeeRecorded',
    data: {
      paymentId: P,
      balanceTransactionId,
      amount,
      postings: post('stripe:pending', 'fees:stripe', amount),
      at: now,
    },
  }),
  discrepancy: (field: string, ledgerValue: string, stripeValue: string): PaymentEvent => ({
    type: 'DiscrepancyDetected',
    data: { paymentId: P, field, ledgerValue, stripeValue, at: now },
  }),
};

// Histories.
const created = [evt.created()];
const manual = [evt.created({ captureMethod: 'manual' })];
const inAction = [...created, evt.intentCreated(), evt.requiresAction()];
const authorized = [...manual, evt.intentCreated(), evt.authorized()];
const paid = [...created, evt.intentCreated(), evt.succeeded()];
const failed = [...created, evt.failed()];
const canceled = [...created, evt.cancelRequested(), evt.canceled()];

// --- commands -----------------------------------------------------------------------------------

describe('CreatePayment', () => {
  it('opens a pending payment, stamped with the command time', () => {
    given([]).when(cmd.create()).then(created);
    given([])
      .when(cmd.create({ now: '2026-01-01T00:00:00.000Z' }))
      .then([evt.created({ at: '2026-01-01T00:00:00.000Z' })]);
    expect(fold(created)).toMatchObject({ exists: true, status: 'pending', amount: 2000n, currency: 'USD' });
  });
  it('refuses a second create of the same payment id', () =>
    given(created).when(cmd.create()).then('payment_already_exists'));
  it('refuses zero, negative and over-eight-digit amounts', () => {
    given([])
      .when(cmd.create({ amount: 0n }))
      .then('invalid_amount');
    given([])
      .when(cmd.create({ amount: -1n }))
      .then('invalid_amount');
    given([])
      .when(cmd.create({ amount: 100_000_000n }))
      .then('invalid_amount');
    given([])
      .when(cmd.create({ amount: 99_999_999n }))
      .then([evt.created({ amount: 99_999_999n })]);
  });
  it('refuses empty ids', () => {
    given([])
      .when(cmd.create({ customerId: '' }))
      .then('invalid_command');
    given([])
      .when(cmd.create({ paymentMethodId: '' }))
      .then('invalid_command');
  });
  it('takes zero-decimal JPY in whole yen', () =>
    given([])
      .when(cmd.create({ currency: 'JPY', amount: 5n }))
      .then([evt.created({ currency: 'JPY', amount: 5n })]));
  it('takes three-decimal KWD only in steps of 10 (Stripe rounds to 0.010)', () => {
    given([])
      .when(cmd.create({ currency: 'KWD', amount: 1005n }))
      .then('invalid_amount');
    given([])
      .when(cmd.create({ currency: 'KWD', amount: 1010n }))
      .then([evt.created({ currency: 'KWD', amount: 1010n })]);
  });
});

describe('a payment that does not exist', () => {
  const inputs: (PaymentCommand | PaymentOutcome)[] = [
    cmd.capture(null),
    cmd.cancel(),
    cmd.refund('rf_1', null),
    out.submission('create_intent'),
    out.intentCreated(),
    out.succeeded(),
    out.failed(),
    out.refunded('rf_1', 1n),
    out.discrepancy('amount', '1', '2'),
  ];
  it.each(inputs.map((input) => [input.type, input] as const))('refuses %s', (_type, input) =>
    given([]).when(input).then('payment_not_found'),
  );
});

describe('CapturePayment', () => {
  it('asks to capture everything authorized when no amount is given', () =>
    given(authorized)
      .when(cmd.capture(null))
      .then([evt.captureRequested(2000n)]));
  it('asks to capture part of the authorization', () =>
    given(authorized)
      .when(cmd.capture(1500n))
      .then([evt.captureRequested(1500n)]));
  it('refuses more than authorized', () =>
    given(authorized).when(cmd.capture(2001n)).then('capture_exceeds_authorized'));
  it('refuses zero and negative amounts', () => {
    given(authorized).when(cmd.capture(0n)).then('invalid_amount');
    given(authorized).when(cmd.capture(-5n)).then('invalid_amount');
  });
  it('refuses a payment that is not authorized', () => {
    given(manual).when(cmd.capture(null)).then('invalid_transition');
    given(paid).when(cmd.capture(null)).then('invalid_transition');
    given([...authorized, evt.canceled()])
      .when(cmd.capture(null))
      .then('invalid_transition');
  });
  it('refuses a second capture while one is pending, and one during a cancel', () => {
    given([...authorized, evt.captureRequested(1000n)])
      .when(cmd.capture(500n))
      .then('invalid_transition');
    given([...authorized, evt.cancelRequested()])
      .when(cmd.capture(null))
      .then('invalid_transition');
  });
  it('applies the currency rules: KWD in steps of 10, JPY in whole yen', () => {
    const kwd = [
      evt.created({ captureMethod: 'manual', currency: 'KWD', amount: 5000n }),
      evt.authorized(5000n),
    ];
    given(kwd).when(cmd.capture(1005n)).then('invalid_amount');
    given(kwd)
      .when(cmd.capture(1010n))
      .then([evt.captureRequested(1010n)]);
    const jpy = [evt.created({ captureMethod: 'manual', currency: 'JPY', amount: 3n }), evt.authorized(3n)];
    given(jpy)
      .when(cmd.capture(1n))
      .then([evt.captureRequested(1n)]);
  });
});

describe('CancelPayment', () => {
  it('is accepted before money moved: pending, requires_action, authorized', () => {
    given(created)
      .when(cmd.cancel('duplicate'))
      .then([evt.cancelRequested('duplicate')]);
    given(inAction).when(cmd.cancel()).then([evt.cancelRequested()]);
    given(authorized).when(cmd.cancel()).then([evt.cancelRequested()]);
  });
  it('is refused once money moved or the payment ended', () => {
    given(paid).when(cmd.cancel()).then('invalid_transition');
    given(failed).when(cmd.cancel()).then('invalid_transition');
    given(canceled).when(cmd.cancel()).then('invalid_transition');
  });
  it('is refused while a Stripe outcome is unknown (it could have charged)', () =>
    given([...created, evt.unknown('confirm')])
      .when(cmd.cancel())
      .then('invalid_transition'));
  it('is refused twice, and during a capture', () => {
    given([...created, evt.cancelRequested()])
      .when(cmd.cancel())
      .then('invalid_transition');
    given([...authorized, evt.captureRequested(2000n)])
      .when(cmd.cancel())
      .then('invalid_transition');
  });
});

describe('RefundPayment', () => {
  it('reserves a partial refund', () => {
    given(paid)
      .when(cmd.refund('rf_1', 500n))
      .then([evt.refundRequested('rf_1', 500n)]);
    expect(pendingRefundTotal(fold([...paid, evt.refundRequested('rf_1', 500n)]))).toBe(500n);
  });
  it('refunds what is left when no amount is given, counting refunded and pending ones', () =>
    given([
      ...paid,
      evt.refundRequested('rf_1', 500n),
      evt.refunded('rf_1', 500n),
      evt.refundRequested('rf_2', 700n),
    ])
      .when(cmd.refund('rf_3', null))
      .then([evt.refundRequested('rf_3', 800n)]));
  it('refuses cumulative refunds above what was captured', () => {
    const history = [...paid, evt.refundRequested('rf_1', 1500n)];
    given(history).when(cmd.refund('rf_2', 501n)).then('refund_exceeds_captured');
    given(history)
      .when(cmd.refund('rf_2', 500n))
      .then([evt.refundRequested('rf_2', 500n)]);
    given([...paid, evt.refundRequested('rf_1', 2000n), evt.refunded('rf_1', 2000n)])
      .when(cmd.refund('rf_2', null))
      .then('refund_exceeds_captured');
  });
  it('caps refunds at the captured part of a partial capture', () => {
    const partial = [...authorized, evt.captureRequested(1200n), evt.captured(1200n)];
    given(partial).when(cmd.refund('rf_1', 1201n)).then('refund_exceeds_captured');
    given(partial)
      .when(cmd.refund('rf_1', null))
      .then([evt.refundRequested('rf_1', 1200n)]);
  });
  it('refuses a refund id used before, pending or settled', () => {
    given([...paid, evt.refundRequested('rf_1', 100n)])
      .when(cmd.refund('rf_1', 100n))
      .then('invalid_transition');
    given([...paid, evt.refundRequested('rf_1', 100n), evt.refundFailed('rf_1')])
      .when(cmd.refund('rf_1', 100n))
      .then('invalid_transition');
  });
  it('refuses a payment that has not moved money', () => {
    given(created).when(cmd.refund('rf_1', null)).then('invalid_transition');
    given(authorized).when(cmd.refund('rf_1', 100n)).then('invalid_transition');
    given(failed).when(cmd.refund('rf_1', 100n)).then('invalid_transition');
  });
  it('refuses zero, negative and, for KWD, amounts not ending in 0', () => {
    given(paid).when(cmd.refund('rf_1', 0n)).then('invalid_amount');
    given(paid).when(cmd.refund('rf_1', -1n)).then('invalid_amount');
    const kwd = [evt.created({ currency: 'KWD', amount: 2000n }), evt.succeeded(2000n, 'KWD')];
    given(kwd).when(cmd.refund('rf_1', 15n)).then('invalid_amount');
    given(kwd)
      .when(cmd.refund('rf_1', 10n))
      .then([evt.refundRequested('rf_1', 10n)]);
  });
  it('refunds zero-decimal JPY by the yen', () => {
    const jpy = [evt.created({ currency: 'JPY', amount: 3n }), evt.succeeded(3n, 'JPY')];
    given(jpy)
      .when(cmd.refund('rf_1', 1n))
      .then([evt.refundRequested('rf_1', 1n)]);
    given([...jpy, evt.refundRequested('rf_1', 1n)])
      .when(out.refunded('rf_1', 1n))
      .then([evt.refunded('rf_1', 1n, 'JPY')]);
  });
});

// --- outcomes -------------------------------------------------------------------------------------

describe('RecordSubmission', () => {
  it('records the idempotency key before the Stripe call', () =>
    given(created)
      .when(out.submission('create_intent'))
      .then([evt.submitted('create_intent')]));
  it('ignores a redelivered or older attempt, records a newer one', () => {
    const history = [...created, evt.submitted('confirm', 2)];
    given(history).when(out.submission('confirm', 2)).then([]);
    given(history).when(out.submission('confirm', 1)).then([]);
    given(history)
      .when(out.submission('confirm', 3))
      .then([evt.submitted('confirm', 3)]);
    given(history)
      .when(out.submission('capture', 1))
      .then([evt.submitted('capture', 1)]);
  });
  it('does not resolve an unknown outcome (only a fact from Stripe does)', () => {
    const state = fold([...created, evt.unknown('confirm'), evt.submitted('confirm', 2)]);
    expect(state.unknownOutcome).toEqual({
      operation: 'confirm',
      attempt: 1,
      idempotencyKey: `${P}:confirm:1`,
    });
    expect(state.attempts['confirm']).toBe(2);
  });
  it('ignores submissions for a terminal payment', () => {
    given(failed).when(out.submission('confirm')).then([]);
    given(canceled).when(out.submission('confirm')).then([]);
  });
});

describe('RecordIntentCreated', () => {
  it('records the intent once', () => {
    given(created).when(out.intentCreated()).then([evt.intentCreated()]);
    given([...created, evt.intentCreated()])
      .when(out.intentCreated())
      .then([]);
  });
  it('flags a second, different intent (it could charge twice) instead of adopting it', () =>
    given([...created, evt.intentCreated('pi_1')])
      .when(out.intentCreated('pi_2'))
      .then([evt.discrepancy('intentId', 'pi_1', 'pi_2')]));
  it('resolves an unknown create_intent call', () =>
    expect(fold([...created, evt.unknown('create_intent'), evt.intentCreated()]).unknownOutcome).toBeNull());
});

describe('RecordRequiresAction', () => {
  it('moves a pending payment to requires_action (3-D Secure), not to failed', () => {
    given([...created, evt.intentCreated()])
      .when(out.requiresAction())
      .then([evt.requiresAction()]);
    expect(fold(inAction)).toMatchObject({
      status: 'requires_action',
      nextAction: { type: 'use_stripe_sdk', redirectUrl: null },
    });
  });
  it('ignores the same next action again, records a new one', () => {
    given(inAction).when(out.requiresAction()).then([]);
    given(inAction)
      .when(out.requiresAction('redirect_to_url'))
      .then([evt.requiresAction('redirect_to_url')]);
  });
  it('resolves an unknown re-confirm even with the same next action', () =>
    given([...inAction, evt.unknown('confirm', 2)])
      .when(out.requiresAction())
      .then([evt.requiresAction()]));
  it('never moves a payment back from authorized, succeeded or a terminal state', () => {
    given(authorized).when(out.requiresAction()).then([]);
    given(paid).when(out.requiresAction()).then([]);
    given(failed).when(out.requiresAction()).then([]);
    given(canceled).when(out.requiresAction()).then([]);
  });
  it('flags a fact about another intent', () =>
    given([...created, evt.intentCreated('pi_1')])
      .when(out.requiresAction('use_stripe_sdk', 'pi_2'))
      .then([evt.discrepancy('intentId', 'pi_1', 'pi_2')]));
});

describe('RecordAuthorized', () => {
  it('authorizes a manual-capture payment from pending or requires_action', () => {
    given(manual).when(out.authorized()).then([evt.authorized()]);
    given([...manual, evt.requiresAction()])
      .when(out.authorized())
      .then([evt.authorized()]);
    expect(fold(authorized)).toMatchObject({
      status: 'authorized',
      authorizedAmount: 2000n,
      nextAction: null,
    });
  });
  it('ignores a duplicate and a stale authorization', () => {
    given(authorized).when(out.authorized()).then([]);
    given([...authorized, evt.captured(2000n)])
      .when(out.authorized())
      .then([]);
    given([...manual, evt.failed()])
      .when(out.authorized())
      .then([]);
    given([...manual, evt.canceled()])
      .when(out.authorized())
      .then([]);
  });
  it('ignores an authorization of an automatic-capture payment (it goes straight to succeeded)', () =>
    given(created).when(out.authorized()).then([]));
  it('records a different authorized amount as Stripe says, and flags it', () =>
    given(manual)
      .when(out.authorized(1800n))
      .then([evt.authorized(1800n), evt.discrepancy('authorizedAmount', '2000', '1800')]));
  it('resolves an unknown confirm', () =>
    expect(fold([...manual, evt.unknown('confirm'), evt.authorized()]).unknownOutcome).toBeNull());
});

describe('RecordSucceeded (automatic capture)', () => {
  it('moves money from pending or requires_action, with balanced postings', () => {
    given(created).when(out.succeeded()).then([evt.succeeded()]);
    given(inAction).when(out.succeeded()).then([evt.succeeded()]);
    expect(fold(paid)).toMatchObject({ status: 'succeeded', capturedAmount: 2000n, nextAction: null });
  });
  it('books the amount Stripe moved and flags a difference', () =>
    given(created)
      .when(out.succeeded(1500n))
      .then([evt.succeeded(1500n), evt.discrepancy('amount', '2000', '1500')]));
  it('ignores a duplicate, flags a different captured amount', () => {
    given(paid).when(out.succeeded()).then([]);
    given(paid)
      .when(out.succeeded(2500n))
      .then([evt.discrepancy('capturedAmount', '2000', '2500')]);
  });
  it('flags a success of a second intent on a paid payment (a double charge)', () =>
    given(paid)
      .when(out.succeeded(2000n, 'pi_2'))
      .then([evt.discrepancy('intentId', 'pi_1', 'pi_2')]));
  it('never revives a failed or canceled payment, but flags the money Stripe says moved', () => {
    given(failed)
      .when(out.succeeded())
      .then([evt.discrepancy('status', 'failed', 'succeeded')]);
    given(canceled)
      .when(out.succeeded())
      .then([evt.discrepancy('status', 'canceled', 'succeeded')]);
  });
  it('posts in the payment currency: JPY whole yen, KWD thousandths', () => {
    given([evt.created({ currency: 'JPY', amount: 500n })])
      .when(out.succeeded(500n))
      .then([evt.succeeded(500n, 'JPY')]);
    given([evt.created({ currency: 'KWD', amount: 1230n })])
      .when(out.succeeded(1230n))
      .then([evt.succeeded(1230n, 'KWD')]);
  });
  it('resolves an unknown confirm', () =>
    expect(fold([...created, evt.unknown('confirm'), evt.succeeded()]).unknownOutcome).toBeNull());
});

describe('RecordCaptured and RecordSucceeded (manual capture)', () => {
  it('captures an authorized payment wholly', () => {
    given([...authorized, evt.captureRequested(2000n)])
      .when(out.captured(2000n))
      .then([evt.captured(2000n)]);
    expect(fold([...authorized, evt.captureRequested(2000n), evt.captured(2000n)])).toMatchObject({
      status: 'succeeded',
      capturedAmount: 2000n,
      captureRequested: null,
    });
  });
  it('captures part of it: only the captured part is posted', () => {
    given([...authorized, evt.captureRequested(1500n)])
      .when(out.captured(1500n))
      .then([evt.captured(1500n)]);
    expect(fold([...authorized, evt.captureRequested(1500n), evt.captured(1500n)])).toMatchObject({
      authorizedAmount: 2000n,
      capturedAmount: 1500n,
    });
  });
  it('books a capture other than the one asked for, and flags it', () =>
    given([...authorized, evt.captureRequested(1500n)])
      .when(out.captured(1000n))
      .then([evt.captured(1000n), evt.discrepancy('capturedAmount', '1500', '1000')]));
  it('treats payment_intent.succeeded after a capture as that capture, once', () => {
    given([...authorized, evt.captureRequested(1500n)])
      .when(out.succeeded(1500n))
      .then([evt.captured(1500n)]);
    given([...authorized, evt.captureRequested(1500n), evt.captured(1500n)])
      .when(out.succeeded(1500n))
      .then([]);
  });
  it('ignores a duplicate capture', () =>
    given([...authorized, evt.captured(2000n)])
      .when(out.captured(2000n))
      .then([]));
  it('accepts a capture that arrives before the authorization (webhooks come out of order)', () => {
    given(manual)
      .when(out.captured(2000n))
      .then([evt.captured(2000n)]);
    given([...manual, evt.captured(2000n)])
      .when(out.authorized())
      .then([]);
  });
  it('ignores RecordCaptured for automatic capture (PaymentSucceeded moves that money)', () =>
    given(created).when(out.captured(2000n)).then([]));
  it('never revives a canceled authorization', () =>
    given([...authorized, evt.canceled()])
      .when(out.captured(2000n))
      .then([evt.discrepancy('status', 'canceled', 'succeeded')]));
});

describe('RecordFailed', () => {
  it('fails a pending or requires_action payment, keeping the decline', () => {
    given(created).when(out.failed()).then([evt.failed()]);
    given(inAction).when(out.failed()).then([evt.failed()]);
    expect(fold(failed).failure).toEqual({
      code: 'card_declined',
      declineCode: 'insufficient_funds',
      message: 'declined',
    });
  });
  it('is stale after authorization, success or an end', () => {
    given(authorized).when(out.failed()).then([]);
    given(paid).when(out.failed()).then([]);
    given(failed).when(out.failed()).then([]);
    given(canceled).when(out.failed()).then([]);
  });
});

describe('RecordCanceled', () => {
  it('cancels a payment that has not moved money', () => {
    given(created).when(out.canceled()).then([evt.canceled()]);
    given(inAction).when(out.canceled()).then([evt.canceled()]);
    given([...authorized, evt.cancelRequested()])
      .when(out.canceled())
      .then([evt.canceled()]);
  });
  it('is stale after success or an end', () => {
    given(paid).when(out.canceled()).then([]);
    given(failed).when(out.canceled()).then([]);
    given(canceled).when(out.canceled()).then([]);
  });
});

describe('RecordOutcomeUnknown', () => {
  it('records an unknown call once', () => {
    given(created)
      .when(out.unknown('confirm'))
      .then([evt.unknown('confirm')]);
    given([...created, evt.unknown('confirm')])
      .when(out.unknown('confirm'))
      .then([]);
    given([...created, evt.unknown('confirm')])
      .when(out.unknown('confirm', 2))
      .then([evt.unknown('confirm', 2)]);
  });
  it('ignores an unknown call whose result a later fact already gave', () => {
    given(paid).when(out.unknown('confirm')).then([]);
    given(failed).when(out.unknown('confirm')).then([]);
    given(canceled).when(out.unknown('cancel')).then([]);
    given([...created, evt.intentCreated()])
      .when(out.unknown('create_intent'))
      .then([]);
    given(authorized).when(out.unknown('confirm')).then([]);
  });
  it('records an unknown capture of an authorized payment', () =>
    given([...authorized, evt.captureRequested(2000n)])
      .when(out.unknown('capture'))
      .then([evt.unknown('capture')]));
  it('tracks an unknown refund until that refund resolves', () => {
    const history = [...paid, evt.refundRequested('rf_1', 500n)];
    given(history)
      .when(out.unknown('refund:rf_1'))
      .then([evt.unknown('refund:rf_1')]);
    given(history).when(out.unknown('refund:rf_2')).then([]);
    const resolved = fold([...history, evt.unknown('refund:rf_1'), evt.refunded('rf_1', 500n)]);
    expect(resolved.unknownOutcome).toBeNull();
    const other = fold([...history, evt.unknown('refund:rf_1'), evt.fee('txn_1', 88n)]);
    expect(other.unknownOutcome?.operation).toBe('refund:rf_1');
  });
});

describe('RecordRefunded', () => {
  const reserved = [...paid, evt.refundRequested('rf_1', 500n)];
  it('books a requested refund and releases its reservation', () => {
    given(reserved)
      .when(out.refunded('rf_1', 500n))
      .then([evt.refunded('rf_1', 500n)]);
    const state = fold([...reserved, evt.refunded('rf_1', 500n)]);
    expect(state.refundedAmount).toBe(500n);
    expect(Object.keys(state.pendingRefunds)).toEqual([]);
    expect(refundableAmount(state)).toBe(1500n);
  });
  it('ignores a duplicate', () =>
    given([...reserved, evt.refunded('rf_1', 500n)])
      .when(out.refunded('rf_1', 500n))
      .then([]));
  it('books cumulative partial refunds up to the captured amount', () => {
    const history = [
      ...paid,
      evt.refundRequested('rf_1', 500n),
      evt.refunded('rf_1', 500n),
      evt.refundRequested('rf_2', 1500n),
    ];
    given(history)
      .when(out.refunded('rf_2', 1500n))
      .then([evt.refunded('rf_2', 1500n)]);
    expect(fold([...history, evt.refunded('rf_2', 1500n)]).refundedAmount).toBe(2000n);
  });
  it('books a refund made outside the ledger (Stripe dashboard) when it fits', () =>
    given(paid)
      .when(out.refunded('re_dash', 700n))
      .then([evt.refunded('re_dash', 700n)]));
  it('books an outside refund that overlaps pending ones, and flags the overlap', () =>
    given([...paid, evt.refundRequested('rf_1', 1800n)])
      .when(out.refunded('re_dash', 700n))
      .then([evt.refunded('re_dash', 700n), evt.discrepancy('refund:re_dash', '200', '700')]));
  it('never books more than is left of the charge', () =>
    given([...paid, evt.refundRequested('rf_1', 1500n), evt.refunded('rf_1', 1500n)])
      .when(out.refunded('re_dash', 600n))
      .then([evt.discrepancy('refund:re_dash', '500', '600')]));
  it('books a refund of another amount than reserved, and flags it', () =>
    given(reserved)
      .when(out.refunded('rf_1', 400n))
      .then([evt.refunded('rf_1', 400n), evt.discrepancy('refund:rf_1', '500', '400')]));
  it('ignores a refund of a payment that has not moved money', () =>
    given(created).when(out.refunded('rf_1', 100n)).then([]));
});

describe('refund ids from outside', () => {
  it('are data, never Object.prototype keys', () => {
    given(paid)
      .when(cmd.refund('constructor', 100n))
      .then([evt.refundRequested('constructor', 100n)]);
    given(paid).when(out.refundFailed('toString')).then([]);
    const history = [...paid, evt.refundRequested('__proto__', 100n)];
    expect(fold(history).pendingRefunds['__proto__']).toBe(100n);
    expect(pendingRefundTotal(fold(history))).toBe(100n);
    given(history)
      .when(out.refunded('__proto__', 100n))
      .then([evt.refunded('__proto__', 100n)]);
    expect(fold([...history, evt.refunded('__proto__', 100n)]).refundedAmount).toBe(100n);
  });
});

describe('RecordRefundFailed', () => {
  it('releases the reservation so the amount can be refunded again', () => {
    const history = [...paid, evt.refundRequested('rf_1', 2000n)];
    given(history)
      .when(out.refundFailed('rf_1'))
      .then([evt.refundFailed('rf_1')]);
    given([...history, evt.refundFailed('rf_1')])
      .when(cmd.refund('rf_2', null))
      .then([evt.refundRequested('rf_2', 2000n)]);
  });
  it('ignores an unknown, failed or completed refund', () => {
    given(paid).when(out.refundFailed('rf_x')).then([]);
    given([...paid, evt.refundRequested('rf_1', 100n), evt.refundFailed('rf_1')])
      .when(out.refundFailed('rf_1'))
      .then([]);
    given([...paid, evt.refundRequested('rf_1', 100n), evt.refunded('rf_1', 100n)])
      .when(out.refundFailed('rf_1'))
      .then([]);
  });
});

describe('RecordDisputed and RecordFee', () => {
  it('post a dispute once per dispute id', () => {
    given(paid)
      .when(out.disputed('dp_1', 2000n))
      .then([evt.disputed('dp_1', 2000n)]);
    given([...paid, evt.disputed('dp_1', 2000n)])
      .when(out.disputed('dp_1', 2000n))
      .then([]);
    expect(fold([...paid, evt.disputed('dp_1', 2000n)])).toMatchObject({
      status: 'succeeded',
      disputedAmount: 2000n,
    });
  });
  it('post a fee once per balance transaction', () => {
    given(paid)
      .when(out.fee('txn_1', 88n))
      .then([evt.fee('txn_1', 88n)]);
    given([...paid, evt.fee('txn_1', 88n)])
      .when(out.fee('txn_1', 88n))
      .then([]);
    given([...paid, evt.fee('txn_1', 88n)])
      .when(out.fee('txn_2', 30n))
      .then([evt.fee('txn_2', 30n)]);
  });
  it('apply to succeeded payments only', () => {
    given(created).when(out.disputed('dp_1', 100n)).then([]);
    given(failed).when(out.fee('txn_1', 88n)).then([]);
  });
});

describe('RecordDiscrepancy', () => {
  it('records what the reconciler found', () =>
    given(paid)
      .when(out.discrepancy('status', 'succeeded', 'canceled'))
      .then([evt.discrepancy('status', 'succeeded', 'canceled')]));
});

describe('terminal payments', () => {
  const everyOutcome: PaymentOutcome[] = [
    out.submission('confirm', 9),
    out.intentCreated(),
    out.requiresAction(),
    out.authorized(),
    out.succeeded(),
    out.failed(),
    out.unknown('confirm', 9),
    out.captured(2000n),
    out.canceled(),
    out.refunded('rf_1', 100n),
    out.refundFailed('rf_1'),
    out.disputed('dp_1', 100n),
    out.fee('txn_1', 10n),
    out.discrepancy('x', '1', '2'),
  ];
  for (const [name, history] of [
    ['failed', failed],
    ['canceled', canceled],
    ['canceled (manual)', [...authorized, evt.canceled()]],
  ] as const) {
    it(`a ${name} payment stays ${fold(history).status} whatever Stripe reports`, () => {
      const before = fold(history);
      for (const outcome of everyOutcome) {
        const after = decidePayment(outcome, before).reduce(evolvePayment, before);
        expect(after.status).toBe(before.status);
        expect(after.capturedAmount).toBe(0n);
      }
    });
  }
});

describe('a whole manual-capture lifecycle', () => {
  it('folds to the amounts Finance expects', () => {
    const inputs: (PaymentCommand | PaymentOutcome)[] = [
      cmd.create({ captureMethod: 'manual' }),
      out.submission('create_intent'),
      out.intentCreated(),
      out.submission('confirm'),
      out.requiresAction(),
      out.authorized(),
      cmd.capture(1500n),
      out.submission('capture'),
      out.captured(1500n),
      out.succeeded(1500n),
      out.fee('txn_1', 74n),
      cmd.refund('rf_1', 500n),
      out.submission('refund:rf_1'),
      out.refunded('rf_1', 500n),
      out.refunded('rf_1', 500n),
    ];
    let state = initialPaymentState();
    const events: PaymentEvent[] = [];
    for (const input of inputs) {
      const emitted = decidePayment(input, state);
      events.push(...emitted);
      state = emitted.reduce(evolvePayment, state);
    }
    expect(events.map((e) => e.type)).toEqual([
      'PaymentCreated',
      'PaymentSubmitted',
      'PaymentIntentCreated',
      'PaymentSubmitted',
      'PaymentRequiresAction',
      'PaymentAuthorized',
      'PaymentCaptureRequested',
      'PaymentSubmitted',
      'PaymentCaptured',
      'FeeRecorded',
      'RefundRequested',
      'PaymentSubmitted',
      'PaymentRefunded',
    ]);
    expect(state).toMatchObject({
      status: 'succeeded',
      intentId: 'pi_1',
      authorizedAmount: 2000n,
      capturedAmount: 1500n,
      refundedAmount: 500n,
      feesAmount: 74n,
      captureRequested: null,
      unknownOutcome: null,
    });
    expect(Object.keys(state.pendingRefunds)).toEqual([]);
  });
});
