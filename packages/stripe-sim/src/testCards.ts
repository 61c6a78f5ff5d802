/** What confirming a payment with a test PaymentMethod does (STRIPE.md, test mode). */
export type CardBehaviour =
  | { readonly kind: 'succeeds'; readonly dispute?: boolean; readonly refundFails?: boolean }
  | {
      readonly kind: 'declines';
      readonly code: string;
      readonly declineCode: string | null;
      readonly message: string;
    }
  | { readonly kind: 'requires_action'; readonly unlessOffSessionSetUp: boolean };

const decline = (code: string, declineCode: string | null, message: string): CardBehaviour => ({
  kind: 'declines',
  code,
  declineCode,
  message,
});

/** Stripe's test PaymentMethods and their behaviour. Any other `pm_` succeeds like a Visa. */
export const testPaymentMethods: Readonly<Record<string, CardBehaviour>> = {
  pm_card_visa: { kind: 'succeeds' },
  pm_card_mastercard: { kind: 'succeeds' },
  pm_card_chargeDeclined: decline('card_declined', 'generic_decline', 'Your card was declined.'),
  pm_card_chargeDeclinedInsufficientFunds: decline(
    'card_declined',
    'insufficient_funds',
    'Your card has insufficient funds.',
  ),
  pm_card_chargeDeclinedExpiredCard: decline('expired_card', null, 'Your card has expired.'),
  pm_card_chargeDeclinedIncorrectCvc: decline(
    'incorrect_cvc',
    null,
    "Your card's security code is incorrect.",
  ),
  pm_card_chargeDeclinedProcessingError: decline(
    'processing_error',
    null,
    'An error occurred while processing your card. Try again in a little bit.',
  ),
  pm_card_authenticationRequired: { kind: 'requires_action', unlessOffSessionSetUp: false },
  pm_card_authenticationRequiredOnSetup: { kind: 'requires_action', unlessOffSessionSetUp: true },
  pm_card_chargeCustomerFail: decline('card_declined', 'generic_decline', 'Your card was declined.'),
  pm_card_createDispute: { kind: 'succeeds', dispute: true },
  pm_card_refundFail: { kind: 'succeeds', refundFails: true },
};

/** The behaviour of a PaymentMethod id (unknown ids behave like pm_card_visa). */
export function behaviourOf(paymentMethod: string): CardBehaviour {
  return testPaymentMethods[paymentMethod] ?? { kind: 'succeeds' };
}
