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
 * range. The statement counts only under the claim's current lease (sql/002): a consumer too slow for
 * ack wait, whose range was handed out again, writes nothing, so event_log holds one success row per
 * event, and a redelivered range never holds an event already logged as success. Handler side effects
 * outside this database are at-least-once (they may run again after a crash).
 *
 * Catching up (full batches, a fast handler), READ_AHEAD more batches are claimed (one after another, so
 * ranges stay in order) and read (in parallel) while one is handled, and a batch's acknowledgement runs
 * while the next one is handled.
 *
 * Failures: each failed delivery writes a `failed` row at once (so delivery counts survive a crash); the
 * consumer retries after backoffMs[attempt-1] (last value repeats) in order; at maxDeliver the event goes
 * to dead_letters with a `dead` row and the batch moves on.
 */
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { sql, type Kysely, type Selectable } from 'kysely';
import type pg from 'pg';
import {
  ConfigError,
  type EventHandler,
  type RecordedEvent,
  type Subscription,
  type SubscriptionOptions,
} from '../../core/event-store.ts';
import { resolveSubscriptionOptions } from '../../core/validate.ts';
import { quoteIdent, toRecorded, translateError, type EventRow } from './connection.ts';
import { Waker, type ChangeFeed } from './notify.ts';
import type { Database, SubscriptionClaimsTable } from './schema.ts';

export interface SubscriptionDeps {
  db: Kysely<Database>;
  /** The pool under `db`: the per-batch statements run on it as named prepared statements. */
  pool: pg.Pool;
  schema: string;
  feed: ChangeFeed;
  /** Polling fallback when no notification comes (default 1000 ms). */
  pollIntervalMs: number;
  /** Called once the subscription is closed (the store forgets it). */
  onClose?: (subscription: Subscription) => void;
}

interface ClaimRow extends EventRow {
  transaction_id: string;
}

/**
 * A claimed range and its events, in (transaction_id, position) order. The range is stable (every event
 * in it committed before it was cut), so the rows are all of it.
 */
interface Batch {
  claimId: number;
  lease: number;
  redelivery: boolean;
  rows: ClaimRow[];
}

/** What a claim returns: a batch, or nothing to claim (`pending`: committed rows wait behind an older running transaction). */
type Claimed = { batch: Batch } | { batch: undefined; pending: boolean };

/** What claim_events returns: the claimed range (from, to] in (transaction_id, position) order. */
type ClaimInfo = Pick<
  Selectable<SubscriptionClaimsTable>,
  'from_transaction_id' | 'from_position' | 'to_transaction_id' | 'to_position' | 'events'
> & {
  /** NULL when there was nothing to claim. */
  claim_id: number | null;
  lease: number | null;
  redelivery: boolean;
  /** Nothing claimable yet, but committed rows wait behind an older running transaction. */
  pending: boolean;
  category: string | null;
};

/**
 * How far a batch got, and all its acknowledgement needs: its first `done` rows need no more work. Kept
 * apart from the rows, which are dropped one by one as they are handled.
 */
interface Progress {
  claimId: number;
  lease: number;
  done: number;
  /** The last done row's (transaction_id, position): a partial batch is given back from there (null: none done). */
  lastTransactionId: string | null;
  lastPosition: number | null;
  /** The success rows to log (dead-lettered events and those logged before are not among them). */
  success: { eventIds: string[]; positions: number[]; attempts: number[] };
  /** When the first undone row may be retried (0: now). */
  retryAt: number;
}

/** Batches claimed and read ahead while one is handled, when catching up (300k-event catch-up on a busy machine: 1 ahead 92k-103k events/s, 2 ahead 125k-155k, 3 no better). */
const READ_AHEAD = 2;

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
  let current: Progress | undefined;
  /** Batches claimed (in order) and being read, next first; while catching up, READ_AHEAD of them wait while one is handled. */
  const ahead: Promise<Claimed>[] = [];
  /** The newest claim queued: the next one is issued after it. */
  let lastClaim: Promise<unknown> = Promise.resolve();

  const backoff = (attempt: number) => backoffMs[Math.min(attempt - 1, backoffMs.length - 1)]!;

  /**
   * The per-batch statements (claim, read, acknowledge), as named prepared statements: parsing and
   * planning them for every batch cost ~0.3 ms each, as much as a tenth of the batch's server time. Their
   * generic plans are the custom ones (checked with EXPLAIN): index range scans.
   */
  const q = quoteIdent(schema);
  const prepared = (kind: string, text: string) => ({ name: `eb_sub_${kind}_${createHash('sha1').update(text).digest('hex').slice(0, 12)}`, text });
  const CLAIM = prepared('claim', `SELECT * FROM ${q}.claim_events($1, $2, $3::int, $4::int)`);
  // An ordered range scan of the (transaction_id, position) index; the LIMIT (the claim's event count) is
  // what lets the planner see that: without it, it cannot estimate a range of row comparisons and chose a
  // sequential scan of the table plus a sort (measured at 1M events).
  const READ = prepared(
    'read',
    `SELECT e.position, e.transaction_id, e.stream_id, e.version, e.event_id, e.type, e.data, e.metadata, e."timestamp",
            e.correlation_id, e.causation_id, e.aggregate_id, e.aggregate_type
       FROM ${q}.events e
      WHERE (e.transaction_id, e.position) > ($1::xid8, $2::bigint)
        AND (e.transaction_id, e.position) <= ($3::xid8, $4::bigint)
        AND ($5::text IS NULL OR e.category = $5::text)
      ORDER BY e.transaction_id, e.position
      LIMIT $6::int`,
  );
  // The acknowledgement: the claim is deleted (whole batch done) or given back from its last done row, and
  // the success rows logged, only if the claim is still under the lease the batch was claimed with.
  const LOG_SUCCESS = `INSERT INTO ${q}.event_log (subscription, event_id, position, outcome, attempts)
            SELECT $3, u.event_id, u.position, 'success', u.attempts
              FROM unnest($4::text[], $5::bigint[], $6::int[]) AS u(event_id, position, attempts)
             WHERE EXISTS (SELECT 1 FROM settled)`;
  const ACK = prepared(
    'ack',
    `WITH settled AS (DELETE FROM ${q}.subscription_claims WHERE id = $1 AND lease = $2 RETURNING id),
          log AS (${LOG_SUCCESS})
     SELECT set_config('synchronous_commit', 'off', true)`,
  );
  const GIVE_BACK = prepared(
    'give_back',
    `WITH settled AS (
            UPDATE ${q}.subscription_claims c
               SET from_transaction_id = coalesce($7::xid8, c.from_transaction_id),
                   from_position = coalesce($8::bigint, c.from_position),
                   events = greatest(c.events - $9::int, 0),
                   expires_at = greatest(clock_timestamp(), to_timestamp($10::float8))
             WHERE c.id = $1 AND c.lease = $2
            RETURNING c.id),
          log AS (${LOG_SUCCESS})
     SELECT set_config('synchronous_commit', 'off', true)`,
  );

  /** Claims the next range (one statement: it holds the subscription row lock until it commits). */
  async function claimRange(): Promise<ClaimInfo> {
    const claimed = await deps.pool.query<ClaimInfo>({ ...CLAIM, values: [name, owner, batchSize, Math.ceil(ackWaitMs)] });
    return claimed.rows[0]!;
  }

  /** Reads a claimed range's events (a separate statement: competing consumers must not wait for each other's reads). */
  async function readRange(range: ClaimInfo): Promise<Claimed> {
    if (range.claim_id === null) return { batch: undefined, pending: range.pending };
    const { rows } = await deps.pool.query<ClaimRow>({
      ...READ,
      values: [range.from_transaction_id, range.from_position, range.to_transaction_id, range.to_position, range.category, range.events],
    });
    return { batch: { claimId: range.claim_id, lease: range.lease!, redelivery: range.redelivery, rows } };
  }

  /**
   * Queues the next batch: its claim waits for the previous claim (so ranges come in order), its read
   * does not (reads of queued batches run in parallel, on other connections).
   */
  function claimAhead(): void {
    const range = lastClaim.then(claimRange);
    lastClaim = range.catch(() => {});
    const claimed = range.then(readRange);
    claimed.catch(() => {}); // awaited (and its error handled) in turn; not an unhandled rejection meanwhile
    ahead.push(claimed);
  }

  /** Gives an unstarted claim back at once (instead of letting it expire after ack wait). */
  async function release(batch: Batch): Promise<void> {
    await sql`UPDATE ${s}.subscription_claims SET expires_at = clock_timestamp() WHERE id = ${batch.claimId} AND lease = ${batch.lease}`.execute(db);
  }

  /**
   * For a redelivered range: deliveries so far, and which events are already done (dead-lettered). No
   * event in it was logged as success: that happens only with the acknowledgement that removes it from
   * the claim.
   */
  async function history(rows: ClaimRow[]): Promise<Map<string, { failed: number; done: boolean }>> {
    const { rows: result } = await sql<{ event_id: string; outcome: string; n: number }>`
      SELECT event_id, outcome, count(*)::int AS n FROM ${s}.event_log
       WHERE subscription = ${name} AND outcome <> 'success' AND event_id = ANY(${rows.map((r) => r.event_id)}::text[])
       GROUP BY event_id, outcome`.execute(db);
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
   * Acknowledges the done prefix and either deletes the claim (whole batch done) or gives the rest of
   * the range back: its start moves past the done prefix and it expires at `retryAt` (now, or when a
   * pending retry is due), so the next consumer of this name picks it up. One statement, one commit, and
   * only under the lease the batch was claimed with: if the range was handed out again meanwhile, nothing
   * is written and its new holder logs it. The success rows travel as three arrays (ids, positions,
   * attempts): building them from the events table instead cost the server a second scan of the batch,
   * twice the insert itself (measured). Asynchronous commit (as for claims, see sql/002): an
   * acknowledgement lost in a server crash takes its success rows with it (same transaction), so the
   * range is redelivered and logged once; at-least-once and "one success row per event" both hold, and a
   * batch does not wait for a WAL flush.
   */
  async function settle(ack: Progress, complete: boolean): Promise<void> {
    const { eventIds, positions, attempts } = ack.success;
    // Number arrays as literals built with join: pg's generic array serialiser costs 6x more per element.
    const values: unknown[] = [ack.claimId, ack.lease, name, eventIds, `{${positions.join(',')}}`, `{${attempts.join(',')}}`];
    if (complete) {
      await deps.pool.query({ ...ACK, values });
      return;
    }
    values.push(ack.lastTransactionId, ack.lastPosition, ack.done, ack.retryAt / 1000);
    await deps.pool.query({ ...GIVE_BACK, values });
  }

  /**
   * Handles one batch in order. Returns false when stopped part-way (the caller gives the rest back).
   * Each row is dropped from the batch once it is done: with the next batch read ahead, a whole handled
   * batch kept alive across young-generation collections doubled the client's GC time (measured).
   */
  async function handleBatch(batch: Batch): Promise<boolean> {
    const success: Progress['success'] = { eventIds: [], positions: [], attempts: [] };
    const progress: Progress = { claimId: batch.claimId, lease: batch.lease, done: 0, lastTransactionId: null, lastPosition: null, success, retryAt: 0 };
    current = progress;
    /** `attempt` of the success, or undefined: logged already (dead letter, or before). */
    const markDone = (row: ClaimRow, attempt?: number) => {
      if (attempt !== undefined) {
        success.eventIds.push(row.event_id);
        success.positions.push(row.position);
        success.attempts.push(attempt);
      }
      progress.lastTransactionId = row.transaction_id; // two fields, not an object per event
      progress.lastPosition = row.position;
      progress.done++;
    };
    const prior = batch.redelivery ? await history(batch.rows) : undefined;
    const rows: (ClaimRow | undefined)[] = batch.rows;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      rows[i] = undefined;
      const h = prior?.get(row.event_id);
      if (h?.done) {
        markDone(row);
        continue;
      }
      const event: RecordedEvent = toRecorded(row);
      for (let attempt = (h?.failed ?? 0) + 1; ; attempt++) {
        if (stopping) return false;
        try {
          await handler(event, { subscription: name, attempt });
          if (abandoned) return false;
          markDone(row, attempt);
          break;
        } catch (err) {
          if (abandoned) return false;
          const reason = err instanceof Error ? err.message : String(err);
          if (attempt >= maxDeliver) {
            await logFailure(row, attempt, reason, 'dead');
            markDone(row);
            break;
          }
          await logFailure(row, attempt, reason, 'failed');
          const delay = backoff(attempt);
          progress.retryAt = Date.now() + delay;
          // Sleep the backoff; close() wakes us and we give the batch back with retryAt kept.
          const until = progress.retryAt;
          while (!stopping && Date.now() < until) await waker.wait(until - Date.now());
          if (stopping) return false;
          progress.retryAt = 0;
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
      let claimed: Claimed;
      try {
        if (ahead.length === 0) claimAhead();
        claimed = await ahead.shift()!;
      } catch {
        await acking;
        acking = undefined;
        if (!stopping) await waker.wait(deps.pollIntervalMs);
        continue;
      }
      const { batch } = claimed;
      if (batch === undefined) {
        await acking;
        acking = undefined;
        if (stopping) break;
        if (claimed.pending) {
          await waker.wait(idleDelay);
          idleDelay = Math.min(idleDelay * 2, deps.pollIntervalMs);
        } else {
          idleDelay = PENDING_RETRY_MS;
          await waker.wait(deps.pollIntervalMs);
        }
        continue;
      }
      idleDelay = PENDING_RETRY_MS;
      // Catching up (a full batch, handled well within ack wait): claim and read the next ranges while
      // this one is handled, which takes those round trips off the critical path and lets two reads use
      // two server processes. A live subscription (partial batches) or a slow handler never holds claims
      // idle.
      if (batch.rows.length >= batchSize && lastHandleMs * (READ_AHEAD + 1) < ackWaitMs / 2) {
        while (ahead.length < READ_AHEAD) claimAhead();
      }
      const handleStarted = Date.now();
      let outcome: 'complete' | 'stopped' | 'server gone';
      try {
        outcome = (await handleBatch(batch)) ? 'complete' : 'stopped';
      } catch {
        outcome = 'server gone'; // a failure could not be logged
      }
      lastHandleMs = Date.now() - handleStarted;
      // The previous batch's acknowledgement ran while this batch was handled (another connection):
      // with a fast handler the server's statements overlap instead of queueing.
      await acking;
      acking = undefined;
      const progress = current!;
      current = undefined;
      if (abandoned) break;
      if (outcome !== 'complete') {
        // Give the rest back (if the server is gone, the claim expires after ack wait instead) and
        // stop, or after a server failure try again: the range is redelivered, its logged failures kept.
        await settle(progress, false).catch(() => {});
        if (outcome === 'stopped' || stopping) break;
        await waker.wait(deps.pollIntervalMs);
        continue;
      }
      acking = settle(progress, true).catch(() => {
        // Not acknowledged (server gone): the claim expires after ack wait and the range is redelivered.
      });
    }
    await acking;
    await giveBackAhead();
  }

  async function giveBackAhead(): Promise<void> {
    for (let next = ahead.shift(); next; next = ahead.shift()) {
      const claimed = await next.catch(() => undefined);
      if (claimed?.batch) await release(claimed.batch).catch(() => {});
    }
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
        const progress = current;
        if (progress) await settle(progress, false).catch(() => {});
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
