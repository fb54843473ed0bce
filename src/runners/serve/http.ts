/**
 * The HTTP face of `eventbench serve`: the event API of docs/event-api.md on Fastify, with every input
 * checked by Fastify's JSON-schema validation (limits bounded, unknown parameters refused with a 400 that
 * names them), the live page and its replay view (static files from ./public), and `/metrics`.
 */
import Fastify, { type FastifyInstance, type FastifySchemaValidationError } from 'fastify';
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
}

const PUBLIC_FILES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
} as const;

/** Everything the page needs comes from this server: no CDN, no inline script. */
const CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'";

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

  app.setErrorHandler((err: Error, req, reply) => {
    const status = (err as { statusCode?: number }).statusCode;
    if ((err as { validation?: unknown }).validation || status === 400 || (isEventStoreError(err) && err.code === 'config')) {
      return reply.code(400).send({ error: 'Bad Request', message: err.message });
    }
    // Not the client's fault: said on the server's stderr too, where whoever runs `serve` looks.
    process.stderr.write(`eventbench serve: ${req.method} ${req.url}: ${err.message}\n`);
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

  app.get<{ Querystring: { category?: string; stream?: string; from: number; limit: number } }>(
    '/replay',
    {
      schema: {
        querystring: query({
          category: { type: 'string', pattern: CATEGORY_PATTERN.source },
          stream: { type: 'string', pattern: STREAM_NAME_PATTERN.source },
          from: { type: 'integer', minimum: 0, default: 0 },
          limit: limitSchema(REPLAY_MAX_LIMIT, REPLAY_DEFAULT_LIMIT),
        }),
      },
      schemaErrorFormatter: formatter({ querystring: ['category', 'stream', 'from', 'limit'] }),
    },
    async (req, reply) => {
      const { category, stream, from, limit } = req.query;
      if ((category === undefined) === (stream === undefined)) {
        return reply.code(400).send({ error: 'Bad Request', message: 'give exactly one of query parameters "category" (e.g. case) or "stream" (e.g. case-123)' });
      }
      return replayer.page(stream !== undefined ? { stream } : { category: category! }, from, limit);
    },
  );

  app.get('/metrics', { schema: { querystring: query({}) }, schemaErrorFormatter: formatter({ querystring: [] }) }, async (_req, reply) => {
    await parts.beforeScrape?.();
    return reply.header('content-type', metrics.contentType).send(await metrics.metrics());
  });

  return app;
}
