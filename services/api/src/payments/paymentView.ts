import type { StoredEvent } from '@payledger/event-store';
import type { PaymentState } from '@payledger/ledger';
import type { Payment } from '@payledger/schemas';

/** Money fits a JSON number: amounts are capped at 8 digits (and sums of one payment stay below). */
const n = (v: bigint): number => Number(v);

/** The API view of a payment, from its folded state and history. */
export function paymentView(state: PaymentState, history: readonly StoredEvent[]): Payment {
  const first = history[0];
  const last = history[history.length - 1];
  return {
    id: state.paymentId ?? '',
    customerId: state.customerId ?? '',
    paymentMethodId: state.paymentMethodId ?? '',
    amount: n(state.amount),
    currency: state.currency ?? '',
    captureMethod: state.captureMethod ?? 'automatic',
    offSession: state.offSession,
    description: state.description ?? null,
    metadata: { ...(state.metadata ?? {}) },
    status: state.status,
    amountAuthorized: n(state.authorizedAmount),
    amountCaptured: n(state.capturedAmount),
    amountRefunded: n(state.refundedAmount),
    outcomeUnknown: state.unknownOutcome !== null,
    nextAction: state.nextAction ?? null,
    failure: state.failure ?? null,
    stripePaymentIntentId: state.intentId ?? null,
    version: last?.streamVersion ?? 0,
    createdAt: first?.recordedAt ?? '',
    updatedAt: last?.recordedAt ?? '',
  };
}

/** A stored event as the API shows it in a payment's history. */
export function historyView(e: StoredEvent) {
  return {
    position: e.position,
    eventId: e.eventId,
    streamVersion: e.streamVersion,
    type: e.type,
    schemaVersion: e.schemaVersion,
    data: e.data,
    metadata: e.metadata,
    recordedAt: e.recordedAt,
    prevHash: e.prevHash,
    hash: e.hash,
  };
}
