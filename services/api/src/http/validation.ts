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
  const given = (input as { currency?: unknown } | null)?.currency;
  if (errors.length === 1 && result.error.issues[0]?.path[0] === 'currency' && given !== undefined) {
    const shown = typeof given === 'string' && given.length <= 8 ? ` "${given}"` : '';
    throw new ApiError(
      'unknown_currency',
      `currency${shown} is not one the ledger accepts: send an ISO 4217 code from the list in /openapi.json (upper or lower case), e.g. USD`,
      errors,
    );
  }
  throw new ApiError('invalid_request', errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
}
