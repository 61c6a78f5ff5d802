import type { PaymentEvent } from './paymentEvents.ts';
import type { PaymentState } from './paymentState.ts';

/** Applies one event to a payment's state (pure; events are facts, never refused here). */
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
      return { ...state, attempts: { ...state.attempts, [event.data.operation]: event.data.attempt } };
    case 'PaymentIntentCreated':
      return { ...state, intentId: event.data.intentId };
    case 'PaymentRequiresAction':
      return {
        ...state,
        status: 'requires_action',
        intentId: event.data.intentId,
        nextAction: event.data.nextAction,
        unknownOutcome: null,
      };
    case 'PaymentAuthorized':
      return {
        ...state,
        status: 'authorized',
        intentId: event.data.intentId,
        authorizedAmount: event.data.amount,
        nextAction: null,
        unknownOutcome: null,
      };
    case 'PaymentSucceeded':
      return {
        ...state,
        status: 'succeeded',
        intentId: event.data.intentId,
        authorizedAmount: state.authorizedAmount > 0n ? state.authorizedAmount : event.data.amount,
        capturedAmount: event.data.amount,
        nextAction: null,
        unknownOutcome: null,
        captureRequested: null,
      };
    case 'PaymentFailed':
      return {
        ...state,
        status: 'failed',
        failure: { code: event.data.code, declineCode: event.data.declineCode, message: event.data.message },
        nextAction: null,
        unknownOutcome: null,
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
    case 'PaymentCaptured':
      return {
        ...state,
        status: 'succeeded',
        capturedAmount: state.capturedAmount + event.data.amount,
        captureRequested: null,
        unknownOutcome: null,
      };
    case 'PaymentCancelRequested':
      return { ...state, cancelRequested: true };
    case 'PaymentCanceled':
      return { ...state, status: 'canceled', nextAction: null, unknownOutcome: null, captureRequested: null };
    case 'RefundRequested':
      return {
        ...state,
        pendingRefunds: { ...state.pendingRefunds, [event.data.refundId]: event.data.amount },
      };
    case 'PaymentRefunded': {
      const { [event.data.refundId]: _done, ...rest } = state.pendingRefunds;
      return {
        ...state,
        refundedAmount: state.refundedAmount + event.data.amount,
        pendingRefunds: rest,
        settledRefunds: [...state.settledRefunds, event.data.refundId],
      };
    }
    case 'RefundFailed': {
      const { [event.data.refundId]: _failed, ...rest } = state.pendingRefunds;
      return {
        ...state,
        pendingRefunds: rest,
        settledRefunds: [...state.settledRefunds, event.data.refundId],
      };
    }
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
      return state;
    default: {
      const never: never = event;
      return never;
    }
  }
}
