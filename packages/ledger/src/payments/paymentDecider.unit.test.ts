import { describe, expect, it } from 'vitest';
import { LedgerError } from '../errors.ts';
import type { PaymentCommand, PaymentOutcome } from './paymentCommands.ts';
import type { PaymentEvent } from './paymentEvents.ts';
import { decidePayment } from './decidePayment.ts';
import { evolvePayment } from './evolvePayment.ts';
import { initialPaymentState } from './paymentState.ts';

const now = '2026-11-22T10:00:00.000Z';
const P = 'pay_1';

/** Given events, when a command, then events or an error code. */
function given(...history: PaymentEvent[]) {
  const state = history.reduce(evolvePayment, initialPaymentState());
  return {
    when(command: PaymentCommand | PaymentOutcome) {
      return {
        then(expected: PaymentEvent[]) {
          expect(decidePayment(command, state)).toEqual(expected);
        },
        thenError(code: LedgerError['code']) {
          let caught: unknown;
          try {
            decidePayment(command, state);
          } catch (error) {
            caught = error;
          }
          expect(caught).toBeInstanceOf(LedgerError);
          expect((caught as LedgerError).code).toBe(code);
        },
      };
    },
  };
}

const createCmd = (
  over: Partial<Extract<PaymentCommand, { type: 'CreatePayment' }>['data']> = {},
): PaymentCommand => ({
  type: 'CreatePayment',
  data: {
    paymentId: P,
    customerId: 'cus',
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
});
const created = (
  over: Partial<Extract<PaymentEvent, { type: 'PaymentCreated' }>['data']> = {},
): PaymentEvent => ({
  type: 'PaymentCreated',
  data: {
    paymentId: P,
    customerId: 'cus',
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
});
const manual = created({ captureMethod: 'manual' });
const customerToStripe = (amount: bigint) => [
  {
    source: 'customer:cus' as const,
    destination: 'stripe:pending' as const,
    amount,
    currency: 'USD' as const,
  },
];
const succeededEvt = (amount = 2000n): PaymentEvent => ({
  type: 'PaymentSucceeded',
  data: {
    paymentId: P,
    intentId: 'pi_1',
    chargeId: 'ch_1',
    amount,
    postings: customerToStripe(amount),
    at: now,
  },
});
const authorizedEvt: PaymentEvent = {
  type: 'PaymentAuthorized',
  data: { paymentId: P, intentId: 'pi_1', amount: 2000n, at: now },
};
const failedEvt: PaymentEvent = {
  type: 'PaymentFailed',
  data: { paymentId: P, code: 'card_declined', declineCode: 'generic_decline', message: 'declined', at: now },
};
const refundReq = (refundId: string, amount: bigint): PaymentEvent => ({
  type: 'RefundRequested',
  data: { paymentId: P, refundId, amount, reason: null, at: now },
});

describe('CreatePayment', () => {
  it('opens a payment', () => given().when(createCmd()).then([created()]));
  it('refuses a second create of the same id', () =>
    given(created()).when(createCmd()).thenError('payment_already_exists'));
  it('refuses zero and negative amounts', () => {
    given()
      .when(createCmd({ amount: 0n }))
      .thenError('invalid_amount');
    given()
      .when(createCmd({ amount: -1n }))
      .thenError('invalid_amount');
  });
  it('refuses amounts above eight digits', () =>
    given()
      .when(createCmd({ amount: 100_000_000n }))
      .thenError('invalid_amount'));
  it('accepts whole yen and refuses KWD amounts not ending in 0', () => {
    given()
      .when(createCmd({ currency: 'JPY', amount: 500n }))
      .then([created({ currency: 'JPY', amount: 500n })]);
    given()
      .when(createCmd({ currency: 'KWD', amount: 1005n }))
      .thenError('invalid_amount');
    given()
      .when(createCmd({ currency: 'KWD', amount: 1000n }))
      .then([created({ currency: 'KWD', amount: 1000n })]);
  });
});

describe('commands on a payment that does not exist', () => {
  it('are refused', () => {
    given()
      .when({ type: 'CapturePayment', data: { paymentId: P, amount: null, now } })
      .thenError('payment_not_found');
    given()
      .when({ type: 'RecordFailed', data: { paymentId: P, code: 'x', declineCode: null, message: 'm', now } })
      .thenError('payment_not_found');
  });
});

describe('executor outcomes', () => {
  it('records a submission before the Stripe call', () =>
    given(created())
      .when({
        type: 'RecordSubmission',
        data: { paymentId: P, operation: 'create_intent', attempt: 1, idempotencyKey: 'k1', now },
      })
      .then([
        {
          type: 'PaymentSubmitted',
          data: { paymentId: P, operation: 'create_intent', attempt: 1, idempotencyKey: 'k1', at: now },
        },
      ]));
  it('records the intent once, and a different intent as a discrepancy', () => {
    const intent: PaymentEvent = {
      type: 'PaymentIntentCreated',
      data: { paymentId: P, intentId: 'pi_1', at: now },
    };
    given(created())
      .when({ type: 'RecordIntentCreated', data: { paymentId: P, intentId: 'pi_1', now } })
      .then([intent]);
    given(created(), intent)
      .when({ type: 'RecordIntentCreated', data: { paymentId: P, intentId: 'pi_1', now } })
      .then([]);
    given(created(), intent)
      .when({ type: 'RecordIntentCreated', data: { paymentId: P, intentId: 'pi_2', now } })
      .then([
        {
          type: 'DiscrepancyDetected',
          data: { paymentId: P, field: 'intentId', ledgerValue: 'pi_1', stripeValue: 'pi_2', at: now },
        },
      ]);
  });
  it('records requires_action (3-D Secure) as a state, not a failure', () =>
    given(created())
      .when({
        type: 'RecordRequiresAction',
        data: {
          paymentId: P,
          intentId: 'pi_1',
          nextAction: { type: 'use_stripe_sdk', redirectUrl: null },
          now,
        },
      })
      .then([
        {
          type: 'PaymentRequiresAction',
          data: {
            paymentId: P,
            intentId: 'pi_1',
            nextAction: { type: 'use_stripe_sdk', redirectUrl: null },
            at: now,
          },
        },
      ]));
  it('records success with balanced postings', () =>
    given(created())
      .when({
        type: 'RecordSucceeded',
        data: { paymentId: P, intentId: 'pi_1', chargeId: 'ch_1', amount: 2000n, now },
      })
      .then([succeededEvt()]));
  it('records a different captured amount and flags it', () =>
    given(created())
      .when({
        type: 'RecordSucceeded',
        data: { paymentId: P, intentId: 'pi_1', chargeId: 'ch_1', amount: 1500n, now },
      })
      .then([
        succeededEvt(1500n),
        {
          type: 'DiscrepancyDetected',
          data: { paymentId: P, field: 'amount', ledgerValue: '2000', stripeValue: '1500', at: now },
        },
      ]));
  it('ignores a duplicate success', () =>
    given(created(), succeededEvt())
      .when({
        type: 'RecordSucceeded',
        data: { paymentId: P, intentId: 'pi_1', chargeId: 'ch_1', amount: 2000n, now },
      })
      .then([]));
  it('records a decline, and never after success', () => {
    given(created())
      .when({
        type: 'RecordFailed',
        data: {
          paymentId: P,
          code: 'card_declined',
          declineCode: 'generic_decline',
          message: 'declined',
          now,
        },
      })
      .then([failedEvt]);
    given(created(), succeededEvt())
      .when({
        type: 'RecordFailed',
        data: { paymentId: P, code: 'card_declined', declineCode: null, message: 'late', now },
      })
      .then([]);
  });
  it('never moves a terminal payment back', () => {
    given(created(), failedEvt)
      .when({
        type: 'RecordSucceeded',
        data: { paymentId: P, intentId: 'pi_1', chargeId: null, amount: 2000n, now },
      })
      .then([]);
    given(created(), failedEvt)
      .when({
        type: 'RecordRequiresAction',
        data: { paymentId: P, intentId: 'pi_1', nextAction: { type: 'x', redirectUrl: null }, now },
      })
      .then([]);
    given(created(), { type: 'PaymentCanceled', data: { paymentId: P, at: now } })
      .when({ type: 'RecordAuthorized', data: { paymentId: P, intentId: 'pi_1', amount: 2000n, now } })
      .then([]);
  });
  it('ignores a stale requires_action after success', () =>
    given(created(), succeededEvt())
      .when({
        type: 'RecordRequiresAction',
        data: { paymentId: P, intentId: 'pi_1', nextAction: { type: 'x', redirectUrl: null }, now },
      })
      .then([]));
  it('records an unknown outcome until a fact resolves it', () => {
    const unknown: PaymentEvent = {
      type: 'PaymentOutcomeUnknown',
      data: {
        paymentId: P,
        operation: 'confirm',
        attempt: 1,
        idempotencyKey: 'k',
        reason: 'timeout',
        at: now,
      },
    };
    given(created())
      .when({
        type: 'RecordOutcomeUnknown',
        data: { paymentId: P, operation: 'confirm', attempt: 1, idempotencyKey: 'k', reason: 'timeout', now },
      })
      .then([unknown]);
    given(created(), unknown)
      .when({ type: 'CancelPayment', data: { paymentId: P, reason: null, now } })
      .thenError('invalid_transition');
    const state = [created(), unknown, succeededEvt()].reduce(evolvePayment, initialPaymentState());
    expect(state.unknownOutcome).toBeNull();
  });
});

describe('manual capture', () => {
  it('authorises, then captures part, with postings for what was captured', () => {
    given(manual)
      .when({ type: 'RecordAuthorized', data: { paymentId: P, intentId: 'pi_1', amount: 2000n, now } })
      .then([authorizedEvt]);
    given(manual, authorizedEvt)
      .when({ type: 'CapturePayment', data: { paymentId: P, amount: 1500n, now } })
      .then([{ type: 'PaymentCaptureRequested', data: { paymentId: P, amount: 1500n, at: now } }]);
    given(manual, authorizedEvt)
      .when({ type: 'RecordCaptured', data: { paymentId: P, amount: 1500n, now } })
      .then([
        {
          type: 'PaymentCaptured',
          data: { paymentId: P, amount: 1500n, postings: customerToStripe(1500n), at: now },
        },
      ]);
  });
  it('refuses to capture more than authorised, or before authorisation', () => {
    given(manual, authorizedEvt)
      .when({ type: 'CapturePayment', data: { paymentId: P, amount: 2001n, now } })
      .thenError('capture_exceeds_authorized');
    given(manual)
      .when({ type: 'CapturePayment', data: { paymentId: P, amount: null, now } })
      .thenError('invalid_transition');
  });
  it('treats payment_intent.succeeded after a capture as the capture', () =>
    given(manual, authorizedEvt)
      .when({
        type: 'RecordSucceeded',
        data: { paymentId: P, intentId: 'pi_1', chargeId: 'ch', amount: 2000n, now },
      })
      .then([
        {
          type: 'PaymentCaptured',
          data: { paymentId: P, amount: 2000n, postings: customerToStripe(2000n), at: now },
        },
      ]));
  it('ignores authorisation on an automatic-capture payment', () =>
    given(created())
      .when({ type: 'RecordAuthorized', data: { paymentId: P, intentId: 'pi_1', amount: 2000n, now } })
      .then([]));
});

describe('cancel', () => {
  it('is accepted before money moved and refused after', () => {
    given(created())
      .when({ type: 'CancelPayment', data: { paymentId: P, reason: 'dup', now } })
      .then([{ type: 'PaymentCancelRequested', data: { paymentId: P, reason: 'dup', at: now } }]);
    given(created(), succeededEvt())
      .when({ type: 'CancelPayment', data: { paymentId: P, reason: null, now } })
      .thenError('invalid_transition');
    given(manual, authorizedEvt)
      .when({ type: 'RecordCanceled', data: { paymentId: P, now } })
      .then([{ type: 'PaymentCanceled', data: { paymentId: P, at: now } }]);
    given(created(), succeededEvt())
      .when({ type: 'RecordCanceled', data: { paymentId: P, now } })
      .then([]);
  });
});

describe('refunds', () => {
  const paid = [created(), succeededEvt()];
  it('reserves a partial refund and refuses more than is left, counting pending ones', () => {
    given(...paid)
      .when({
        type: 'RefundPayment',
        data: { paymentId: P, refundId: 'rf_1', amount: 500n, reason: null, now },
      })
      .then([refundReq('rf_1', 500n)]);
    given(...paid, refundReq('rf_1', 1500n))
      .when({
        type: 'RefundPayment',
        data: { paymentId: P, refundId: 'rf_2', amount: 501n, reason: null, now },
      })
      .thenError('refund_exceeds_captured');
    given(...paid, refundReq('rf_1', 1500n))
      .when({
        type: 'RefundPayment',
        data: { paymentId: P, refundId: 'rf_2', amount: null, reason: null, now },
      })
      .then([refundReq('rf_2', 500n)]);
  });
  it('refuses a refund before capture', () =>
    given(created())
      .when({
        type: 'RefundPayment',
        data: { paymentId: P, refundId: 'rf', amount: null, reason: null, now },
      })
      .thenError('invalid_transition'));
  it('records the refund with postings once', () => {
    const done: PaymentEvent = {
      type: 'PaymentRefunded',
      data: {
        paymentId: P,
        refundId: 'rf_1',
        stripeRefundId: 're_1',
        amount: 500n,
        postings: [{ source: 'stripe:pending', destination: 'refunds', amount: 500n, currency: 'USD' }],
        at: now,
      },
    };
    const record: PaymentOutcome = {
      type: 'RecordRefunded',
      data: { paymentId: P, refundId: 'rf_1', stripeRefundId: 're_1', amount: 500n, now },
    };
    given(...paid, refundReq('rf_1', 500n))
      .when(record)
      .then([done]);
    given(...paid, refundReq('rf_1', 500n), done)
      .when(record)
      .then([]);
  });
  it('releases the reservation when a refund fails', () => {
    const failed: PaymentEvent = {
      type: 'RefundFailed',
      data: { paymentId: P, refundId: 'rf_1', reason: 'expired_or_canceled_card', at: now },
    };
    given(...paid, refundReq('rf_1', 2000n))
      .when({
        type: 'RecordRefundFailed',
        data: { paymentId: P, refundId: 'rf_1', reason: 'expired_or_canceled_card', now },
      })
      .then([failed]);
    given(...paid, refundReq('rf_1', 2000n), failed)
      .when({
        type: 'RefundPayment',
        data: { paymentId: P, refundId: 'rf_2', amount: 2000n, reason: null, now },
      })
      .then([refundReq('rf_2', 2000n)]);
  });
});

describe('disputes and fees', () => {
  it('post once per dispute and per balance transaction', () => {
    const dispute: PaymentEvent = {
      type: 'PaymentDisputed',
      data: {
        paymentId: P,
        disputeId: 'dp_1',
        amount: 2000n,
        reason: 'fraudulent',
        postings: [{ source: 'stripe:pending', destination: 'disputes', amount: 2000n, currency: 'USD' }],
        at: now,
      },
    };
    const cmd: PaymentOutcome = {
      type: 'RecordDisputed',
      data: { paymentId: P, disputeId: 'dp_1', amount: 2000n, reason: 'fraudulent', now },
    };
    given(created(), succeededEvt()).when(cmd).then([dispute]);
    given(created(), succeededEvt(), dispute).when(cmd).then([]);
    const fee: PaymentEvent = {
      type: 'FeeRecorded',
      data: {
        paymentId: P,
        balanceTransactionId: 'txn_1',
        amount: 88n,
        postings: [{ source: 'stripe:pending', destination: 'fees:stripe', amount: 88n, currency: 'USD' }],
        at: now,
      },
    };
    given(created(), succeededEvt())
      .when({ type: 'RecordFee', data: { paymentId: P, balanceTransactionId: 'txn_1', amount: 88n, now } })
      .then([fee]);
    given(created(), succeededEvt(), fee)
      .when({ type: 'RecordFee', data: { paymentId: P, balanceTransactionId: 'txn_1', amount: 88n, now } })
      .then([]);
  });
});
