import type { z } from 'zod';
import { ApiError } from './problems.ts';

/** Parses input with a zod schema; a failure is a 400 listing every problem by path. */
export function parseBody<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors = result.error.issues.map((i) => ({
    path: i.path.map(String).join('.') || '(body)',
    message: i.message,
  }));
  const amountIssue = result.error.issues.find((i) => i.path[0] === 'amount');
  if (amountIssue !== undefined && errors.length === 1) {
    throw new ApiError(
      'invalid_amount',
      `amount: ${amountIssue.message} (a positive integer of minor units, at most 99999999)`,
      errors,
    );
  }
  throw new ApiError('invalid_request', errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
}
