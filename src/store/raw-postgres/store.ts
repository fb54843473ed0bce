/**
 * raw-postgres: the postgres adapter's append and catch-up read done with `pg` alone, so `eventbench
 * bench` can say how much of a number is the adapter's. It writes the adapter's rows into the adapter's
 * tables (same namespace = same schema; the adapter's `init` creates them) and builds each event's
 * envelope with the same core function, so rows are identical column for column; what it leaves out
 * is the adapter's own work: the slow path that classifies a failed append (a retry of stored ids
 * answers DuplicateEventError here, not `duplicate: true`), the commit notification that wakes
 * subscriptions, reads through kysely, subscriptions and statistics (those fail with a clear error).
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import {
  ConfigError,
  DuplicateEventError,
  OutcomeUnknownError,
  StoreUnavailableError,
  VersionConflictError,
  closedStoreError,
  type AppendOptions,
  type AppendResult,
  type Capabilities,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
} from '../../core/event-store.ts';
import { checkExpectedVersion, checkReadAllOptions, checkReadStreamOptions, parseStreamName, prepareAppend } from '../../core/validate.ts';
import { notOfferedByBaseline } from '../backend.ts';
import { checkKind, keysetPageText, rawAppendText } from './statements.ts';

export interface RawPostgresOptions {
  pgUrl: string;
  schema: string;
  poolSize?: number;
  connectTimeoutMs?: number;
}

/** The postgres adapter's limit, restated (adapters do not import each other): jsonb rows up to 1 MiB. */
const MAX_EVENT_BYTES = 1024 * 1024;

export const RAW_POSTGRES_CAPABILITIES: Capabilities = {
  atomicMultiAppend: true,
  globalOrder: true,
  idempotencyWindowMs: null, // the adapter's unique index on event_id: a stored id is refused forever
  competingConsumers: false, // no subscriptions
  orderedCompetingConsumers: false,
  maxEventBytes: MAX_EVENT_BYTES,
};

const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

interface EventRow {
  position: number;
  stream_id: string;
  version: number;
  event_id: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  timestamp: string;
  correlation_id: string;
  causation_id: string | null;
  aggregate_id: string;
  aggregate_type: string;
}

function toRecorded(r: EventRow): RecordedEvent {
  const e: RecordedEvent = {
    id: r.event_id,
    type: r.type,
    timestamp: r.timestamp,
    correlationId: r.correlation_id,
    aggregateId: r.aggregate_id,
    aggregateType: r.aggregate_type,
    version: r.version,
    data: r.data,
    metadata: r.metadata,
    stream: r.stream_id,
    position: r.position,
  };
  if (r.causation_id !== null) e.causationId = r.causation_id;
  return e;
}

const UNAVAILABLE = /^(08|57P0[123]|53300)/;

export function createRawPostgresStore(options: RawPostgresOptions): EventStore {
  const { schema } = options;
  const pool = new pg.Pool({
    connectionString: options.pgUrl,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 10_000,
    application_name: 'eventbench-raw',
    types,
  });
  pool.on('error', () => {});
  pool.on('connect', (c) => c.on('error', () => {}));
  const s = `"${schema.replaceAll('"', '""')}"`;
  const hash = createHash('sha1').update(schema).digest('hex').slice(0, 12);
  const names = new Map<string, string>();
  let closed = false;
  const ensureOpen = (): void => {
    if (closed) throw closedStoreError('raw-postgres', schema);
  };

  const translate = (err: unknown, what: string): unknown => {
    if (err instanceof pg.DatabaseError) {
      if (err.code && UNAVAILABLE.test(err.code)) return new StoreUnavailableError(`PostgreSQL unavailable (${what}): SQLSTATE ${err.code}`, { cause: err });
      if (err.code === '3F000' || err.code === '42P01') return new ConfigError(`raw-postgres writes into the postgres backend's tables in schema ${schema}, which are missing: open the postgres store of the namespace first (eventbench init --backend postgres)`, { cause: err });
      return err;
    }
    return new StoreUnavailableError(`PostgreSQL unavailable (${what}): ${(err as Error).message}`, { cause: err });
  };

  async function streamVersion(stream: string): Promise<number> {
    ensureOpen();
    parseStreamName(stream);
    try {
      const { rows } = await pool.query<{ version: number }>(`SELECT version FROM ${s}.streams WHERE stream_id = $1`, [stream]);
      return rows[0]?.version ?? 0;
    } catch (err) {
      throw translate(err, 'streamVersion');
    }
  }

  const store: EventStore = {
    backend: 'raw-postgres',
    capabilities: RAW_POSTGRES_CAPABILITIES,

    async init() {
      ensureOpen();
      try {
        await pool.query(`SELECT 1 FROM ${s}.events LIMIT 0`);
      } catch (err) {
        throw translate(err, 'init');
      }
    },

    async appendToStream(stream: string, events: NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
      ensureOpen();
      const expected = checkExpectedVersion(options.expectedVersion);
      const { category } = parseStreamName(stream);
      const prepared = prepareAppend(stream, events, 1, MAX_EVENT_BYTES);
      const n = prepared.length;
      const kind = checkKind(expected);
      const key = `${kind}_${n}`;
      let name = names.get(key);
      if (!name) names.set(key, (name = `eb_raw_${key}_${hash}`));
      const values: unknown[] = kind === 'version' ? [stream, category, n, expected] : [stream, category, n];
      for (const p of prepared) {
        const e = p.envelope;
        values.push(e.id, e.type, p.dataJson, p.metadataJson, e.timestamp, e.correlationId, e.causationId ?? null, e.aggregateId, e.aggregateType);
      }
      let result: pg.QueryResult<{ version: number; positions: number[] }>;
      try {
        result = await pool.query({ name, text: rawAppendText(schema, kind, n), values });
      } catch (err) {
        if (err instanceof pg.DatabaseError && err.code === '23505') {
          if (err.constraint === 'events_event_id_key' || err.constraint === 'outbox_pkey') throw new DuplicateEventError(stream, prepared.map((p) => p.envelope.id), { cause: err });
          throw new VersionConflictError(stream, expected, await streamVersion(stream), { cause: err }); // a concurrent creator won
        }
        if (err instanceof pg.DatabaseError) throw translate(err, `append to ${stream}`);
        throw new OutcomeUnknownError(stream, `connection lost during append: ${(err as Error).message}`, { cause: err });
      }
      const row = result.rows[0];
      // No row: the check matched nothing. Only then is the actual version read (a failure's cost).
      if (!row) throw new VersionConflictError(stream, expected, await streamVersion(stream));
      return { streamVersion: row.version, positions: row.positions.map(Number), duplicate: false };
    },

    async readStream(stream, options) {
      ensureOpen();
      parseStreamName(stream);
      const o = checkReadStreamOptions(stream, options);
      const forward = o.direction === 'forward';
      const from = o.fromVersion ?? (forward ? 1 : Number.MAX_SAFE_INTEGER);
      try {
        const { rows } = await pool.query<EventRow>(
          `SELECT position, stream_id, version, event_id, type, data, metadata, "timestamp", correlation_id, causation_id, aggregate_id, aggregate_type
             FROM ${s}.events WHERE stream_id = $1 AND version ${forward ? '>=' : '<='} $2 ORDER BY version ${forward ? 'ASC' : 'DESC'} LIMIT $3`,
          [stream, from, Number.isFinite(o.limit) ? o.limit : null],
        );
        return rows.map(toRecorded);
      } catch (err) {
        throw translate(err, `readStream ${stream}`);
      }
    },

    async readAll(options) {
      ensureOpen();
      const o = checkReadAllOptions(options);
      const limit = Number.isFinite(o.limit) ? o.limit : null;
      try {
        const values: unknown[] = o.category === undefined ? [o.fromPosition, limit] : [o.fromPosition, limit, o.category];
        const { rows } = await pool.query<EventRow>({ name: `eb_raw_page_${o.category === undefined ? 'all' : 'cat'}_${hash}`, text: keysetPageText(schema, o.category !== undefined), values });
        return rows.map(toRecorded);
      } catch (err) {
        throw translate(err, 'readAll');
      }
    },

    streamVersion,

    subscribe: () => Promise.reject(notOfferedByBaseline('raw-postgres', 'subscriptions', 'postgres')),
    deleteSubscription: () => Promise.reject(notOfferedByBaseline('raw-postgres', 'subscriptions', 'postgres')),
    readDeadLetters: () => Promise.reject(notOfferedByBaseline('raw-postgres', 'dead letters', 'postgres')),
    storageStats: () => Promise.reject(notOfferedByBaseline('raw-postgres', 'storage statistics', 'postgres')),

    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
    [Symbol.asyncDispose]() {
      return store.close();
    },
  };
  return store;
}
