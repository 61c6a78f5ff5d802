import { hash, randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { canonicalJson, type EventMetadata, type StoredEvent } from '@payledger/event-store';
import type { Credential, Scope } from '../auth/credentials.ts';
import { containsCardNumber } from './cardNumbers.ts';
import { ApiError } from './problems.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated credential (set by the auth hook on /v1 routes). */
    credential: Credential | null;
    /** The raw JSON body as parsed (before defaults), for fingerprints. */
    rawJson: unknown;
  }
}

/** The caller of a /v1 route; throws 401 if none (the auth hook normally stops it earlier). */
export function callerOf(request: FastifyRequest): Credential {
  if (request.credential === null)
    throw new ApiError('unauthenticated', 'send Authorization: Bearer <id>.<secret>');
  return request.credential;
}

/** Requires one of `allowed` scopes; 403 otherwise. Returns the credential. */
export function requireScope(request: FastifyRequest, ...allowed: Scope[]): Credential {
  const credential = callerOf(request);
  if (!credential.scopes.some((s) => allowed.includes(s))) {
    throw new ApiError(
      'forbidden',
      `this needs one of the scopes ${allowed.join(', ')}; credential ${credential.id} has ${credential.scopes.join(', ')}`,
    );
  }
  return credential;
}

/** True when the credential reads everything, not just what it wrote. */
export function readsAll(credential: Credential): boolean {
  return credential.scopes.includes('ledger:read') || credential.scopes.includes('audit:read');
}

/**
 * True when `credential` may see the object whose stream is `history`: readers see everything, a
 * writer what it created (one internal service never reads or changes another's payments or
 * customers). An empty history is nobody's yet.
 */
export function ownedBy(history: readonly StoredEvent[], credential: Credential): boolean {
  return history.length === 0 || readsAll(credential) || history[0]?.metadata.actor === credential.id;
}

const KEY = /^[\x21-\x7e]{1,255}$/;

/** The Idempotency-Key header of a command: required, 1-255 visible ASCII characters (as Stripe). */
export function idempotencyKeyOf(request: FastifyRequest): string {
  const value = request.headers['idempotency-key'];
  if (value === undefined || value === '') {
    throw new ApiError(
      'idempotency_key_missing',
      'send an Idempotency-Key header (a unique string per command, e.g. a UUID) with every POST',
    );
  }
  if (Array.isArray(value) || !KEY.test(value)) {
    throw new ApiError(
      'idempotency_key_invalid',
      'Idempotency-Key must be one value of 1 to 255 visible ASCII characters',
    );
  }
  // The key is stored with the command's response: it must not carry card data either.
  if (containsCardNumber(value)) {
    throw new ApiError(
      'card_data_refused',
      'the Idempotency-Key looks like a card number; use a random key such as a UUID',
    );
  }
  return value;
}

/** sha256 over the canonical request: same key + another body/path is refused. */
export function fingerprintOf(request: FastifyRequest): string {
  const route = request.routeOptions.url ?? request.url;
  const canonical = canonicalJson({
    method: request.method,
    path: request.url.split('?')[0],
    route,
    body: request.rawJson ?? null,
  });
  return hash('sha256', canonical, 'hex');
}

/** Event metadata of a command: the caller as actor, a correlation id from the header or new. */
export function metadataOf(request: FastifyRequest, credential: Credential): EventMetadata {
  const header = request.headers['x-correlation-id'];
  const correlationId =
    typeof header === 'string' && /^[\x21-\x7e]{1,128}$/.test(header) ? header : randomUUID();
  return { actor: credential.id, correlationId, causationId: request.id };
}

/** A new id with a type prefix (`pay_...`): 128 random bits, hex. */
export function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '')}`;
}
