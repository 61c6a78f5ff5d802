import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { ZodError } from 'zod';
import type { CommandBatcher, Database } from '@payledger/event-store';
import { authenticate, type Credential } from './auth/credentials.ts';
import { registerCustomerRoutes } from './customers/customerRoutes.ts';
import { containsCardNumber, maskCardNumbers } from './http/cardNumbers.ts';
import { toApiError } from './http/domainErrors.ts';
import { createMetrics, type ApiMetrics } from './http/metrics.ts';
import { ApiError, problemOf } from './http/problems.ts';
import { openApiDocument } from './http/openApi.ts';
import { registerPaymentRoutes } from './payments/paymentRoutes.ts';

/** What the API needs; built by main.ts (or a test) and passed in. */
export interface AppDeps {
  readonly db: Kysely<Database>;
  readonly batcher: CommandBatcher;
  readonly credentials: readonly Credential[];
  readonly metrics: ApiMetrics;
  /** Ready once migrations ran and the database answers. */
  readonly isReady?: () => boolean;
  /** The metrics /metrics serves when not this process's alone (API_PROCESSES > 1: all of them). */
  readonly metricsText?: () => Promise<string>;
}

/** Largest request body accepted (commands are small; anything bigger is refused, nothing stored). */
export const BODY_LIMIT = 64 * 1024;

/** How the API logs; no logging when absent. */
export interface AppOptions {
  readonly log?: {
    readonly level: string;
    /** Where log lines go (stdout when absent). */
    readonly stream?: { write(line: string): void };
  };
}

/**
 * Builds the HTTP API (not listening): authentication on every /v1 route, problem+json errors,
 * card-number refusal on raw bodies, metrics, health, OpenAPI.
 */
export function buildApp(
  deps: Omit<AppDeps, 'metrics'> & { metrics?: ApiMetrics },
  options: AppOptions = {},
): FastifyInstance {
  const metrics = deps.metrics ?? createMetrics();
  const full: AppDeps = { ...deps, metrics };
  const app = Fastify({
    logger: options.log === undefined ? false : loggerOptions(options.log),
    bodyLimit: BODY_LIMIT,
    // Request ids become causation ids; never trust a caller's.
    genReqId: () => crypto.randomUUID(),
    return503OnClosing: true,
  });
  app.decorateRequest('credential', null);
  app.decorateRequest('rawJson', null);

  // JSON only, parsed by us: the raw text is checked for card numbers first, so card data is
  // refused wherever it appears and never reaches a log or the database.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT },
    (request, body, done) => {
      const text = body as string;
      if (containsCardNumber(text)) {
        done(cardDataRefused(), undefined);
        return;
      }
      if (text.trim() === '') {
        request.rawJson = {};
        done(null, {});
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        done(
          new ApiError('invalid_json', `the body is not valid JSON: ${(error as Error).message}`),
          undefined,
        );
        return;
      }
      // What JSON decodes can spell a card number the raw text hides (`\u0034...` escapes,
      // `4.242e15`): the decoded values are checked again in their plain serialization.
      if ((text.includes('\\u') || /\d[eE.]/.test(text)) && containsCardNumber(JSON.stringify(parsed))) {
        done(cardDataRefused(), undefined);
        return;
      }
      // PostgreSQL text and jsonb cannot hold NUL: such a command would fail its whole group
      // commit, so it is refused here. JSON can only carry it escaped, hence the cheap pre-check.
      if (text.includes('\\u0000') && holdsNul(parsed)) {
        done(
          new ApiError(
            'invalid_request',
            'strings in the body cannot contain the NUL character (\\u0000); remove it and retry',
          ),
          undefined,
        );
        return;
      }
      request.rawJson = parsed;
      done(null, parsed);
    },
  );
  app.addContentTypeParser('*', (_request, _payload, done) => {
    done(
      new ApiError('unsupported_media_type', 'send commands as Content-Type: application/json'),
      undefined,
    );
  });

  const allowedMethods = methodsByPath();
  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) {
      // A known path asked with a method it does not answer: 405 with Allow (RFC 9110), before
      // credentials and body parsing (what it reveals is in the public OpenAPI document).
      const path = request.url.split('?')[0] ?? '';
      const allowed = allowedMethods(path);
      if (allowed !== null) {
        reply.header('allow', allowed.join(', '));
        throw new ApiError(
          'method_not_allowed',
          `${path} answers ${allowed.join(', ')}, not ${request.method}`,
        );
      }
    }
    if (containsCardNumber(decodeURIComponentSafe(request.url))) throw cardDataRefused();
    if (!request.url.startsWith('/v1/')) return;
    const credential = authenticate(request.headers.authorization, deps.credentials);
    if (credential === null) {
      reply.header('www-authenticate', 'Bearer realm="ledger"');
      throw new ApiError('unauthenticated', 'send Authorization: Bearer <credential id>.<secret>');
    }
    request.credential = credential;
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler(async (rawError, request, reply) => {
    let error = toApiError(rawError);
    if (!(error instanceof ApiError)) {
      const e = error as { code?: string; statusCode?: number; message?: string };
      if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        error = new ApiError('body_too_large', `bodies are limited to ${BODY_LIMIT} bytes`);
      } else if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        error = new ApiError('unsupported_media_type', 'send commands as Content-Type: application/json');
      } else if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        error = new ApiError('invalid_json', e.message ?? 'the body is not valid JSON');
      } else if (rawError instanceof ZodError) {
        error = new ApiError('invalid_request', rawError.message);
      } else if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
        error = new ApiError('invalid_request', e.message ?? 'bad request');
      } else {
        request.log.error({ err: rawError }, 'unhandled error');
        error = new ApiError(
          'internal_error',
          'something went wrong on our side; it was logged (retry with the same Idempotency-Key)',
        );
      }
    }
    const apiError = error as ApiError;
    metrics.errors.inc({ code: apiError.code });
    return reply
      .code(apiError.status)
      .type('application/problem+json')
      .send(problemOf(apiError, request.url.split('?')[0]));
  });

  app.setNotFoundHandler(async (request, reply) => {
    const apiError = new ApiError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`);
    metrics.errors.inc({ code: apiError.code });
    return reply.code(404).type('application/problem+json').send(problemOf(apiError));
  });

  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_request, reply) => {
    try {
      if (deps.isReady !== undefined && !deps.isReady()) throw new Error('starting');
      await sql`SELECT 1`.execute(deps.db);
      return { status: 'ready' };
    } catch {
      return reply
        .code(503)
        .type('application/problem+json')
        .send(problemOf(new ApiError('not_ready', 'the database does not answer yet')));
    }
  });
  app.get('/metrics', async (_request, reply) => {
    const text = await (deps.metricsText ?? (() => metrics.registry.metrics()))().catch((error: unknown) => {
      throw new ApiError('not_ready', `metrics unavailable: ${(error as Error).message}`);
    });
    reply.type(metrics.registry.contentType);
    return text;
  });
  app.get('/openapi.json', async () => openApiDocument());

  registerPaymentRoutes(app, full);
  registerCustomerRoutes(app, full);
  return app;
}

/**
 * fastify/pino options under which secrets and card data never reach a log line: credentials and
 * idempotency keys redacted wherever a header is logged, card-number-like runs masked in the
 * logged URL (a caller may put one in a path or a query; it is refused, but the request line is
 * logged first).
 */
function loggerOptions(
  log: NonNullable<AppOptions['log']>,
): Exclude<FastifyServerOptions['logger'], boolean | undefined> {
  return {
    level: log.level,
    ...(log.stream !== undefined ? { stream: log.stream } : {}),
    redact: ['req.headers.authorization', 'req.headers["idempotency-key"]'],
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: maskCardNumbers(request.url),
        host: request.host,
        remoteAddress: request.ip,
        ...(request.socket?.remotePort !== undefined ? { remotePort: request.socket.remotePort } : {}),
      }),
    },
  };
}

/**
 * The methods a path answers (from the OpenAPI document, HEAD beside GET), or null when no route
 * has that path: an unknown method on a known path is a 405 with `Allow`, not a 404 (RFC 9110).
 */
function methodsByPath(): (path: string) => string[] | null {
  const routes = Object.entries(openApiDocument().paths).map(([template, operations]) => {
    const methods = Object.keys(operations).map((m) => m.toUpperCase());
    if (methods.includes('GET')) methods.push('HEAD');
    const pattern = template.replace(/\{[^}]+\}/g, '[^/]+');
    return { regex: new RegExp(`^${pattern}$`), methods };
  });
  return (path) => routes.find((r) => r.regex.test(path))?.methods ?? null;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function cardDataRefused(): ApiError {
  return new ApiError(
    'card_data_refused',
    'the body holds what looks like a card number; send a Stripe PaymentMethod id (pm_...) instead',
  );
}

/** True when a string (or an object key) anywhere in a parsed JSON value contains NUL. */
function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([key, v]) => key.includes('\u0000') || holdsNul(v));
  }
  return false;
}
