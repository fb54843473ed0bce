/**
 * Pool, Kysely instance and error translation for the PostgreSQL adapter. Driver errors are classified
 * by SQLSTATE and by the phase they happen in (connecting vs. a statement in flight), never by message.
 */
import { Kysely, PostgresDialect, type Selectable } from 'kysely';
import pg from 'pg';
import { ConfigError, StoreUnavailableError, type RecordedEvent } from '../../core/event-store.ts';
import type { Database, EventsTable } from './schema.ts';

/** A PostgreSQL schema name we create and quote: letters, digits and "_" (uniqueName() makes such names). */
const SCHEMA_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function checkSchemaName(schema: string): string {
  if (typeof schema !== 'string' || !SCHEMA_PATTERN.test(schema)) {
    throw new ConfigError(`invalid PostgreSQL schema / namespace ${JSON.stringify(schema)}: letters, digits and "_", at most 63`);
  }
  return schema;
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** LISTEN/NOTIFY channel of a store: appends notify it (after commit, see append.ts), subscriptions and relays listen. */
export function channelName(schema: string): string {
  return `eventbench_${schema}`.slice(0, 63);
}

/**
 * The URL with session settings added as libpq's `options` parameter (`-c name=value`): pg sends them in
 * the startup packet, so every connection of every pool opened from the URL (appends, subscriptions,
 * LISTEN) has them from its first statement, with no extra round trip and nothing to forget.
 */
export function withSessionSettings(pgUrl: string, settings: Record<string, string>): string {
  const entries = Object.entries(settings);
  if (entries.length === 0) return pgUrl;
  let url: URL;
  try {
    url = new URL(pgUrl);
  } catch {
    throw new ConfigError(`PostgreSQL URL ${JSON.stringify(pgUrl.replace(/\/\/[^@/]*@/, '//***@'))} is not a URL: use postgres://user@host:port/db`);
  }
  const given = url.searchParams.get('options');
  const added = entries.map(([k, v]) => `-c ${k}=${v}`).join(' ');
  url.searchParams.set('options', given ? `${given} ${added}` : added);
  return url.toString();
}

export interface PoolSettings {
  pgUrl: string;
  /** Connections (default 10; the append benchmark uses one per writer). */
  poolSize?: number;
  /** Give up connecting after this long (default 5000 ms) -> StoreUnavailableError. */
  connectTimeoutMs?: number;
  applicationName?: string;
}

// int8 (positions, versions) as numbers: 2^53 events is far beyond any run; everything else as pg parses it.
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export function createPool(settings: PoolSettings): pg.Pool {
  const pool = new pg.Pool({
    connectionString: settings.pgUrl,
    max: settings.poolSize ?? 10,
    connectionTimeoutMillis: settings.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 10_000,
    application_name: settings.applicationName ?? 'eventbench',
    types,
  });
  // An idle client whose server went away emits here; the next checkout reconnects. Without a listener
  // the process would crash on a server restart (chaos scenarios do exactly that).
  pool.on('error', () => {});
  // A checked-out client has no pool listener: when the server dies under a statement kysely is running
  // (it holds the client between checkout and release), pg rejects the statement AND emits 'error' on the
  // client, which crashed the process (seen in test/postgres/outage.int.test.ts). The rejection is what
  // callers handle; the event is dropped.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

export function createDb(pool: pg.Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** True for an error the server sent (it has a SQLSTATE): the connection itself is fine. */
export function isServerError(err: unknown): err is pg.DatabaseError {
  return err instanceof pg.DatabaseError;
}

// SQLSTATEs that mean "the server is not serving": connection exceptions (08), shutdown (57P01-57P03),
// too many connections (53300).
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

export function isUnavailableSqlState(code: string | undefined): boolean {
  return code !== undefined && (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code));
}

/**
 * Translates a driver error of a read or an administrative statement: server down / refused /
 * connection lost -> StoreUnavailableError; bad credentials or database -> ConfigError; the rest as is.
 */
export function translateError(err: unknown, what: string): unknown {
  if (err instanceof ConfigError || err instanceof StoreUnavailableError) return err;
  if (isServerError(err)) {
    if (isUnavailableSqlState(err.code)) return new StoreUnavailableError(`PostgreSQL unavailable (${what}): SQLSTATE ${err.code}`, { cause: err });
    // 28xxx invalid authorization, 3D000 database does not exist: a setup problem, not an outage.
    if (err.code?.startsWith('28') || err.code === '3D000') return new ConfigError(`PostgreSQL refused the connection (${what}): SQLSTATE ${err.code} ${err.message}`, { cause: err });
    return err;
  }
  // No SQLSTATE: a socket error (ECONNREFUSED, ECONNRESET, ...) or a pg / pg-pool connect timeout.
  if (err instanceof Error) return new StoreUnavailableError(`PostgreSQL unavailable (${what}): ${err.message}`, { cause: err });
  return err;
}

/** An `events` row as the read queries select it (typed from the one `Database` interface). */
export type EventRow = Omit<Selectable<EventsTable>, 'category' | 'created_at' | 'transaction_id'>;

export function toRecorded(row: EventRow): RecordedEvent {
  const event: RecordedEvent = {
    id: row.event_id,
    type: row.type,
    timestamp: row.timestamp,
    correlationId: row.correlation_id,
    aggregateId: row.aggregate_id,
    aggregateType: row.aggregate_type,
    version: row.version,
    data: row.data,
    metadata: row.metadata,
    stream: row.stream_id,
    position: row.position,
  };
  if (row.causation_id !== null) event.causationId = row.causation_id;
  return event;
}
