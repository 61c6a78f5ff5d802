import { hash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** What a credential may do. */
export const scopes = ['payments:write', 'ledger:read', 'audit:read'] as const;
export type Scope = (typeof scopes)[number];

/** A service credential; only the sha256 of its secret is kept in memory. */
export interface Credential {
  readonly id: string;
  readonly secretSha256: Buffer;
  readonly scopes: readonly Scope[];
}

const CredentialInput = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lower-case letters, digits and -'),
    /** sha256 of the secret, hex. The preferred form: the secret itself never sits in config. */
    secretSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    /** The secret in clear: accepted for local use; hashed at once. */
    secret: z.string().min(8).optional(),
    scopes: z.array(z.enum(scopes)).min(1),
  })
  .refine(
    (c) => (c.secretSha256 === undefined) !== (c.secret === undefined),
    'give exactly one of secretSha256, secret',
  );

export function sha256(text: string): Buffer {
  return hash('sha256', text, 'buffer');
}

/** Parses API_CREDENTIALS (a JSON array); the error never echoes a secret. */
export function parseCredentials(json: string): Credential[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error('API_CREDENTIALS: not valid JSON (expected an array of {id, secretSha256, scopes})');
  }
  const parsed = z.array(CredentialInput).min(1).safeParse(raw);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`API_CREDENTIALS: ${where}`);
  }
  const ids = new Set<string>();
  return parsed.data.map((c) => {
    if (ids.has(c.id)) throw new Error(`API_CREDENTIALS: duplicate id ${c.id}`);
    ids.add(c.id);
    return {
      id: c.id,
      secretSha256:
        c.secretSha256 !== undefined ? Buffer.from(c.secretSha256, 'hex') : sha256(c.secret as string),
      scopes: c.scopes,
    };
  });
}

/**
 * Authenticates `Authorization: Bearer <id>.<secret>`: looks the id up and compares the sha256
 * of the secret in constant time. Returns null when missing, malformed or wrong.
 */
export function authenticate(
  header: string | undefined,
  credentials: readonly Credential[],
): Credential | null {
  if (header === undefined) return null;
  const match = /^Bearer ([a-z0-9][a-z0-9-]{1,62})\.(\S{8,256})$/.exec(header);
  if (match === null) return null;
  const [, id, secret] = match as unknown as [string, string, string];
  const credential = credentials.find((c) => c.id === id);
  // Hash and compare even for an unknown id, so timing does not reveal which ids exist.
  const presented = sha256(secret);
  const expected = credential?.secretSha256 ?? sha256('\u0000no such credential');
  const ok = timingSafeEqual(presented, expected);
  return ok && credential !== undefined ? credential : null;
}
