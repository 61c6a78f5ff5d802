import type { ColumnType } from 'kysely';

/** `idempotency_keys`: one row per (caller, Idempotency-Key) of a command that was applied. */
export interface IdempotencyKeysTable {
  caller: string;
  key: string;
  /** sha256 of the canonical request (method, path, body): same key + other body is refused. */
  fingerprint: string;
  status_code: number | null;
  response: ColumnType<unknown, string | null, string>;
  created_at: ColumnType<Date, string | undefined, never>;
}
