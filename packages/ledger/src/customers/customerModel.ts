import type { Metadata } from '../payments/paymentCommands.ts';

/** Registers a customer (stream id = customer id). Raises `customer_already_exists`. */
export interface RegisterCustomer {
  readonly type: 'RegisterCustomer';
  readonly data: {
    readonly customerId: string;
    readonly email: string;
    readonly name: string | null;
    readonly metadata: Metadata;
    readonly now: string;
  };
}

/**
 * Saves a Stripe PaymentMethod (`pm_...`, tokenized by the caller's front end) for off-session
 * use; `setAsDefault` makes it the one recurring charges use. Raises `customer_not_found`.
 */
export interface SavePaymentMethod {
  readonly type: 'SavePaymentMethod';
  readonly data: {
    readonly customerId: string;
    readonly paymentMethodId: string;
    readonly setAsDefault: boolean;
    readonly now: string;
  };
}

export type CustomerCommand = RegisterCustomer | SavePaymentMethod;

/** Outcomes of the executor for a customer. */
export type CustomerOutcome =
  | {
      readonly type: 'RecordStripeCustomer';
      readonly data: { readonly customerId: string; readonly stripeCustomerId: string; readonly now: string };
    }
  | {
      readonly type: 'RecordPaymentMethodAttached';
      readonly data: { readonly customerId: string; readonly paymentMethodId: string; readonly now: string };
    }
  | {
      readonly type: 'RecordPaymentMethodAttachFailed';
      readonly data: {
        readonly customerId: string;
        readonly paymentMethodId: string;
        readonly code: string;
        readonly message: string;
        readonly now: string;
      };
    };

/** Events of a customer stream. */
export type CustomerEvent =
  | {
      readonly type: 'CustomerRegistered';
      readonly data: {
        readonly customerId: string;
        readonly email: string;
        readonly name: string | null;
        readonly metadata: Metadata;
        readonly at: string;
      };
    }
  | {
      /** Stripe created the customer (`cus_...`). */
      readonly type: 'StripeCustomerCreated';
      readonly data: { readonly customerId: string; readonly stripeCustomerId: string; readonly at: string };
    }
  | {
      readonly type: 'PaymentMethodSaveRequested';
      readonly data: {
        readonly customerId: string;
        readonly paymentMethodId: string;
        readonly setAsDefault: boolean;
        readonly at: string;
      };
    }
  | {
      readonly type: 'PaymentMethodAttached';
      readonly data: { readonly customerId: string; readonly paymentMethodId: string; readonly at: string };
    }
  | {
      readonly type: 'PaymentMethodAttachFailed';
      readonly data: {
        readonly customerId: string;
        readonly paymentMethodId: string;
        readonly code: string;
        readonly message: string;
        readonly at: string;
      };
    };

export type CustomerEventType = CustomerEvent['type'];

/** What the ledger knows of a customer. */
export interface CustomerState {
  readonly exists: boolean;
  readonly customerId: string | null;
  readonly email: string | null;
  readonly name: string | null;
  readonly stripeCustomerId: string | null;
  /** Payment methods saved (requested or attached), in order; failed attaches are removed. */
  readonly paymentMethods: readonly { readonly id: string; readonly attached: boolean }[];
  readonly defaultPaymentMethodId: string | null;
}
