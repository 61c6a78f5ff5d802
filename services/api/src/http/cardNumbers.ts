/**
 * True when `text` holds something that looks like a card number: a run of 13 to 19 digits,
 * optionally separated by up to two spaces, dashes or dots, that passes the Luhn check and starts
 * with a payment-card industry digit (2-6: Mastercard 2/5, Amex/Diners/JCB 3, Visa 4,
 * Discover/UnionPay 6 — every network Stripe processes). Runs of other lengths are not card
 * numbers, and the industry digit keeps 13-digit millisecond timestamps (1...) from being refused
 * one time in ten by the Luhn check alone. A run glued to a word or a dash (`ref-4242...`) counts:
 * the ledger is append-only, so a false refusal costs a retry and a missed card number is forever.
 */
export function containsCardNumber(text: string): boolean {
  const candidates = text.match(CARD_NUMBER);
  if (candidates === null) return false;
  return candidates.some((candidate) => luhnValid(candidate.replace(/[ .-]/g, '')));
}

const CARD_NUMBER = /(?<!\d)[2-6](?:[ .-]{0,2}\d){12,18}(?!\d)/g;

/** `text` with every run `containsCardNumber` would refuse replaced by `[card number]` (for logs). */
export function maskCardNumbers(text: string): string {
  return text.replace(CARD_NUMBER, (run) => (luhnValid(run.replace(/[ .-]/g, '')) ? '[card number]' : run));
}

/** The Luhn (mod 10) check every card number passes. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}
