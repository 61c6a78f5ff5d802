import type { Currency } from '../money/money.ts';

/** How the money is taken: at once (`automatic`) or authorised now and captured later (`manual`). */
export type CaptureMethod = 'automatic' | 'manual';

/** Free-form caller data (Stripe's limits: at most 50 keys, key <= 40 chars, value <= 500 chars). */
export type Metadata = Readonly<Record<string, string>>;

/**
 * Opens a payment: charge `customerId` `amount` of `currency` with `paymentMethodId` (a Stripe
 * `pm_...`, never card data). `offSession: true` is a recurring/merchant-initiated charge with a
 * saved method (the API checks the method is saved for the customer). Raises `invalid_amount`,
 * `payment_already_exists`.
 */
export interface CreatePayment {
  readonly type: 'CreatePayment';
  readonly data: {
    readonly paymentId: string;
    readonly customerId: string;
    readonly paymentMethodId: string;
    readonly amount: bigint;
    readonly currency: Currency;
    readonly captureMethod: CaptureMethod;
    readonly offSession: boolean;
    readonly description: string | null;
    readonly metadata: Metadata;
    readonly now: string;
  };
}

/**
 * Asks to capture an authorised payment, wholly or in part (`amount` null = all authorised).
 * Raises `invalid_transition` unless authorised, `capture_exceeds_authorized`.
 */
export interface CapturePayment {
  readonly type: 'CapturePayment';
  readonly data: { readonly paymentId: string; readonly amount: bigint | null; readonly now: string };
}

/**
 * Asks to cancel a payment that has not moved money (pending, requires action, authorised,
 * unknown outcome pending reconciliation is refused). Raises `invalid_transition`.
 */
export interface CancelPayment {
  readonly type: 'CancelPayment';
  readonly data: { readonly paymentId: string; readonly reason: string | null; readonly now: string };
}

/**
 * Asks to refund part or all of what was captured (`amount` null = everything not yet refunded or
 * being refunded). Cumulative refunds, pending ones included, never exceed the captured amount.
 * Raises `invalid_transition` unless captured, `refund_exceeds_captured`.
 */
export interface RefundPayment {
  readonly type: 'RefundPayment';
  readonly data: {
    readonly paymentId: string;
    readonly refundId: string;
    readonly amount: bigint | null;
    readonly reason: string | null;
    readonly now: string;
  };
}

/** Commands the payment decider takes from callers. */
export type PaymentCommand = CreatePayment | CapturePayment | CancelPayment | RefundPayment;

/** The Stripe operations the executor performs for a payment (part of the idempotency key). */
export type StripeOperation = 'create_intent' | 'confirm' | 'capture' | 'cancel' | `refund:${string}`;

/**
 * Outcomes reported by the executor, the webhook fold and the reconciler. They are facts about
 * Stripe: the decider validates them against the state and turns them into events; a stale or
 * duplicate one (e.g. `payment_intent.processing` after success) yields no event, never a step back.
 */
export type PaymentOutcome =
  | {
      readonly type: 'RecordSubmission';
      readonly data: {
        readonly paymentId: string;
        readonly operation: StripeOperation;
        readonly attempt: number;
        readonly idempotencyKey: string;
        readonly now: string;
      };
    }
  | {
      readonly type: 'RecordIntentCreated';
      readonly data: { readonly paymentId: string; readonly intentId: string; readonly now: string };
    }
  | {
      readonly type: 'RecordRequiresAction';
      readonly data: {
        readonly paymentId: string;
        readonly intentId: string;
        readonly nextAction: { readonly type: string; readonly redirectUrl: string | null };
        readonly now: string;
      };
    }
  | {
      readonly type: 'RecordAuthorized';
      readonly data: {
        readonly paymentId: string;
        readonly intentId: string;
        readonly amount: bigint;
        readonly now: string;
      };
    }
  | {
      readonly type: 'RecordSucceeded';
      readonly data: {
        readonly paymentId: string;
        readonly intentId: string;
        readonly chargeId: string | null;
        readonly amount: bigint;
        readonly now: string;
      };
    }
  | {
      readonly type: 'RecordFailed';
      readonly data: {
        readonly paymentId: string;
        readonly code: string;
        readonly declineCode: string | null;
        readonly message: string;
        readonly now: string;
      };
    }
  | {
      readonly type: 'RecordOutcomeUnknown';
      readonly data: {
        readonly paymentId: string;
        readonly operation: StripeOperation;
        readonly attempt: number;
        readonly idempotencyKey: string;
        readonly reason: string;
        readonly now: string;
      };
    }
  | {
      readonly type: 'RecordCaptured';
      readonly data: { readonly paymentId: string; readonly amount: bigint; readonly now: string };
    }
  | { readonly type: 'RecordCanceled'; readonly data: { readonly paymentId: string; readonly now: string } }
  | {
      readonly type: 'RecordRefunded';
      readonly data: {
        readonly paymentId: string;
        readonly refundId: string;
        readonly stripeRefundId: string;
        readonly amount: bigint;
        readonly now: string;
      };
    }
  | {
      readonly type: 'RecordRefundFailed';
      readonly data: {
        readonly paymentId: string;
        readonly refundId: string;
        readonly reason: string;
        readonly now: string;
      };
    }
  | {
      readonly type: 'RecordDisputed';
      readonly data: {
        readonly paymentId: string;
        readonly disputeId: string;
        readonly amount: bigint;
        readonly reason: string;
        readonly now: string;
      };
    }
  | {
      readonly type: 'RecordFee';
      readonly data: {
        readonly paymentId: string;
        readonly balanceTransactionId: string;
        readonly amount: bigint;
        readonly now: string;
      };
    }
  | {
      readonly type: 'RecordDiscrepancy';
      readonly data: {
        readonly paymentId: string;
        readonly field: string;
        readonly ledgerValue: string;
        readonly stripeValue: string;
        readonly now: string;
      };
    };
