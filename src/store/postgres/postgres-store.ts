/**
 * The PostgreSQL EventStore: versioned streams with optimistic concurrency, one-round-trip atomic appends
 * with their outbox rows (append.ts), gap-safe competing-consumer subscriptions (subscription.ts).
 * Namespace = PostgreSQL schema: every store, test and run can live in its own.
 */
import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import {
  ConfigError,
  OutcomeUnknownError,
  StoreUnavailableError,
  closedStoreError,
  type AppendOptions,
  type AppendResult,
  type Capabilities,
  type DeadLetter,
  type EventHandler,
  type EventStore,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StorageStats,
  type Subscription,
  type SubscriptionOptions,
} from '../../core/event-store.ts';
import { checkCategory, checkReadAllOptions, checkReadStreamOptions, checkSubscriptionName, parseStreamName } from '../../core/validate.ts';
import type { InitReport } from '../backend.ts';
import { appendOnClient, type AppendSettings } from './append.ts';
import { channelName, checkSchemaName, createDb, createPool, toRecorded, translateError, type EventRow } from './connection.ts';
import { migrate } from './migrations.ts';
import { ChangeFeed, CommitNotifier } from './notify.ts';
import { EVENT_COLUMNS, type Database } from './schema.ts';
import { startSubscription } from './subscription.ts';

/** 1 MiB per event: the order of JetStream's default max payload, so both backends accept the same events. */
export const POSTGRES_MAX_EVENT_BYTES = 1024 * 1024;

export const POSTGRES_CAPABILITIES: Capabilities = {
  atomicMultiAppend: true,
  globalOrder: true,
  idempotencyWindowMs: null, // the unique index on event_id remembers forever
  competingConsumers: true,
  orderedCompetingConsumers: false,
  maxEventBytes: POSTGRES_MAX_EVENT_BYTES,
};

export interface PostgresStoreOptions {
  pgUrl: string;
  /** PostgreSQL schema holding the tables (default `eventbench`). */
  schema?: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Connecting longer than this -> StoreUnavailableError (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Write outbox rows with every append (default true). */
  outbox?: boolean;
  /** Send a (coalesced) NOTIFY after appends so subscribers and relays wake at once (default true). */
  notify?: boolean;
  /** At most one NOTIFY per this many ms while appends keep coming (default 100; the first after a quiet spell goes at once). */
  notifyIntervalMs?: number;
  /** Subscriptions' polling fallback (default 1000 ms). */
  pollIntervalMs?: number;
  maxEventBytes?: number;
  now?: () => Date;
}

export interface PostgresStore extends EventStore {
  readonly schema: string;
  readonly pool: pg.Pool;
  readonly db: Kysely<Database>;
  /** Applies the migrations (what `init()` does) and says what changed. */
  migrate(): Promise<InitReport>;
  /** `SHOW server_version` etc., for results. */
  serverInfo(): Promise<Record<string, string>>;
}

export async function createPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  if (!options?.pgUrl) throw new ConfigError('postgres backend needs a URL: --pg-url postgres://... or PG_URL');
  const schema = checkSchemaName(options.schema ?? 'eventbench');
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const pool = createPool({ pgUrl: options.pgUrl, poolSize: options.poolSize, connectTimeoutMs });
  const db = createDb(pool);
  const channel = channelName(schema);
  const feed = new ChangeFeed(options.pgUrl, channel, connectTimeoutMs);
  const notifier = options.notify === false ? undefined : new CommitNotifier(pool, channel, options.notifyIntervalMs);
  const appendSettings: AppendSettings = {
    schema,
    maxEventBytes: options.maxEventBytes ?? POSTGRES_MAX_EVENT_BYTES,
    outbox: options.outbox ?? true,
    ...(options.now ? { now: options.now } : {}),
  };
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const subscriptions = new Set<Subscription>();
  let closed = false;
  let walAtOpen: string | undefined;
  let closing: Promise<void> | undefined;

  const ensureOpen = () => {
    if (closed) throw closedStoreError('postgres', schema);
  };

  async function checkout(what: string): Promise<pg.PoolClient> {
    try {
      return await pool.connect();
    } catch (err) {
      throw translateError(err, what);
    }
  }

  const store: PostgresStore = {
    backend: 'postgres',
    capabilities: POSTGRES_CAPABILITIES,
    schema,
    pool,
    db,

    async init() {
      await store.migrate();
      // WAL position when this store was opened: storageStats reports the WAL written since then.
      walAtOpen ??= (await sql<{ lsn: string }>`SELECT pg_current_wal_lsn()::text AS lsn`.execute(db).catch(() => undefined))?.rows[0]?.lsn;
    },

    async migrate() {
      ensureOpen();
      try {
        return await migrate(db, schema);
      } catch (err) {
        throw translateError(err, 'init');
      }
    },

    async appendToStream(stream: string, events: NewEvent[], appendOptions: AppendOptions = {}): Promise<AppendResult> {
      ensureOpen();
      // Validate before borrowing a connection: bad input never touches the server.
      parseStreamName(stream);
      const client = await checkout(`append to ${stream}`);
      let broken: Error | undefined;
      try {
        const result = await appendOnClient(client, appendSettings, stream, events, appendOptions.expectedVersion);
        if (!result.duplicate) notifier?.notify();
        return result;
      } catch (err) {
        // A lost connection goes back to the pool as broken (destroyed), not for reuse.
        if (err instanceof OutcomeUnknownError || err instanceof StoreUnavailableError) broken = err;
        throw err;
      } finally {
        client.release(broken);
      }
    },

    async readStream(stream: string, readOptions?: ReadStreamOptions): Promise<RecordedEvent[]> {
      ensureOpen();
      parseStreamName(stream);
      const { direction, fromVersion, limit } = checkReadStreamOptions(stream, readOptions);
      if (limit === 0) return [];
      const backward = direction === 'backward';
      try {
        let q = db.withSchema(schema).selectFrom('events').select(EVENT_COLUMNS).where('stream_id', '=', stream);
        if (fromVersion !== undefined) q = q.where('version', backward ? '<=' : '>=', fromVersion);
        q = q.orderBy('version', backward ? 'desc' : 'asc');
        if (limit !== Infinity) q = q.limit(limit);
        return (await q.execute()).map((r) => toRecorded(r as EventRow));
      } catch (err) {
        throw translateError(err, `read ${stream}`);
      }
    },

    async readAll(readOptions?: ReadAllOptions): Promise<RecordedEvent[]> {
      ensureOpen();
      const { fromPosition, limit, category } = checkReadAllOptions(readOptions);
      if (limit === 0) return [];
      try {
        let q = db.withSchema(schema).selectFrom('events').select(EVENT_COLUMNS).where('position', '>', fromPosition);
        if (category !== undefined) q = q.where('category', '=', category);
        q = q.orderBy('position');
        if (limit !== Infinity) q = q.limit(limit);
        return (await q.execute()).map((r) => toRecorded(r as EventRow));
      } catch (err) {
        throw translateError(err, 'readAll');
      }
    },

    async streamVersion(stream: string): Promise<number> {
      ensureOpen();
      parseStreamName(stream);
      try {
        const row = await db.withSchema(schema).selectFrom('streams').select('version').where('stream_id', '=', stream).executeTakeFirst();
        return row?.version ?? 0;
      } catch (err) {
        throw translateError(err, `version of ${stream}`);
      }
    },

    async subscribe(name: string, handler: EventHandler, subscriptionOptions?: SubscriptionOptions): Promise<Subscription> {
      ensureOpen();
      const sub = await startSubscription(
        {
          db,
          pool,
          openReadPool: () => createPool({ pgUrl: options.pgUrl, poolSize: 1, connectTimeoutMs, applicationName: 'eventbench-subscription' }),
          schema,
          feed,
          pollIntervalMs,
          onClose: (s) => subscriptions.delete(s),
        },
        name,
        handler,
        subscriptionOptions,
      );
      subscriptions.add(sub);
      return sub;
    },

    async deleteSubscription(name: string, deleteOptions: { category?: string } = {}): Promise<boolean> {
      ensureOpen();
      checkSubscriptionName(name);
      if (deleteOptions.category !== undefined) checkCategory(deleteOptions.category);
      if ([...subscriptions].some((s) => s.name === name)) {
        throw new ConfigError(`deleteSubscription ${name}: a consumer of it is still open; close it first`);
      }
      try {
        // Its claims go with it (ON DELETE CASCADE); event_log and dead_letters stay (the audit trail).
        const { rows } = await sql<{ name: string }>`DELETE FROM ${sql.id(schema, 'subscriptions')} WHERE name = ${name} RETURNING name`.execute(db);
        return rows.length > 0;
      } catch (err) {
        throw translateError(err, `deleteSubscription ${name}`);
      }
    },

    async readDeadLetters(subscription: string): Promise<DeadLetter[]> {
      ensureOpen();
      checkSubscriptionName(subscription);
      try {
        const rows = await db
          .withSchema(schema)
          .selectFrom('dead_letters as d')
          .innerJoin('events as e', 'e.event_id', 'd.event_id')
          .select(EVENT_COLUMNS.map((c) => `e.${c}` as const))
          .select(['d.subscription', 'd.deliveries', 'd.reason', 'd.created_at'])
          .where((eb) => eb.or([eb('d.subscription', '=', subscription), eb('d.destination', '=', subscription)]))
          .orderBy('d.position')
          .execute();
        return rows.map((r) => ({
          subscription: r.subscription,
          event: toRecorded(r as EventRow),
          deliveries: r.deliveries,
          reason: r.reason,
          at: new Date(r.created_at).toISOString(),
        }));
      } catch (err) {
        throw translateError(err, `dead letters of ${subscription}`);
      }
    },

    async storageStats(): Promise<StorageStats> {
      ensureOpen();
      try {
        const { rows } = await sql<{ events: number; events_bytes: number; outbox_bytes: number; streams_bytes: number; event_log_bytes: number }>`
          SELECT (SELECT count(*) FROM ${sql.id(schema, 'events')})::bigint AS events,
                 pg_total_relation_size(${`${schema}.events`}::regclass) AS events_bytes,
                 pg_total_relation_size(${`${schema}.outbox`}::regclass) AS outbox_bytes,
                 pg_total_relation_size(${`${schema}.streams`}::regclass) AS streams_bytes,
                 pg_total_relation_size(${`${schema}.event_log_entries`}::regclass)
                   + pg_total_relation_size(${`${schema}.event_log_ranges`}::regclass) AS event_log_bytes`.execute(db);
        const r = rows[0]!;
        // WAL is server-wide: other sessions' writes on the same server count too.
        const wal = walAtOpen
          ? await sql<{ bytes: string }>`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ${walAtOpen}::pg_lsn)::bigint::text AS bytes`.execute(db)
          : undefined;
        return {
          events: Number(r.events),
          // What storing the events costs: the events table with its indexes and the stream rows. The outbox
          // and the subscription log are reported apart (they depend on relay and consumers, not on the store).
          bytes: Number(r.events_bytes) + Number(r.streams_bytes),
          detail: {
            events_bytes: Number(r.events_bytes),
            streams_bytes: Number(r.streams_bytes),
            outbox_bytes: Number(r.outbox_bytes),
            event_log_bytes: Number(r.event_log_bytes),
            ...(wal ? { wal_bytes_since_open: Number(wal.rows[0]!.bytes) } : {}),
          },
        };
      } catch (err) {
        throw translateError(err, 'storage stats');
      }
    },

    async serverInfo(): Promise<Record<string, string>> {
      try {
        const { rows } = await sql<{ name: string; setting: string }>`
          SELECT name, setting FROM pg_settings
           WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'wal_level', 'shared_buffers', 'max_connections', 'full_page_writes', 'wal_sync_method')`.execute(db);
        return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
      } catch (err) {
        throw translateError(err, 'server info');
      }
    },

    close(): Promise<void> {
      // Closed from the first call on: no new work starts while subscriptions wind down.
      closed = true;
      closing ??= (async () => {
        await Promise.allSettled([...subscriptions].map((s) => s.close()));
        await notifier?.close();
        await feed.close();
        await db.destroy().catch(() => {});
      })();
      return closing;
    },

    [Symbol.asyncDispose]() {
      return store.close();
    },
  };
  return store;
}
