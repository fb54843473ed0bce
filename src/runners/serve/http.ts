/**
 * The HTTP face of `eventbench serve`: the event API of docs/event-api.md on Fastify, with every input
 * checked by Fastify's JSON-schema validation (limits bounded, unknown parameters refused with a 400 that
 * names them), the live page and its replay view (static files from ./public), and `/metrics`.
 */
import Fastify, { type FastifyInstance, type FastifySchemaValidationError } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';
import { CATEGORY_PATTERN, ConfigError, isEventStoreError, STREAM_NAME_PATTERN } from '../../core/event-store.ts';
import { DEFAULT_LIMIT, MAX_LIMIT, type ReadSide } from './read-side.ts';
import { REPLAY_DEFAULT_LIMIT, REPLAY_MAX_LIMIT, type Replayer } from './replay.ts';
import type { SseHub } from './sse.ts';

/** The systems and short types the API filters by (docs/event-api.md; the documents workload's names). */
export const SYSTEMS = ['paperless', 'alfresco'] as const;
export const SHORT_TYPES = ['uploaded', 'updated', 'deleted'] as const;
const TYPE_PREFIX = 'document.';

export interface HttpParts {
  readSide: ReadSide;
  sse: SseHub;
  replayer: Replayer;
  metrics: Registry;
  /** Called before `/metrics` renders (refreshes gauges such as the subscription's lag). */
  beforeScrape?: () => Promise<void>;
  /** When set, every route but `/health` needs this bearer token (docs/security.md §serve). */
  token?: string;
}

const PUBLIC_FILES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
} as const;

/** Everything the page needs comes from this server: no CDN, no inline script. */
const CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'";

/** `2026-12-04T21:10:05Z`, `2026-12-04T21:10:05.123+01:00`: a date, a time and a zone, so no server's local time is guessed. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
const limitSchema = (max: number, dflt: number) => ({ type: 'integer', minimum: 1, maximum: max, default: dflt });
const query = (properties: Record<string, object>) => ({ type: 'object', additionalProperties: false, properties });

/**
 * One line per bad input, naming the parameter and what it may be: `unknown query parameter "foo"
 * (allowed: limit)`, `query parameter "limit" must be <= 1000`, `path parameter "system" must be one of: paperless, alfresco`.
 */
function formatter(allowed: Record<string, readonly string[]>) {
  return (errors: FastifySchemaValidationError[], dataVar: string): Error => {
    const e = errors[0]!;
    const where = dataVar === 'params' ? 'path parameter' : dataVar === 'querystring' ? 'query parameter' : `${dataVar} parameter`;
    const params = e.params as Record<string, unknown>;
    let message: string;
    if (e.keyword === 'additionalProperties') {
      const names = allowed[dataVar] ?? [];
      message = `unknown ${where} "${String(params.additionalProperty)}" (allowed: ${names.length ? names.join(', ') : 'none'})`;
    } else {
      const name = e.instancePath.replace(/^\//, '') || String(params.missingProperty ?? '');
      const values = params.allowedValues as unknown[] | undefined;
      message = `${where} "${name}" ${values ? `must be one of: ${values.join(', ')}` : e.message}`;
    }
    const err = new ConfigError(message) as ConfigError & { statusCode: number };
    err.statusCode = 400;
    return err;
  };
}

export function buildApp(parts: HttpParts): FastifyInstance {
  const { readSide, sse, replayer, metrics } = parts;
  const app = Fastify({
    logger: false,
    // Fastify's default drops unknown properties silently; an unknown filter must be a 400 instead.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true } },
    forceCloseConnections: true,
  });
  const publicDir = new URL('./public/', import.meta.url);
  const files = Object.fromEntries(
    Object.entries(PUBLIC_FILES).map(([route, [file, type]]) => [route, { body: readFileSync(new URL(file, publicDir)), type }]),
  );

  if (parts.token) installBearerAuth(app, parts.token);

  app.setErrorHandler((err: Error, req, reply) => {
    const status = (err as { statusCode?: number }).statusCode;
    if ((err as { validation?: unknown }).validation || status === 400 || (isEventStoreError(err) && err.code === 'config')) {
      return reply.code(400).send({ error: 'Bad Request', message: err.message });
    }
    // Not the client's fault: said on the server's stderr too, where whoever runs `serve` looks.
    process.stderr.write(`eventbench serve: ${req.method} ${withoutToken(req.url)}: ${err.message}\n`);
    return reply.code(status && status >= 400 ? status : 500).send({ error: 'Internal Server Error', message: err.message });
  });

  for (const [route, file] of Object.entries(files)) {
    app.get(route, { schema: { querystring: query({}) }, schemaErrorFormatter: formatter({ querystring: [] }) }, (_req, reply) =>
      reply.header('content-type', file.type).header('content-security-policy', CSP).header('cache-control', 'no-cache').send(file.body),
    );
  }

  app.get('/health', { schema: { querystring: query({}) }, schemaErrorFormatter: formatter({ querystring: [] }) }, () => ({
    status: 'ok',
    timestamp: new Date().toISOString(),
  }));

  const limited = { schema: { querystring: query({ limit: limitSchema(MAX_LIMIT, DEFAULT_LIMIT) }) } };
  app.get<{ Querystring: { limit: number } }>('/events', { ...limited, schemaErrorFormatter: formatter({ querystring: ['limit'] }) }, (req) => {
    const events = readSide.recent(req.query.limit);
    return { events, count: events.length };
  });

  app.get<{ Querystring: { limit: number }; Params: { system: string } }>(
    '/events/system/:system',
    {
      schema: { ...limited.schema, params: { type: 'object', properties: { system: { type: 'string', enum: SYSTEMS } }, required: ['system'] } },
      schemaErrorFormatter: formatter({ querystring: ['limit'] }),
    },
    (req) => {
      const events = readSide.recent(req.query.limit, { system: req.params.system });
      return { events, count: events.length, system: req.params.system };
    },
  );

  app.get<{ Querystring: { limit: number }; Params: { type: string } }>(
    '/events/type/:type',
    {
      schema: { ...limited.schema, params: { type: 'object', properties: { type: { type: 'string', enum: SHORT_TYPES } }, required: ['type'] } },
      schemaErrorFormatter: formatter({ querystring: ['limit'] }),
    },
    (req) => {
      const events = readSide.recent(req.query.limit, { type: req.params.type });
      return { events, count: events.length, type: `${TYPE_PREFIX}${req.params.type}` };
    },
  );

  app.get('/stats', { schema: { querystring: query({}) }, schemaErrorFormatter: formatter({ querystring: [] }) }, () => readSide.stats());

  app.get<{ Querystring: { limit: number } }>('/events/stream', { ...limited, schemaErrorFormatter: formatter({ querystring: ['limit'] }) }, (req, reply) => {
    reply.hijack();
    sse.add(reply.raw, readSide.recent(req.query.limit));
  });

  app.get<{ Querystring: { category?: string; stream?: string; from?: number; at?: string; limit: number } }>(
    '/replay',
    {
      schema: {
        querystring: query({
          category: { type: 'string', pattern: CATEGORY_PATTERN.source },
          stream: { type: 'string', pattern: STREAM_NAME_PATTERN.source },
          from: { type: 'integer', minimum: 0 },
          // An ISO 8601 time with its zone (the page sends toISOString()): the replay starts at the first event at or after it.
          at: { type: 'string', maxLength: 40 },
          limit: limitSchema(REPLAY_MAX_LIMIT, REPLAY_DEFAULT_LIMIT),
        }),
      },
      schemaErrorFormatter: formatter({ querystring: ['category', 'stream', 'from', 'at', 'limit'] }),
    },
    async (req, reply) => {
      const { category, stream, from, at, limit } = req.query;
      if ((category === undefined) === (stream === undefined)) {
        return reply.code(400).send({ error: 'Bad Request', message: 'give exactly one of query parameters "category" (e.g. case) or "stream" (e.g. case-123)' });
      }
      const source = stream !== undefined ? { stream } : { category: category! };
      if (at === undefined) return replayer.page(source, from ?? 0, limit);
      if (from !== undefined) return reply.code(400).send({ error: 'Bad Request', message: 'give either query parameter "from" (a position) or "at" (a time), not both' });
      const atMs = ISO_TIME.test(at) ? Date.parse(at) : Number.NaN;
      if (!Number.isFinite(atMs)) {
        return reply.code(400).send({ error: 'Bad Request', message: `query parameter "at" must be an ISO 8601 time with a zone, e.g. 2026-12-04T21:10:05Z (got ${JSON.stringify(at)})` });
      }
      return replayer.pageAt(source, atMs, limit);
    },
  );

  app.get('/metrics', { schema: { querystring: query({}) }, schemaErrorFormatter: formatter({ querystring: [] }) }, async (_req, reply) => {
    await parts.beforeScrape?.();
    return reply.header('content-type', metrics.contentType).send(await metrics.metrics());
  });

  return app;
}

/** The cookie the live page gets after `/?token=`: its scripts, fetches and EventSource then carry it. */
const TOKEN_COOKIE = 'eventbench_token';
/** Routes a browser opens by URL, where it cannot set a header: the token may come as `?token=`. */
const TOKEN_IN_QUERY = new Set(['/', '/events/stream']);

/** A request URL with any `token=` parameter hidden, for log lines. */
function withoutToken(url: string): string {
  return url.replace(/([?&]token=)[^&]*/g, '$1***');
}

/** Constant-time equality of two strings of any length (compares their SHA-256 digests). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Every route but `/health` answers 401 unless the request carries the token: `Authorization: Bearer T`
 * (API clients), the `eventbench_token` cookie (the live page, set when it is opened as `/?token=T`, which
 * then redirects to `/` so the token leaves the address bar), or `?token=T` on `/events/stream`
 * (EventSource cannot set headers). The `token` parameter is removed before the route's schema sees it.
 */
function installBearerAuth(app: FastifyInstance, token: string): void {
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    const query = req.query as Record<string, unknown>;
    const fromQuery = typeof query.token === 'string' ? query.token : undefined;
    delete query.token;
    if (path === '/health') return;
    const header = req.headers.authorization;
    const bearer = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    const cookie = req.headers.cookie
      ?.split(';')
      .map((c) => c.trim())
      .find((c) => c.startsWith(`${TOKEN_COOKIE}=`))
      ?.slice(TOKEN_COOKIE.length + 1);
    const queryToken = TOKEN_IN_QUERY.has(path) ? fromQuery : undefined;
    const accepted = [bearer, cookie && decodeURIComponent(cookie), queryToken].some((t) => t !== undefined && sameSecret(t, token));
    if (!accepted) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="eventbench"')
        .send({ error: 'Unauthorized', message: 'this server needs its token: send "Authorization: Bearer <token>", or open the live page as /?token=<token>' });
    }
    if (path === '/' && queryToken !== undefined) {
      const rest = new URLSearchParams(req.url.split('?')[1] ?? '');
      rest.delete('token');
      const location = rest.size > 0 ? `/?${rest.toString()}` : '/';
      return reply
        .code(303)
        .header('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`)
        .header('location', location)
        .send();
    }
  });
}
