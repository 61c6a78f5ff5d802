import type { Transaction } from 'kysely';
import type { Database, TouchedStream } from '@payledger/event-store';
import { foldPayment } from './foldStreams.ts';

/**
 * Inline projection of `payment_summaries`: called inside the command's transaction with the
 * full history of every stream that gained events, it upserts one row per payment stream.
 */
export async function projectPaymentSummaries(
  trx: Transaction<Database>,
  touched: readonly TouchedStream[],
): Promise<void> {
  const rows = touched
    .filter((t) => t.streamType === 'payment' && t.history.length > 0)
    .map((t) => {
      const state = foldPayment(t.history);
      const first = t.history[0];
      const last = t.history[t.history.length - 1];
      if (first === undefined || last === undefined || state.paymentId === null) return null;
      return {
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
        last_position: last.position === '' ? '0' : last.position,
        created_at: first.recordedAt,
        updated_at: last.recordedAt,
      };
    })
    .filter((r) => r !== null);
  if (rows.length === 0) return;
  await trx
    .insertInto('payment_summaries')
    .values(rows)
    .onConflict((oc) =>
      oc.column('payment_id').doUpdateSet((eb) => ({
        status: eb.ref('excluded.status'),
        amount_captured: eb.ref('excluded.amount_captured'),
        amount_refunded: eb.ref('excluded.amount_refunded'),
        outcome_unknown: eb.ref('excluded.outcome_unknown'),
        version: eb.ref('excluded.version'),
        last_position: eb.ref('excluded.last_position'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .execute();
}
