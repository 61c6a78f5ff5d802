import type { Currency } from '../money/money.ts';
import type { CaptureMethod, Metadata, StripeOperation } from './paymentCommands.ts';

/** Where a payment is. `failed` and `canceled` are terminal; `succeeded` means money was captured. */
export type PaymentStatus =
  'pending' | 'requires_action' | 'authorized' | 'succeeded' | 'failed' | 'canceled';

/** Forward order of the non-terminal statuses: a fact never moves a payment to a lower rank. */
export const statusRank: Record<PaymentStatus, number> = {
  pending: 0,
  requires_action: 1,
  authorized: 2,
  succeeded: 3,
  failed: 4,
  canceled: 4,
};

/** What the ledger knows of one payment, folded from its events. */
export interface PaymentState {
  readonly exists: boolean;
  readonly paymentId: string | null;
  readonly customerId: string | null;
  readonly paymentMethodId: string | null;
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
  /** Refunds requested and not yet resolved: reserved against the captured amount. */
  readonly pendingRefunds: Readonly<Record<string, bigint>>;
  /** Refund ids that completed or failed (a refund id is used once). */
  readonly settledRefunds: readonly string[];
  readonly disputedAmount: bigint;
  readonly disputeIds: readonly string[];
  readonly feesAmount: bigint;
  readonly feeIds: readonly string[];
  readonly captureRequested: bigint | null;
  readonly cancelRequested: boolean;
  readonly unknownOutcome: {
    readonly operation: StripeOperation;
    readonly attempt: number;
    readonly idempotencyKey: string;
  } | null;
  /** Last attempt number submitted per Stripe operation. */
  readonly attempts: Readonly<Record<string, number>>;
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
    pendingRefunds: {},
    settledRefunds: [],
    disputedAmount: 0n,
    disputeIds: [],
    feesAmount: 0n,
    feeIds: [],
    captureRequested: null,
    cancelRequested: false,
    unknownOutcome: null,
    attempts: {},
    nextAction: null,
    failure: null,
  };
}

/** Sum of the refunds requested and not yet resolved. */
export function pendingRefundTotal(state: PaymentState): bigint {
  return Object.values(state.pendingRefunds).reduce((a, b) => a + b, 0n);
}
