import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LedgerError } from '../errors.ts';
import { applyPostings, assertBalanced, trialBalance, type BalanceKey } from '../journal/balances.ts';
import type { Posting } from '../journal/postings.ts';
import type { PaymentCommand, PaymentOutcome, StripeOperation } from './paymentCommands.ts';
import type { PaymentEvent } from './paymentEvents.ts';
import {
  decidePayment,
  evolvePayment,
  initialPaymentState,
  pendingRefundTotal,
  statusRank,
  type PaymentState,
} from './paymentDecider.ts';

const now = '2026-11-22T10:00:00.000Z';
const P = 'pay_p';
const C = 'cus_p';
const RUNS = 300;

type Input = PaymentCommand | PaymentOutcome;

// Amounts: small, so that sequences reach the interesting cases (sums, limits); half of them
// multiples of 10 so that three-decimal currencies get through validation too.
const amount = fc.oneof(
  fc.bigInt({ min: 1n, max: 3000n }),
  fc.bigInt({ min: 1n, max: 300n }).map((n) => n * 10n),
);
const maybeAmount = fc.option(amount, { nil: null });
const refundId = fc.constantFrom('rf_a', 'rf_b', 'rf_c', 'rf_d');
const intentId = fc.constantFrom('pi_1', 'pi_1', 'pi_1', 'pi_2');
const operation = fc.constantFrom<StripeOperation>(
  'create_intent',
  'confirm',
  'capture',
  'cancel',
  'refund:rf_a',
  'refund:rf_b',
);
const attempt = fc.integer({ min: 1, max: 3 });

/** Opens the payment in one of several currencies, manual or automatic capture. */
const createPayment: fc.Arbitrary<Input> = fc
  .record({ amount, currency: fc.constantFrom('USD', 'JPY', 'KWD', 'EUR'), manual: fc.boolean() })
  .map(({ amount: a, currency, manual }): Input => ({
    type: 'CreatePayment',
    data: {
      paymentId: P,
      customerId: C,
      paymentMethodId: 'pm_card_visa',
      amount: a,
      currency,
      captureMethod: manual ? 'manual' : 'automatic',
      offSession: false,
      description: null,
      metadata: {},
      now,
    },
  }));

/** Any command or outcome a payment may receive, in any order (weighted to reach deep states). */
const anyInput: fc.Arbitrary<Input> = fc.oneof(
  { weight: 1, arbitrary: createPayment },
  {
    weight: 2,
    arbitrary: maybeAmount.map((a): Input => ({
      type: 'CapturePayment',
      data: { paymentId: P, amount: a, now },
    })),
  },
  {
    weight: 1,
    arbitrary: fc.constant<Input>({ type: 'CancelPayment', data: { paymentId: P, reason: null, now } }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ id: refundId, a: maybeAmount }).map(({ id, a }): Input => ({
      type: 'RefundPayment',
      data: { paymentId: P, refundId: id, amount: a, reason: null, now },
    })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ operation, attempt }).map(({ operation: op, attempt: n }): Input => ({
      type: 'RecordSubmission',
      data: { paymentId: P, operation: op, attempt: n, idempotencyKey: `${op}:${n}`, now },
    })),
  },
  {
    weight: 1,
    arbitrary: intentId.map((id): Input => ({
      type: 'RecordIntentCreated',
      data: { paymentId: P, intentId: id, now },
    })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ id: intentId, t: fc.constantFrom('use_stripe_sdk', 'redirect_to_url') })
      .map(({ id, t }): Input => ({
        type: 'RecordRequiresAction',
        data: { paymentId: P, intentId: id, nextAction: { type: t, redirectUrl: null }, now },
      })),
  },
  {
    weight: 2,
    arbitrary: fc.record({ id: intentId, a: amount }).map(({ id, a }): Input => ({
      type: 'RecordAuthorized',
      data: { paymentId: P, intentId: id, amount: a, now },
    })),
  },
  {
    weight: 3,
    arbitrary: fc.record({ id: intentId, a: amount }).map(({ id, a }): Input => ({
      type: 'RecordSucceeded',
      data: { paymentId: P, intentId: id, chargeId: null, amount: a, now },
    })),
  },
  {
    weight: 1,
    arbitrary: fc.constant<Input>({
      type: 'RecordFailed',
      data: { paymentId: P, code: 'card_declined', declineCode: null, message: 'declined', now },
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ operation, attempt }).map(({ operation: op, attempt: n }): Input => ({
      type: 'RecordOutcomeUnknown',
      data: { paymentId: P, operation: op, attempt: n, idempotencyKey: `${op}:${n}`, reason: 'timeout', now },
    })),
  },
  {
    weight: 2,
    arbitrary: amount.map((a): Input => ({ type: 'RecordCaptured', data: { paymentId: P, amount: a, now } })),
  },
  { weight: 1, arbitrary: fc.constant<Input>({ type: 'RecordCanceled', data: { paymentId: P, now } }) },
  {
    weight: 4,
    arbitrary: fc
      .record({ id: fc.oneof(refundId, fc.constant('re_dashboard')), a: amount })
      .map(({ id, a }): Input => ({
        type: 'RecordRefunded',
        data: { paymentId: P, refundId: id, stripeRefundId: `re_${id}`, amount: a, now },
      })),
  },
  {
    weight: 2,
    arbitrary: refundId.map((id): Input => ({
      type: 'RecordRefundFailed',
      data: { paymentId: P, refundId: id, reason: 'failed', now },
    })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ id: fc.constantFrom('dp_1', 'dp_2'), a: amount }).map(({ id, a }): Input => ({
      type: 'RecordDisputed',
      data: { paymentId: P, disputeId: id, amount: a, reason: 'fraudulent', now },
    })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ id: fc.constantFrom('txn_1', 'txn_2'), a: amount }).map(({ id, a }): Input => ({
      type: 'RecordFee',
      data: { paymentId: P, balanceTransactionId: id, amount: a, now },
    })),
  },
);

/**
 * A few inputs on a payment that does not exist yet (refused), its creation, then any mix: most
 * runs reach success, refunds, disputes and fees, or a terminal state.
 */
const inputs = fc
  .tuple(
    fc.array(anyInput, { maxLength: 2 }),
    createPayment,
    fc.array(anyInput, { minLength: 5, maxLength: 40, size: 'max' }),
  )
  .map(([before, create, after]) => [...before, create, ...after]);

interface Step {
  /** Index of the decision (input) that emitted the event. */
  readonly decision: number;
  readonly before: PaymentState;
  readonly event: PaymentEvent;
  readonly after: PaymentState;
}

/** Runs inputs through decide and evolve, skipping refused commands; every step of the history. */
function run(sequence: readonly Input[]): { state: PaymentState; events: PaymentEvent[]; steps: Step[] } {
  let state = initialPaymentState();
  const events: PaymentEvent[] = [];
  const steps: Step[] = [];
  for (const [decision, input] of sequence.entries()) {
    let emitted: PaymentEvent[];
    try {
      emitted = decidePayment(input, state);
    } catch (error) {
      // Refusals are typed; an outcome (a fact) is refused only for a payment that does not exist.
      expect(error).toBeInstanceOf(LedgerError);
      if (input.type.startsWith('Record')) expect((error as LedgerError).code).toBe('payment_not_found');
      continue;
    }
    for (const event of emitted) {
      const after = evolvePayment(state, event);
      steps.push({ decision, before: state, event, after });
      events.push(event);
      state = after;
    }
  }
  return { state, events, steps };
}

const postingsOf = (e: PaymentEvent): readonly Posting[] => ('postings' in e.data ? e.data.postings : []);

describe('payment invariants, for any sequence of commands and outcomes', () => {
  it('(a) every posting balances, the trial balance is zero per currency, and balances match the state', () => {
    fc.assert(
      fc.property(inputs, (sequence) => {
        const { state, events } = run(sequence);
        let balances = new Map<BalanceKey, bigint>();
        for (const e of events) {
          assertBalanced(postingsOf(e));
          balances = applyPostings(balances, postingsOf(e));
        }
        for (const total of trialBalance(balances).values()) expect(total).toBe(0n);
        if (state.currency !== null) {
          const balance = (account: string): bigint =>
            balances.get(`${account}|${state.currency}` as BalanceKey) ?? 0n;
          expect(balance(`customer:${C}`)).toBe(-state.capturedAmount);
          expect(balance('refunds')).toBe(state.refundedAmount);
          expect(balance('disputes')).toBe(state.disputedAmount);
          expect(balance('fees:stripe')).toBe(state.feesAmount);
          expect(balance('stripe:pending')).toBe(
            state.capturedAmount - state.refundedAmount - state.disputedAmount - state.feesAmount,
          );
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('(b) never refunds more than was captured, nor reserves more without flagging it', () => {
    fc.assert(
      fc.property(inputs, (sequence) => {
        const { steps } = run(sequence);
        // A refund made outside the ledger may overlap reserved ones: it is booked and, in the
        // same decision, flagged.
        const flaggedAt = steps.find(
          ({ event }) => event.type === 'DiscrepancyDetected' && event.data.field.startsWith('refund:'),
        )?.decision;
        for (const { decision, after } of steps) {
          expect(after.refundedAmount).toBeLessThanOrEqual(after.capturedAmount);
          if (flaggedAt === undefined || decision < flaggedAt) {
            expect(after.refundedAmount + pendingRefundTotal(after)).toBeLessThanOrEqual(
              after.capturedAmount,
            );
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('(c) never moves a payment back: terminal states stay, the status rank never decreases', () => {
    const statusNeutral = new Set<PaymentEvent['type']>([
      'RefundRequested',
      'PaymentRefunded',
      'RefundFailed',
      'PaymentDisputed',
      'FeeRecorded',
      'DiscrepancyDetected',
      'PaymentSubmitted',
      'PaymentOutcomeUnknown',
    ]);
    fc.assert(
      fc.property(inputs, (sequence) => {
        for (const { before, event, after } of run(sequence).steps) {
          if (!before.exists) continue;
          expect(statusRank[after.status]).toBeGreaterThanOrEqual(statusRank[before.status]);
          if (before.status === 'failed' || before.status === 'canceled')
            expect(after.status).toBe(before.status);
          if (statusNeutral.has(event.type)) expect(after.status).toBe(before.status);
          expect(after.capturedAmount).toBeGreaterThanOrEqual(before.capturedAmount);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('(d) folding the same events always gives the same state', () => {
    fc.assert(
      fc.property(inputs, (sequence) => {
        const { state, events } = run(sequence);
        const replay = () => events.reduce(evolvePayment, initialPaymentState());
        expect(replay()).toEqual(state);
        expect(replay()).toEqual(replay());
      }),
      { numRuns: RUNS },
    );
  });

  it('(e) outcomes are facts: deciding one twice in a row adds nothing the second time', () => {
    fc.assert(
      fc.property(inputs, anyInput, (sequence, input) => {
        const { state } = run(sequence);
        if (!state.exists || !input.type.startsWith('Record')) return;
        const once = decidePayment(input, state).reduce(evolvePayment, state);
        const twice = decidePayment(input, once).filter((e) => e.type !== 'DiscrepancyDetected');
        expect(twice).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});
