import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyPostings, trialBalance } from '../journal/balances.ts';
import type { Posting } from '../journal/postings.ts';
import type { PaymentCommand, PaymentOutcome } from './paymentCommands.ts';
import type { PaymentEvent } from './paymentEvents.ts';
import { decidePayment } from './decidePayment.ts';
import { evolvePayment } from './evolvePayment.ts';
import { initialPaymentState, pendingRefundTotal, statusRank, type PaymentState } from './paymentState.ts';

const now = '2026-11-22T10:00:00.000Z';
const P = 'pay_p';
const amount = fc.bigInt({ min: 1n, max: 5000n });
const refundId = fc.constantFrom('rf_a', 'rf_b', 'rf_c', 'rf_d');

/** Any command or outcome a payment may receive, in any order. */
const anyInput: fc.Arbitrary<PaymentCommand | PaymentOutcome> = fc.oneof(
  fc.record({ amount, manual: fc.boolean() }).map(({ amount: a, manual }): PaymentCommand => ({
    type: 'CreatePayment',
    data: {
      paymentId: P,
      customerId: 'c',
      paymentMethodId: 'pm_card_visa',
      amount: a,
      currency: 'USD',
      captureMethod: manual ? 'manual' : 'automatic',
      offSession: false,
      description: null,
      metadata: {},
      now,
    },
  })),
  fc
    .option(amount, { nil: null })
    .map((a): PaymentCommand => ({ type: 'CapturePayment', data: { paymentId: P, amount: a, now } })),
  fc.constant<PaymentCommand>({ type: 'CancelPayment', data: { paymentId: P, reason: null, now } }),
  fc.record({ refundId, a: fc.option(amount, { nil: null }) }).map(({ refundId: r, a }): PaymentCommand => ({
    type: 'RefundPayment',
    data: { paymentId: P, refundId: r, amount: a, reason: null, now },
  })),
  fc.constant<PaymentOutcome>({
    type: 'RecordRequiresAction',
    data: { paymentId: P, intentId: 'pi', nextAction: { type: 'x', redirectUrl: null }, now },
  }),
  amount.map((a): PaymentOutcome => ({
    type: 'RecordAuthorized',
    data: { paymentId: P, intentId: 'pi', amount: a, now },
  })),
  amount.map((a): PaymentOutcome => ({
    type: 'RecordSucceeded',
    data: { paymentId: P, intentId: 'pi', chargeId: null, amount: a, now },
  })),
  fc.constant<PaymentOutcome>({
    type: 'RecordFailed',
    data: { paymentId: P, code: 'card_declined', declineCode: null, message: 'no', now },
  }),
  amount.map((a): PaymentOutcome => ({ type: 'RecordCaptured', data: { paymentId: P, amount: a, now } })),
  fc.constant<PaymentOutcome>({ type: 'RecordCanceled', data: { paymentId: P, now } }),
  fc.record({ refundId, a: amount }).map(({ refundId: r, a }): PaymentOutcome => ({
    type: 'RecordRefunded',
    data: { paymentId: P, refundId: r, stripeRefundId: `re_${r}`, amount: a, now },
  })),
  refundId.map((r): PaymentOutcome => ({
    type: 'RecordRefundFailed',
    data: { paymentId: P, refundId: r, reason: 'x', now },
  })),
  amount.map((a): PaymentOutcome => ({
    type: 'RecordDisputed',
    data: { paymentId: P, disputeId: `dp_${a}`, amount: a, reason: 'fraud', now },
  })),
  amount.map((a): PaymentOutcome => ({
    type: 'RecordFee',
    data: { paymentId: P, balanceTransactionId: `txn_${a}`, amount: a, now },
  })),
  fc.constant<PaymentOutcome>({
    type: 'RecordOutcomeUnknown',
    data: { paymentId: P, operation: 'confirm', attempt: 1, idempotencyKey: 'k', reason: 'timeout', now },
  }),
);

/** Runs inputs through decide/evolve, skipping refused ones; returns every emitted event and each state. */
function run(inputs: readonly (PaymentCommand | PaymentOutcome)[]) {
  let state: PaymentState = initialPaymentState();
  const events: PaymentEvent[] = [];
  const states: PaymentState[] = [state];
  for (const input of inputs) {
    let emitted: PaymentEvent[];
    try {
      emitted = decidePayment(input, state);
    } catch {
      continue;
    }
    for (const e of emitted) {
      state = evolvePayment(state, e);
      events.push(e);
      states.push(state);
    }
  }
  return { state, events, states };
}

const postingsOf = (e: PaymentEvent): readonly Posting[] => ('postings' in e.data ? e.data.postings : []);

describe('payment invariants (any sequence of commands and outcomes)', () => {
  it('every posting balances and the trial balance is zero per currency', () => {
    fc.assert(
      fc.property(fc.array(anyInput, { maxLength: 40 }), (inputs) => {
        const { events } = run(inputs);
        let balances = new Map<string, bigint>();
        for (const e of events) balances = applyPostings(balances, postingsOf(e));
        for (const total of trialBalance(balances).values()) expect(total).toBe(0n);
      }),
      { numRuns: 300 },
    );
  });

  it('never refunds (or reserves) more than was captured', () => {
    fc.assert(
      fc.property(fc.array(anyInput, { maxLength: 40 }), (inputs) => {
        for (const s of run(inputs).states) {
          expect(s.refundedAmount + pendingRefundTotal(s)).toBeLessThanOrEqual(s.capturedAmount);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never moves a payment back: status rank never decreases and terminal states stay', () => {
    fc.assert(
      fc.property(fc.array(anyInput, { maxLength: 40 }), (inputs) => {
        const { states } = run(inputs.slice());
        for (let i = 1; i < states.length; i++) {
          const before = states[i - 1] as PaymentState;
          const after = states[i] as PaymentState;
          if (!before.exists) continue;
          expect(statusRank[after.status]).toBeGreaterThanOrEqual(statusRank[before.status]);
          if (before.status === 'failed' || before.status === 'canceled')
            expect(after.status).toBe(before.status);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('folding the same events gives the same state', () => {
    fc.assert(
      fc.property(fc.array(anyInput, { maxLength: 30 }), (inputs) => {
        const { state, events } = run(inputs);
        expect(events.reduce(evolvePayment, initialPaymentState())).toEqual(state);
      }),
      { numRuns: 200 },
    );
  });
});
