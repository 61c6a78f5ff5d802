import type { ColumnType } from 'kysely';

/** bigint columns: written as strings, read as strings (pg), parsed at the edge. */
type BigintColumn = ColumnType<string, string, string>;

/** `payment_summaries`: one row per payment, the list/filter read model. */
export interface PaymentSummariesTable {
  payment_id: string;
  customer_id: string;
  /** The caller that created the payment (writers only see their own). */
  created_by: string;
  status: string;
  currency: string;
  amount: BigintColumn;
  amount_captured: BigintColumn;
  amount_refunded: BigintColumn;
  outcome_unknown: boolean;
  version: number;
  last_position: BigintColumn;
  created_at: ColumnType<Date, string, string>;
  updated_at: ColumnType<Date, string, string>;
}
