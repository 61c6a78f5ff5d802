import type { Posting } from '../journal/postings.ts';
import type { Currency } from '../money/money.ts';
import type { CaptureMethod, Metadata, StripeOperation } from './paymentCommands.ts';

/**
 * Events of a payment stream (stream id = payment id), past tense. Each carries `at`, the time the
 * fact was decided (from the command's `now`). Money-moving events carry `postings`, which balance
 * per currency. Published names add the schema version: `PaymentCreated` -> `PaymentCreated.v1`.
 */
export type PaymentEvent =
  | {
      /** A caller opened the payment; nothing has been sent to Stripe yet. */
      readonly type: 'PaymentCreated';
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
        readonly at: string;
      };
    }
  | {
      /** The executor is about to call Stripe with this key (recorded before the call). */
      readonly type: 'PaymentSubmitted';
      readonly data: {
        readonly paymentId: string;
        readonly operation: StripeOperation;
        readonly attempt: number;
        readonly idempotencyKey: string;
        readonly at: string;
      };
    }
  | {
      /** Stripe created the (unconfirmed) PaymentIntent; confirmations target this id only. */
      readonly type: 'PaymentIntentCreated';
      readonly data: { readonly paymentId: string; readonly intentId: string; readonly at: string };
    }
  | {
      /** 3-D Secure or similar: the customer must act; not a failure. */
      readonly type: 'PaymentRequiresAction';
      readonly data: {
        readonly paymentId: string;
        readonly intentId: string;
        readonly nextAction: { readonly type: string; readonly redirectUrl: string | null };
        readonly at: string;
      };
    }
  | {
      /** Manual capture: the amount is held on the card and can be captured. */
      readonly type: 'PaymentAuthorized';
      readonly data: {
        readonly paymentId: string;
        readonly intentId: string;
        readonly amount: bigint;
        readonly at: string;
      };
    }
  | {
      /** Automatic capture succeeded: money moved. */
      readonly type: 'PaymentSucceeded';
      readonly data: {
        readonly paymentId: string;
        readonly intentId: string;
        readonly chargeId: string | null;
        readonly amount: bigint;
        readonly postings: readonly Posting[];
        readonly at: string;
      };
    }
  | {
      /** Expected business failure (a decline): terminal. */
      readonly type: 'PaymentFailed';
      readonly data: {
        readonly paymentId: string;
        readonly code: string;
        readonly declineCode: string | null;
        readonly message: string;
        readonly at: string;
      };
    }
  | {
      /** A Stripe call's result is unknown (timeout, 5xx after retries): reconciliation resolves it. */
      readonly type: 'PaymentOutcomeUnknown';
      readonly data: {
        readonly paymentId: string;
        readonly operation: StripeOperation;
        readonly attempt: number;
        readonly idempotencyKey: string;
        readonly reason: string;
        readonly at: string;
      };
    }
  | {
      /** A caller asked to capture `amount` (null: everything authorised). */
      readonly type: 'PaymentCaptureRequested';
      readonly data: { readonly paymentId: string; readonly amount: bigint; readonly at: string };
    }
  | {
      /** Stripe captured `amount` of an authorised payment: money moved. */
      readonly type: 'PaymentCaptured';
      readonly data: {
        readonly paymentId: string;
        readonly amount: bigint;
        readonly postings: readonly Posting[];
        readonly at: string;
      };
    }
  | {
      /** A caller asked to cancel. */
      readonly type: 'PaymentCancelRequested';
      readonly data: { readonly paymentId: string; readonly reason: string | null; readonly at: string };
    }
  | {
      /** The payment is canceled (no money moved, any hold released): terminal. */
      readonly type: 'PaymentCanceled';
      readonly data: { readonly paymentId: string; readonly at: string };
    }
  | {
      /** A caller asked to refund `amount`; reserved against the captured amount until resolved. */
      readonly type: 'RefundRequested';
      readonly data: {
        readonly paymentId: string;
        readonly refundId: string;
        readonly amount: bigint;
        readonly reason: string | null;
        readonly at: string;
      };
    }
  | {
      /** Stripe refunded `amount`: money moved back. */
      readonly type: 'PaymentRefunded';
      readonly data: {
        readonly paymentId: string;
        readonly refundId: string;
        readonly stripeRefundId: string;
        readonly amount: bigint;
        readonly postings: readonly Posting[];
        readonly at: string;
      };
    }
  | {
      /** The refund failed (e.g. `refund.failed`); its reservation is released. */
      readonly type: 'RefundFailed';
      readonly data: {
        readonly paymentId: string;
        readonly refundId: string;
        readonly reason: string;
        readonly at: string;
      };
    }
  | {
      /** The customer disputed the charge; the disputed amount is held by Stripe. */
      readonly type: 'PaymentDisputed';
      readonly data: {
        readonly paymentId: string;
        readonly disputeId: string;
        readonly amount: bigint;
        readonly reason: string;
        readonly postings: readonly Posting[];
        readonly at: string;
      };
    }
  | {
      /** Stripe's processing fee for the payment. */
      readonly type: 'FeeRecorded';
      readonly data: {
        readonly paymentId: string;
        readonly balanceTransactionId: string;
        readonly amount: bigint;
        readonly postings: readonly Posting[];
        readonly at: string;
      };
    }
  | {
      /** Reconciliation found the ledger and Stripe disagree; for a person to look at. */
      readonly type: 'DiscrepancyDetected';
      readonly data: {
        readonly paymentId: string;
        readonly field: string;
        readonly ledgerValue: string;
        readonly stripeValue: string;
        readonly at: string;
      };
    };

export type PaymentEventType = PaymentEvent['type'];
