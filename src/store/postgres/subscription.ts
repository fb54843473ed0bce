/**
 * Durable, gap-safe, competing-consumer subscriptions on PostgreSQL.
 *
 * Order and gaps: events are walked in (transaction_id, position) order, reading only rows whose
 * transaction is older than every running one (`transaction_id < pg_snapshot_xmin(pg_current_snapshot())`,
 * Emmett's approach). A row not visible at a read belongs to a transaction that was still running, so its
 * transaction_id is >= that read's xmin > every transaction_id already handed out: it lands ahead of the
 * frontier, never behind it. (Checkpointing by position alone is not enough: a transaction that got its
 * xid early can take a position after a later xid's position.) For appends made by this adapter, one
 * statement per transaction, the order is each stream's version order.
 *
 * Competing consumers: `claim_events` (sql/002) takes the subscription row lock, cuts the next range
 * (from, to] of up to `batchSize` safe events, records it as a claim with an expiry (ack wait) and moves
 * the frontier. Only claiming is serialised; consumers process their ranges in parallel. A range is
 * stable (all its events committed before it was cut), so an expired claim (consumer died, or gave it
 * back on close) is handed out again as it is. Under competing consumers a stream's events may be
 * handled out of order (capability orderedCompetingConsumers = false); one consumer handles its batch in
 * order.
 *
 * Acknowledgement: after a batch the consumer deletes its claim and inserts one `success` row per event
 * into event_log in ONE statement, so "acknowledged" and "logged as success" commit together: a consumer
 * killed mid-batch leaves its claim to expire and no success rows, the next consumer redelivers the
 * range, and the unique index event_log_success_key makes a second success row for an event impossible.
 * Handler side effects outside this database are at-least-once (they may run again after a crash).
 *
 * Failures: each failed delivery writes a `failed` row at once (so delivery counts survive a crash); the
 * consumer retries after backoffMs[attempt-1] (last value repeats) in order; at maxDeliver the event goes
 * to dead_letters with a `dead` row and the batch moves on.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { sql, type Kysely, type Selectable } from 'kysely';
import {
  ConfigError,
  type EventHandler,
  type RecordedEvent,
  type Subscription,
  type SubscriptionOptions,
} from '../../core/event-store.ts';
import { resolveSubscriptionOptions } from '../../core/validate.ts';
import { isServerError, toRecorded, translateError, type EventRow } from './connection.ts';
import { Waker, type ChangeFeed } from './notify.ts';
import type { Database, SubscriptionClaimsTable } from './schema.ts';

export interface SubscriptionDeps {
  db: Kysely<Database>;
  schema: string;
  feed: ChangeFeed;
  /** Polling fallback when no notification comes (default 1000 ms). */
  pollIntervalMs: number;
  /** Called once the subscription is closed (the store forgets it). */
  onClose?: (subscription: Subscription) => void;
}

/** What claim_events returns: the claimed range (from, to] in (transaction_id, position) order. */
type ClaimInfo = Pick<
  Selectable<SubscriptionClaimsTable>,
  'from_transaction_id' | 'from_position' | 'to_transaction_id' | 'to_position' | 'min_position' | 'max_position' | 'events'
> & {
  /** NULL when there was nothing to claim. */
  claim_id: number | null;
  redelivery: boolean;
  /** Nothing claimable yet, but committed rows wait behind an older running transaction. */
  pending: boolean;
  category: string | null;
};

interface ClaimRow extends EventRow {
  transaction_id: string;
}

interface Batch {
  claimId: number;
  redelivery: boolean;
  range: ClaimInfo;
  rows: ClaimRow[];
}

/** An event of the batch that needs no more work, and what to log for it. */
interface Done {
  row: ClaimRow;
  /** Delivery number of the success; undefined = already logged (dead letter, or done before a crash). */
  successAttempt: number | undefined;
}

/** First retry after an empty claim that saw committed-but-not-yet-safe rows (an older transaction still running). */
const PENDING_RETRY_MS = 10;

export async function startSubscription(
  deps: SubscriptionDeps,
  name: string,
  handler: EventHandler,
  options: SubscriptionOptions = {},
): Promise<Subscription> {
  const { category, maxDeliver, backoffMs, ackWaitMs, batchSize, closeTimeoutMs, deadLetter } = resolveSubscriptionOptions(name, options);
  if (typeof handler !== 'function') throw new ConfigError(`subscribe ${name}: handler must be a function`);

  const { db, schema } = deps;
  const s = sql.id(schema);
  try {
    // First subscriber of this name creates it: at the start, or after the newest safe event (`end`).
    const created = await sql<{ category: string | null }>`
      WITH start AS (
        SELECT coalesce(max(e.transaction_id), '0'::xid8) AS transaction_id, coalesce(max(e.position), 0) AS position
          FROM (SELECT e.transaction_id, e.position FROM ${s}.events e
                 WHERE ${options.from === 'end'} AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
                   AND (${category}::text IS NULL OR e.category = ${category})
                 ORDER BY e.transaction_id DESC, e.position DESC LIMIT 1) e
      ), ins AS (
        INSERT INTO ${s}.subscriptions (name, category, transaction_id, position)
        SELECT ${name}, ${category}, start.transaction_id, start.position FROM start
        ON CONFLICT (name) DO NOTHING
      )
      SELECT category FROM ${s}.subscriptions WHERE name = ${name}`.execute(db);
    const existing = created.rows[0];
    if (existing && existing.category !== category) {
      throw new ConfigError(`subscription ${name} exists for category ${existing.category ?? '(all)'}, not ${category ?? '(all)'}`);
    }
  } catch (err) {
    throw translateError(err, `subscribe ${name}`);
  }

  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const waker = new Waker();
  const unlisten = deps.feed.listen(() => waker.wake());
  let stopping = false;
  /** Set when close() gave up waiting: the loop must not write anything any more. */
  let abandoned = false;
  let current: { batch: Batch; done: Done[]; retryAt: number } | undefined;
  /** The next range, claimed while the current batch is handled (catch-up only). */
  let ahead: Promise<ClaimInfo> | undefined;
  /** The rows of `ahead`, read while the current batch is handled (a claimed range's rows never change). */
  let aheadBatch: Promise<Batch | undefined> | undefined;

  const backoff = (attempt: number) => backoffMs[Math.min(attempt - 1, backoffMs.length - 1)]!;

  /** Reads the events of a range (from, to]: a plain index range scan on (transaction_id, position). */
  function rangeWhere(r: ClaimInfo, toTransactionId: string, toPosition: number) {
    // The position bounds are redundant but estimable: without them the planner cannot size a range of
    // row comparisons and chose a sequential scan (sql/002, subscription_claims.min_position).
    return sql`(e.transaction_id, e.position) > (${r.from_transaction_id}::xid8, ${r.from_position}::bigint)
           AND (e.transaction_id, e.position) <= (${toTransactionId}::xid8, ${toPosition}::bigint)
           AND e.position BETWEEN ${r.min_position}::bigint AND ${r.max_position}::bigint
           AND (${r.category}::text IS NULL OR e.category = ${r.category})`;
  }

  /** Claims the next range (one round trip); claim_id NULL when there is nothing to claim. */
  async function claimRange(): Promise<ClaimInfo> {
    const claimed = await sql<ClaimInfo>`SELECT * FROM ${s}.claim_events(${name}, ${owner}, ${batchSize}::int, ${Math.ceil(ackWaitMs)}::int)`.execute(db);
    return claimed.rows[0]!;
  }

  async function fetchBatch(range: ClaimInfo): Promise<Batch> {
    const { rows } = await sql<ClaimRow>`
      SELECT e.position, e.transaction_id, e.stream_id, e.version, e.event_id, e.type, e.data, e.metadata, e."timestamp",
             e.correlation_id, e.causation_id, e.aggregate_id, e.aggregate_type
        FROM ${s}.events e
       WHERE ${rangeWhere(range, range.to_transaction_id, range.to_position)}
       ORDER BY e.transaction_id, e.position`.execute(db);
    return { claimId: range.claim_id!, redelivery: range.redelivery, range, rows };
  }

  /** Gives an unstarted claim back at once (instead of letting it expire after ack wait). */
  async function release(range: ClaimInfo): Promise<void> {
    await sql`UPDATE ${s}.subscription_claims SET expires_at = clock_timestamp() WHERE id = ${range.claim_id} AND owner = ${owner}`.execute(db);
  }

  /** For a redelivered range: deliveries so far, and which events are already done (success or dead). */
  async function history(rows: ClaimRow[]): Promise<Map<string, { failed: number; done: boolean }>> {
    // Two index lookups (failures by event id, successes by position): event_log grows with every event.
    const { rows: result } = await sql<{ event_id: string; outcome: string; n: number }>`
      SELECT event_id, outcome, count(*)::int AS n FROM ${s}.event_log
       WHERE subscription = ${name} AND outcome <> 'success' AND event_id = ANY(${rows.map((r) => r.event_id)}::text[])
       GROUP BY event_id, outcome
      UNION ALL
      SELECT event_id, outcome, 1 FROM ${s}.event_log
       WHERE subscription = ${name} AND outcome = 'success' AND position = ANY(${rows.map((r) => r.position)}::bigint[])`.execute(db);
    const map = new Map<string, { failed: number; done: boolean }>();
    for (const r of result) {
      const h = map.get(r.event_id) ?? { failed: 0, done: false };
      if (r.outcome === 'failed') h.failed += r.n;
      else h.done = true;
      map.set(r.event_id, h);
    }
    return map;
  }

  async function logFailure(row: ClaimRow, attempt: number, reason: string, outcome: 'failed' | 'dead'): Promise<void> {
    const entry = { subscription: name, event_id: row.event_id, position: row.position, outcome, attempts: attempt, error: reason };
    if (outcome === 'failed') {
      await db.withSchema(schema).insertInto('event_log').values(entry).execute();
      return;
    }
    await db.transaction().execute(async (trx) => {
      await trx
        .withSchema(schema)
        .insertInto('dead_letters')
        .values({ subscription: name, event_id: row.event_id, position: row.position, destination: deadLetter, deliveries: attempt, reason })
        .onConflict((oc) => oc.columns(['subscription', 'event_id']).doNothing())
        .execute();
      await trx.withSchema(schema).insertInto('event_log').values(entry).execute();
    });
  }

  /**
   * Acknowledges `done` and either deletes the claim (whole batch done) or gives the rest of the range
   * back: `from` moves past the done prefix and the claim expires at `retryAt` (now, or when a pending
   * retry is due), so the next consumer of this name picks it up. One statement, one commit. The success
   * rows are written server-side from the range (1000 events cost no 1000-element arrays on the wire);
   * only the exceptions travel: events already logged (dead letter, done before a crash) and retried ones.
   * Asynchronous commit (as for claims, see sql/002): an acknowledgement lost in a server crash takes its
   * success rows with it (same transaction), so the range is redelivered and logged once; at-least-once
   * and "one success row per event" both hold, and a batch does not wait for a WAL flush.
   */
  async function settle(batch: Batch, done: Done[], complete: boolean, retryAt: number): Promise<void> {
    try {
      await settleOnce(batch, done, complete, retryAt, false);
    } catch (err) {
      // A success row exists already (this range was redelivered after another consumer acknowledged
      // part of it): insert what is missing. The plain INSERT first, because ON CONFLICT's speculative
      // insertion tripled the cost of the common case (measured: 1000 rows 3 ms plain vs 10 ms).
      if (!isServerError(err) || err.code !== '23505') throw err;
      await settleOnce(batch, done, complete, retryAt, true);
    }
  }

  async function settleOnce(batch: Batch, done: Done[], complete: boolean, retryAt: number, tolerateDuplicates: boolean): Promise<void> {
    const last = done[done.length - 1]?.row;
    const skip = done.filter((d) => d.successAttempt === undefined).map((d) => d.row.event_id);
    const retried = done.filter((d) => d.successAttempt !== undefined && d.successAttempt > 1);
    const onConflict = tolerateDuplicates ? sql`ON CONFLICT (subscription, position) WHERE outcome = 'success' DO NOTHING` : sql``;
    const log = last
      ? sql`
      INSERT INTO ${s}.event_log (subscription, event_id, position, outcome, attempts)
      SELECT ${name}, e.event_id, e.position, 'success', coalesce(r.attempts, 1)
        FROM ${s}.events e
        LEFT JOIN unnest(${retried.map((d) => d.row.event_id)}::text[], ${retried.map((d) => d.successAttempt!)}::int[]) AS r(event_id, attempts)
               ON r.event_id = e.event_id
       WHERE ${rangeWhere(batch.range, last.transaction_id, last.position)}
         AND NOT (e.event_id = ANY(${skip}::text[]))
      ${onConflict}`
      : sql`SELECT 1`;
    if (complete) {
      await sql`WITH ack AS (DELETE FROM ${s}.subscription_claims WHERE id = ${batch.claimId}), log AS (${log})
                SELECT set_config('synchronous_commit', 'off', true)`.execute(db);
      return;
    }
    await sql`
      WITH give_back AS (
        UPDATE ${s}.subscription_claims c
           SET from_transaction_id = coalesce(${last?.transaction_id ?? null}::xid8, c.from_transaction_id),
               from_position = coalesce(${last?.position ?? null}::bigint, c.from_position),
               events = greatest(c.events - ${done.length}::int, 0),
               expires_at = greatest(clock_timestamp(), to_timestamp(${retryAt / 1000}::float8))
         WHERE c.id = ${batch.claimId} AND c.owner = ${owner}
      ), log AS (${log}) SELECT set_config('synchronous_commit', 'off', true)`.execute(db);
  }

  /** Handles one batch in order. Returns false when stopped part-way (the caller gives the rest back). */
  async function handleBatch(batch: Batch): Promise<boolean> {
    const state = { batch, done: [] as Done[], retryAt: 0 };
    current = state;
    const prior = batch.redelivery ? await history(batch.rows) : undefined;
    for (const row of batch.rows) {
      const h = prior?.get(row.event_id);
      if (h?.done) {
        state.done.push({ row, successAttempt: undefined });
        continue;
      }
      const event: RecordedEvent = toRecorded(row);
      for (let attempt = (h?.failed ?? 0) + 1; ; attempt++) {
        if (stopping) return false;
        try {
          await handler(event, { subscription: name, attempt });
          if (abandoned) return false;
          state.done.push({ row, successAttempt: attempt });
          break;
        } catch (err) {
          if (abandoned) return false;
          const reason = err instanceof Error ? err.message : String(err);
          if (attempt >= maxDeliver) {
            await logFailure(row, attempt, reason, 'dead');
            state.done.push({ row, successAttempt: undefined });
            break;
          }
          await logFailure(row, attempt, reason, 'failed');
          const delay = backoff(attempt);
          state.retryAt = Date.now() + delay;
          // Sleep the backoff; close() wakes us and we give the batch back with retryAt kept.
          const until = state.retryAt;
          while (!stopping && Date.now() < until) await waker.wait(until - Date.now());
          if (stopping) return false;
          state.retryAt = 0;
        }
      }
    }
    return true;
  }

  async function loop(): Promise<void> {
    let acking: Promise<void> | undefined;
    let idleDelay = PENDING_RETRY_MS;
    let lastHandleMs = 0;
    while (!stopping) {
      let range: ClaimInfo;
      const prefetched = aheadBatch;
      aheadBatch = undefined;
      try {
        range = await (ahead ?? claimRange());
      } catch {
        ahead = undefined;
        await acking;
        acking = undefined;
        if (!stopping) await waker.wait(deps.pollIntervalMs);
        continue;
      }
      ahead = undefined;
      if (range.claim_id === null) {
        await acking;
        acking = undefined;
        if (stopping) break;
        if (range.pending) {
          await waker.wait(idleDelay);
          idleDelay = Math.min(idleDelay * 2, deps.pollIntervalMs);
        } else {
          idleDelay = PENDING_RETRY_MS;
          await waker.wait(deps.pollIntervalMs);
        }
        continue;
      }
      idleDelay = PENDING_RETRY_MS;
      // Catching up (a full batch, handled well within ack wait): claim the next range while this one
      // is read and handled, which takes the claim's round trip off the critical path. A live
      // subscription (partial batches) or a slow handler never holds a second claim idle.
      if (range.events >= batchSize && lastHandleMs < ackWaitMs / 4) {
        ahead = claimRange();
        ahead.catch(() => {}); // awaited (and its error handled) on the next round; not an unhandled rejection meanwhile
        // Read its rows too: with a fast handler the read was the one round trip left on the critical path.
        aheadBatch = ahead.then((next) => (next.claim_id === null ? undefined : fetchBatch(next)));
        aheadBatch.catch(() => {});
      }
      let batch: Batch;
      try {
        batch = (await prefetched) ?? (await fetchBatch(range));
      } catch {
        continue; // server gone: the claim expires and is redelivered
      }
      const handleStarted = Date.now();
      let complete: boolean;
      try {
        complete = await handleBatch(batch);
      } catch {
        complete = false; // a failure log could not be written (server gone): the claim expires and is redelivered
      }
      lastHandleMs = Date.now() - handleStarted;
      // The previous batch's acknowledgement ran while this batch was claimed, read and handled (other
      // connections): with a fast handler the server's statements overlap instead of queueing.
      await acking;
      acking = undefined;
      const state = current!;
      current = undefined;
      if (abandoned) break;
      if (!complete) {
        await settle(batch, state.done, false, state.retryAt).catch(() => {});
        break;
      }
      acking = settle(batch, state.done, true, 0).catch(() => {
        // Not acknowledged (server gone): the claim expires after ack wait and the range is redelivered.
      });
    }
    await acking;
    await giveBackAhead();
  }

  async function giveBackAhead(): Promise<void> {
    const pending = ahead;
    ahead = undefined;
    await aheadBatch?.catch(() => undefined);
    aheadBatch = undefined;
    const range = await pending?.catch(() => undefined);
    if (range && range.claim_id !== null) await release(range).catch(() => {});
  }

  const running = loop();
  let closing: Promise<void> | undefined;

  const subscription: Subscription = {
    name,
    async lag(): Promise<number> {
      try {
        const { rows } = await sql<{ n: number }>`
          SELECT (SELECT count(*) FROM ${s}.events e, ${s}.subscriptions sub
                   WHERE sub.name = ${name}
                     AND (e.transaction_id, e.position) > (sub.transaction_id, sub.position)
                     AND (sub.category IS NULL OR e.category = sub.category))
               + (SELECT coalesce(sum(c.events), 0) FROM ${s}.subscription_claims c WHERE c.subscription = ${name}) AS n`.execute(db);
        return Number(rows[0]!.n);
      } catch (err) {
        throw translateError(err, `lag of ${name}`);
      }
    },
    close(): Promise<void> {
      closing ??= (async () => {
        stopping = true;
        unlisten();
        waker.wake();
        let timer: NodeJS.Timeout | undefined;
        const finished = await Promise.race([
          running.then(() => true),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(false), closeTimeoutMs);
          }),
        ]);
        clearTimeout(timer);
        if (finished) return;
        // A handler is still running: leave it, acknowledge what finished before it, give the rest back.
        abandoned = true;
        const state = current;
        if (state) await settle(state.batch, state.done, false, state.retryAt).catch(() => {});
        await giveBackAhead();
      })().finally(() => deps.onClose?.(subscription));
      return closing;
    },
    [Symbol.asyncDispose]() {
      return subscription.close();
    },
  };
  return subscription;
}
