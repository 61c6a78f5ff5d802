import type { SummaryRow, TouchedStream } from '@payledger/event-store';
import { foldPayment } from './foldStreams.ts';

/**
 * Inline projection of `payment_summaries` (executeCommands' `summarize`): from the full history
 * of every stream that gains events in a batch, one row per payment stream, upserted by the event
 * store in the same statement as the events it derives from.
 */
export function paymentSummaryRows(touched: readonly TouchedStream[]): SummaryRow[] {
  return touched.flatMap((t) => {
    if (t.streamType !== 'payment') return [];
    const state = foldPayment(t.history);
    const first = t.history[0];
    const last = t.history[t.history.length - 1];
    if (first === undefined || last === undefined || state.paymentId === null) return [];
    return [
      {
        payment_id: state.paymentId,
        customer_id: state.customerId ?? '',
        created_by: first.metadata.actor,
        status: state.status,
        currency: state.currency ?? '',
        amount: String(state.amount),
        amount_captured: String(state.capturedAmount),
        amount_refunded: String(state.refundedAmount),
        outcome_unknown: state.unknownOutcome !== null,
        version: last.streamVersion,
        last_event_id: last.eventId,
        created_at: first.recordedAt,
        updated_at: last.recordedAt,
      },
    ];
  });
}
