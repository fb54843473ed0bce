/**
 * Transactional outbox relay (the polling relay of docs/outbox.md §The relay, made safe to run more than
 * once). Each round claims up to `batchSize` unpublished rows with `FOR UPDATE SKIP LOCKED` inside a
 * transaction, hands them to the sink, marks them published and commits. The row locks are held until
 * that commit, so relays running in parallel take disjoint rows and, while healthy, never publish one row
 * twice; a relay that dies between the sink's publish and the commit leaves its rows unpublished and they
 * are published again (at-least-once: the sink deduplicates by `id`, e.g. JetStream's Nats-Msg-Id). A
 * failed publish leaves the rows unpublished with attempts + 1 and last_error, and the relay backs off.
 *
 * Order: by event position within one relay's batches; across parallel relays there is no global order
 * (each stream's order is only kept with one relay). Wakes on NOTIFY (appends notify after commit),
 * otherwise polls every `pollIntervalMs` (default 5 s, as the relay in docs/outbox.md).
 */
import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { ConfigError, type RecordedEvent } from '../../core/event-store.ts';
import { channelName, checkSchemaName, createDb, createPool, toRecorded, translateError, type EventRow } from './connection.ts';
import { ChangeFeed, Waker } from './notify.ts';
import type { Database } from './schema.ts';

/** An outbox row as the sink receives it: the columns of docs/outbox.md plus the full event it was written with. */
export interface OutboxRow {
  id: string;
  position: number;
  aggregateType: string;
  aggregateId: string;
  type: string;
  payload: unknown;
  createdAt: Date;
  /** Publish attempts before this one. */
  attempts: number;
  event: RecordedEvent;
}

/** Where the relay publishes: JetStream in the hybrid topology, anything in tests. All-or-nothing per call. */
export interface OutboxSink {
  publish(rows: OutboxRow[]): Promise<void>;
}

export interface OutboxRelayOptions {
  /** `application_name` of the relay's own pool (default `eventbench-outbox-relay`). */
  applicationName?: string;
  /** Connect with this URL (the relay owns its pool), or pass `pool`. */
  pgUrl?: string;
  pool?: pg.Pool;
  schema?: string;
  sink: OutboxSink;
  /** Rows per round (default 100). */
  batchSize?: number;
  /** Polling fallback when no NOTIFY arrives (default 5000 ms, the scheduled job of docs/outbox.md §The relay). */
  pollIntervalMs?: number;
  /** Wait after a failed publish before trying again (default 1000 ms). */
  retryDelayMs?: number;
  /** LISTEN for appends (default true; needs pgUrl). */
  listen?: boolean;
  /** Start the loop at once (default true); false = call runOnce() yourself. */
  autoStart?: boolean;
}

export interface OutboxRelayStats {
  published: number;
  batches: number;
  failures: number;
  lastError?: string;
}

export interface OutboxRelay extends AsyncDisposable {
  /** One round: claims, publishes, marks. Returns rows published (0 when none or when the sink failed). */
  runOnce(): Promise<number>;
  readonly stats: OutboxRelayStats;
  /**
   * Starts the next round now instead of at the next NOTIFY or poll: a store in the same process calls it
   * after its own append committed, which saves the NOTIFY round trip and its coalescing delay.
   */
  wake(): void;
  /** Stops the loop after the round in flight; closes what the relay opened. Idempotent. */
  close(): Promise<void>;
}

interface ClaimedRow extends EventRow {
  outbox_id: string;
  outbox_position: number;
  outbox_aggregate_type: string;
  outbox_aggregate_id: string;
  outbox_type: string;
  payload: unknown;
  outbox_created_at: Date;
  attempts: number;
}

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  if (!options?.sink || typeof options.sink.publish !== 'function') throw new ConfigError('outbox relay needs a sink with publish(rows)');
  if (!options.pool && !options.pgUrl) throw new ConfigError('outbox relay needs pgUrl or pool');
  const schema = checkSchemaName(options.schema ?? 'eventbench');
  const batchSize = options.batchSize ?? 100;
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  const ownPool = !options.pool;
  const pool = options.pool ?? createPool({ pgUrl: options.pgUrl!, poolSize: 2, applicationName: options.applicationName ?? 'eventbench-outbox-relay' });
  const db: Kysely<Database> = createDb(pool);
  const s = sql.id(schema);
  const stats: OutboxRelayStats = { published: 0, batches: 0, failures: 0 };
  const waker = new Waker();
  const feed = options.listen !== false && options.pgUrl ? new ChangeFeed(options.pgUrl, channelName(schema), 5_000) : undefined;
  const unlisten = feed?.listen(() => waker.wake());
  let stopping = false;
  let closing: Promise<void> | undefined;
  let lastFailed = false;

  async function runOnce(): Promise<number> {
    lastFailed = false;
    try {
      return await db.transaction().execute(async (trx) => {
        // SKIP LOCKED: rows another relay is publishing right now are its business, not a reason to wait.
        const { rows } = await sql<ClaimedRow>`
          SELECT o.id AS outbox_id, o.position AS outbox_position, o.aggregate_type AS outbox_aggregate_type,
                 o.aggregate_id AS outbox_aggregate_id, o.type AS outbox_type, o.payload, o.created_at AS outbox_created_at,
                 o.attempts, e.position, e.stream_id, e.version, e.event_id, e.type, e.data, e.metadata, e."timestamp",
                 e.correlation_id, e.causation_id, e.aggregate_id, e.aggregate_type
            FROM ${s}.outbox o JOIN ${s}.events e ON e.event_id = o.id
           WHERE NOT o.published
           ORDER BY o.position
           LIMIT ${batchSize}
             FOR UPDATE OF o SKIP LOCKED`.execute(trx);
        if (rows.length === 0) return 0;
        const batch: OutboxRow[] = rows.map((r) => ({
          id: r.outbox_id,
          position: r.outbox_position,
          aggregateType: r.outbox_aggregate_type,
          aggregateId: r.outbox_aggregate_id,
          type: r.outbox_type,
          payload: r.payload,
          createdAt: r.outbox_created_at,
          attempts: r.attempts,
          event: toRecorded(r),
        }));
        const ids = batch.map((r) => r.id);
        try {
          await options.sink.publish(batch);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          await sql`UPDATE ${s}.outbox SET attempts = attempts + 1, last_error = ${message} WHERE id = ANY(${ids}::text[])`.execute(trx);
          stats.failures++;
          stats.lastError = message;
          lastFailed = true;
          return 0;
        }
        await sql`UPDATE ${s}.outbox SET published = true, published_at = now(), attempts = attempts + 1, last_error = NULL
                   WHERE id = ANY(${ids}::text[])`.execute(trx);
        stats.published += batch.length;
        stats.batches++;
        return batch.length;
      });
    } catch (err) {
      throw translateError(err, 'outbox relay');
    }
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      let n = 0;
      try {
        n = await runOnce();
      } catch (err) {
        stats.failures++;
        stats.lastError = (err as Error).message;
        lastFailed = true;
      }
      if (stopping) break;
      if (lastFailed) await waker.wait(retryDelayMs);
      else if (n < batchSize) await waker.wait(pollIntervalMs);
    }
  }

  const running = options.autoStart === false ? Promise.resolve() : loop();

  const relay: OutboxRelay = {
    runOnce,
    stats,
    wake: () => waker.wake(),
    close(): Promise<void> {
      closing ??= (async () => {
        stopping = true;
        unlisten?.();
        waker.wake();
        await running;
        await feed?.close();
        if (ownPool) await db.destroy().catch(() => {});
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return relay.close();
    },
  };
  return relay;
}
