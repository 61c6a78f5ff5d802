import type { StoredEvent } from '@payledger/event-store';
import {
  evolveCustomer,
  evolvePayment,
  fromStoredCustomerEvent,
  fromStoredPaymentEvent,
  initialCustomerState,
  initialPaymentState,
  type CustomerState,
  type PaymentState,
} from '@payledger/ledger';

/** The state of a payment after its stored history. */
export function foldPayment(history: readonly StoredEvent[]): PaymentState {
  let state = initialPaymentState();
  for (const e of history) state = evolvePayment(state, fromStoredPaymentEvent(e.type, e.data));
  return state;
}

/** The state of a customer after its stored history. */
export function foldCustomer(history: readonly StoredEvent[]): CustomerState {
  let state = initialCustomerState();
  for (const e of history) state = evolveCustomer(state, fromStoredCustomerEvent(e.type, e.data));
  return state;
}
