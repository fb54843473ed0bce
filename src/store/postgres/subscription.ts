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
 * (from, to] of safe events into pages of up to `batchSize`, records it as a claim with an expiry (ack
 * wait) and moves the frontier. Only claiming is serialised; consumers process their ranges in parallel.
 * A range is stable (all its events committed before it was cut), so an expired claim (consumer died, or
 * gave it back on close) is handed out again as it is. Under competing consumers a stream's events may be
 * handled out of order (capability orderedCompetingConsumers = false); one consumer handles its pages in
 * order. A live subscription claims one page at a time; one catching up claims CLAIM_PAGES pages at once.
 *
 * Acknowledgement: after a page the consumer moves its claim's start past the page (or deletes the claim
 * after its last page) and logs the page's successes in event_log, in ONE statement, so "acknowledged"
 * and "logged as success" commit together: a consumer killed mid-page leaves its claim to expire and no
 * success logged, the next consumer redelivers the rest of the range. Successes are logged as one range
 * per acknowledgement (sql/002: event_log is a view over event_log_ranges and the per-event failure
 * entries), not as a row per event: sending and inserting 1000 success rows per page cost the server
 * more than reading the page. The statement counts only under the claim's current lease (sql/002): a
 * consumer too slow for ack wait, whose range was handed out again, writes nothing, so event_log holds
 * one success per event, and a redelivered range never holds an event already logged as success. Handler
 * side effects outside this database are at-least-once (they may run again after a crash).
 *
 * Catching up (full pages, a fast handler), READ_AHEAD more pages are claimed (claims one after another,
 * so ranges stay in order) and read (one after another, on the subscription's own connection) while one
 * is handled, and acknowledgements run while the next pages are handled (the pages of one claim that are
 * waiting go in one statement).
 *
 * Failures: each failed delivery writes a `failed` row at once (so delivery counts survive a crash); the
 * consumer retries after backoffMs[attempt-1] (last value repeats) in order; at maxDeliver the event goes
 * to dead_letters with a `dead` row and the batch moves on.
 */
import { randomUUID } from 'node:crypto';
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
import { toRecorded, translateError, type EventRow } from './connection.ts';
import { Waker, type ChangeFeed } from './notify.ts';
import type { Database, SubscriptionClaimsTable } from './schema.ts';
import { subscriptionStatements } from './subscription-statements.ts';

export interface SubscriptionDeps {
  db: Kysely<Database>;
  /** The pool under `db`: the per-batch statements run on it as named prepared statements. */
  pool: pg.Pool;
  schema: string;
  feed: ChangeFeed;
  /** Polling fallback when no notification comes (default 1000 ms). */
  pollIntervalMs: number;
  /** A pool of one connection for the subscription's reads (see readPool in startSubscription). */
  openReadPool: () => pg.Pool;
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
  /** The claim's last page: its acknowledgement deletes the claim; earlier pages' move its start. */
  last: boolean;
  /** Where the page starts (exclusive) in (transaction_id, position) order: the acknowledgement logs (start, last done row]. */
  startTransactionId: string;
  startPosition: number;
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
  /** The range cut into pages: page k is (end k-1, end k], page 1 starts at `from`. NULL with claim_id. */
  page_end_transaction_ids: string[] | null;
  page_end_positions: number[] | null;
  page_events: number[] | null;
};

/** The next page to read: page `index` of `claim` (an empty claim: nothing to read). */
interface PageRef {
  claim: ClaimInfo | undefined;
  index: number;
}

/**
 * How far a batch got, and all its acknowledgement needs: its first `done` rows need no more work. Kept
 * apart from the rows, which are dropped one by one as they are handled.
 */
interface Progress {
  claimId: number;
  lease: number;
  /** The page is its claim's last, and where it starts (see Batch). */
  last: boolean;
  startTransactionId: string;
  startPosition: number;
  done: number;
  /** The last done row's (transaction_id, position): a partial batch is given back from there (null: none done). */
  lastTransactionId: string | null;
  lastPosition: number | null;
  /**
   * What the logged range (start, last done] says besides "handled with success after one delivery"
   * (sql/002, event_log_ranges): events that needed more deliveries, and events done before (dead
   * letters), which have their own entry.
   */
  retriedPositions: number[];
  retriedAttempts: number[];
  skippedPositions: number[];
  /** When the first undone row may be retried (0: now). */
  retryAt: number;
}

/** Pages claimed and queued for reading while one is handled, when catching up (300k-event catch-up, quiet machine, reads on their own connection: 1 ahead 224k-228k events/s, 2 ahead 238k-254k). */
const READ_AHEAD = 2;

/** Handled pages waiting for their acknowledgement before the loop waits for it. */
const MAX_UNACKED_PAGES = 4;

/** Consecutive handled pages of one claim as one acknowledgement. */
function mergeProgress(pages: Progress[]): Progress {
  const first = pages[0]!;
  const last = pages[pages.length - 1]!;
  return {
    ...last,
    startTransactionId: first.startTransactionId,
    startPosition: first.startPosition,
    done: pages.reduce((n, p) => n + p.done, 0),
    retriedPositions: pages.flatMap((p) => p.retriedPositions),
    retriedAttempts: pages.flatMap((p) => p.retriedAttempts),
    skippedPositions: pages.flatMap((p) => p.skippedPositions),
  };
}

/**
 * Pages per claim when catching up: the claim's fixed server cost (~0.4 ms) is paid once per this many
 * pages. 1M-event catch-up vs the raw loop, quiet machine: 4 pages 0.77x and 0.81x (two runs), 8 pages
 * 0.82x-0.85x (three runs), 16 pages 0.87x (one run).
 */
const CLAIM_PAGES = 8;

/** First retry after an empty claim that saw committed-but-not-yet-safe rows (an older transaction still running). */
const PENDING_RETRY_MS = 10;

export async function startSubscription(
  deps: SubscriptionDeps,
  name: string,
  handler: EventHandler,
  options: SubscriptionOptions = {},
): Promise<Subscription> {
  const { category, maxDeliver, backoffMs, ackWaitMs, batchSize, closeTimeoutMs, deadLetter, concurrency } = resolveSubscriptionOptions(name, options);
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
  /** Handled pages waiting for their acknowledgement, in order. */
  const unacked: Progress[] = [];
  /** Sends the acknowledgements of `unacked` until none is left (one statement at a time: a claim's pages are acknowledged in order). */
  let acking: Promise<void> | undefined;
  /** Claims whose acknowledgement failed: their later pages are not acknowledged (they are redelivered with the range). */
  /**
   * Keyed by claim AND lease: the same claim handed out again (a new lease, maybe to this very subscriber)
   * is acknowledgeable. Keyed by claim id alone, a subscriber whose acknowledgement failed once (a
   * connection cut in a chaos run) skipped every later acknowledgement of that range when it got it back:
   * the range was handled and redelivered every ack wait, forever, and never counted as done (the
   * observation "positions 152-167 acknowledged but not delivered within a 20 s drain": 16 positions,
   * the chaos consumer's batch size).
   */
  const unacknowledgeable = new Set<string>();
  const leaseKey = (claimId: number, lease: number): string => `${claimId}:${lease}`;
  /** Set when close() gave up waiting: the loop must not write anything any more. */
  let abandoned = false;
  let current: Progress | undefined;
  /** Pages claimed (in order) and being read, next first; while catching up, READ_AHEAD of them wait while one is handled. */
  const ahead: Promise<Claimed>[] = [];
  /** The newest page queued: the next one is the page after it, or the first of a new claim issued after it. */
  let cursor: Promise<PageRef> = Promise.resolve({ claim: undefined, index: 0 });
  /**
   * Pages are read on a connection of their own, one after another (pg queues them), as the raw loop
   * reads: two reads in parallel on the store's pool (two server processes plus the client on 2 cores)
   * kept the cores 1.5 busy instead of 1.75 and the catch-up 10 % slower; reads queued one at a time on
   * the shared pool (each on whichever connection was free) were no better (300k events, measured).
   * Opened at the first read, ended by close().
   */
  let readPool: pg.Pool | undefined;
  /** Set by close(): an abandoned loop must not open the read pool again. */
  let readsEnded = false;
  /** Catching up (full batches, handled well within ack wait): claim CLAIM_PAGES pages at a time. */
  let catchingUp = false;

  const backoff = (attempt: number) => backoffMs[Math.min(attempt - 1, backoffMs.length - 1)]!;

  const statements = subscriptionStatements(schema);

  /** Claims the next range (one statement: it holds the subscription row lock until it commits). */
  async function claimRange(): Promise<ClaimInfo> {
    const pages = catchingUp ? CLAIM_PAGES : 1;
    const claimed = await deps.pool.query<ClaimInfo>(
      statements.claim.query({ subscription: name, owner, batchSize, pages, ackWaitSeconds: Math.ceil(ackWaitMs) }),
    );
    return claimed.rows[0]!;
  }

  /** Reads one page of a claimed range (a separate statement: competing consumers must not wait for each other's reads). */
  async function readPage({ claim, index }: PageRef): Promise<Claimed> {
    if (claim?.claim_id == null) return { batch: undefined, pending: claim?.pending ?? false };
    const ends = claim.page_end_transaction_ids!;
    const positions = claim.page_end_positions!;
    const fromTransactionId = index === 0 ? claim.from_transaction_id : ends[index - 1];
    const fromPosition = index === 0 ? claim.from_position : positions[index - 1];
    if (readsEnded) throw new Error(`subscription ${name} is closed`);
    readPool ??= deps.openReadPool();
    const { rows } = await readPool.query<ClaimRow>(
      statements.read.query({
        fromTransactionId,
        fromPosition,
        toTransactionId: ends[index],
        toPosition: positions[index],
        category: claim.category,
        limit: claim.page_events![index],
      }),
    );
    return {
      batch: {
        claimId: claim.claim_id,
        lease: claim.lease!,
        redelivery: claim.redelivery,
        rows,
        last: index === ends.length - 1,
        startTransactionId: fromTransactionId!,
        startPosition: Number(fromPosition),
      },
    };
  }

  /**
   * Queues the next page: the next of the current claim, or the first of a new claim that waits for the
   * previous one (so ranges come in order). Its read starts when the previous read is done (see readPool).
   */
  function readAhead(): void {
    const next = cursor.then(async ({ claim, index }): Promise<PageRef> => {
      if (claim?.claim_id != null && index + 1 < claim.page_events!.length) return { claim, index: index + 1 };
      return { claim: await claimRange(), index: 0 };
    });
    cursor = next.catch(() => ({ claim: undefined, index: 0 }));
    const claimed = next.then(readPage);
    claimed.catch(() => {}); // awaited (and its error handled) in turn; not an unhandled rejection meanwhile
    ahead.push(claimed);
  }

  /** Gives an unstarted claim back at once (instead of letting it expire after ack wait). */
  async function release(claimId: number, lease: number): Promise<void> {
    await sql`UPDATE ${s}.subscription_claims SET expires_at = clock_timestamp() WHERE id = ${claimId} AND lease = ${lease}`.execute(db);
  }

  /**
   * For a redelivered range: deliveries so far, and which events are already done (dead-lettered). No
   * event in it was logged as success: that happens only with the acknowledgement that removes it from
   * the claim.
   */
  async function history(rows: ClaimRow[]): Promise<Map<string, { failed: number; done: boolean }>> {
    const { rows: result } = await sql<{ event_id: string; outcome: string; n: number }>`
      SELECT event_id, outcome, count(*)::int AS n FROM ${s}.event_log_entries
       WHERE subscription = ${name} AND event_id = ANY(${rows.map((r) => r.event_id)}::text[])
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
      await db.withSchema(schema).insertInto('event_log_entries').values(entry).execute();
      return;
    }
    await db.transaction().execute(async (trx) => {
      await trx
        .withSchema(schema)
        .insertInto('dead_letters')
        .values({ subscription: name, event_id: row.event_id, position: row.position, destination: deadLetter, deliveries: attempt, reason })
        .onConflict((oc) => oc.columns(['subscription', 'event_id']).doNothing())
        .execute();
      await trx.withSchema(schema).insertInto('event_log_entries').values(entry).execute();
    });
  }

  /**
   * Acknowledges a page (or consecutive pages of one claim): deletes the claim after its last page, or
   * moves its start past the page and renews its expiry. Or, when the page was not finished, acknowledges
   * its done prefix and gives the rest of the range back: its start moves past the done prefix and it
   * expires at `retryAt` (now, or when a pending retry is due), so the next consumer of this name picks it
   * up. One statement, one commit, and
   * only under the lease the batch was claimed with: if the range was handed out again meanwhile, nothing
   * is written and its new holder logs it. The successes travel as a range plus the exceptions (events
   * delivered more than once, dead letters). Asynchronous commit (as for claims, see sql/002): an
   * acknowledgement lost in a server crash takes its logged range with it (same transaction), so the
   * range is redelivered and logged once; at-least-once and "one success per event" both hold, and a
   * page does not wait for a WAL flush.
   */
  async function settle(ack: Progress, complete: boolean): Promise<void> {
    // An earlier page of this claim could not be acknowledged: moving the claim's start now would skip it.
    if (!complete && unacknowledgeable.has(leaseKey(ack.claimId, ack.lease))) return;
    // The logged range ends at the last done row (a complete page: its end, the same row).
    const list = (numbers: number[]) => `{${numbers.join(',')}}`;
    const logged = {
      claimId: ack.claimId,
      lease: ack.lease,
      subscription: name,
      fromTransactionId: ack.startTransactionId,
      fromPosition: ack.startPosition,
      toTransactionId: ack.lastTransactionId,
      toPosition: ack.lastPosition,
      retriedPositions: list(ack.retriedPositions),
      retriedAttempts: list(ack.retriedAttempts),
      skippedPositions: list(ack.skippedPositions),
      category,
    };
    if (complete && ack.last) {
      await deps.pool.query(statements.ack.query(logged));
    } else if (complete) {
      await deps.pool.query(statements.moveStart.query({ ...logged, renewSeconds: ackWaitMs / 1000, done: ack.done, retryAtSeconds: 0 }));
    } else {
      await deps.pool.query(statements.moveStart.query({ ...logged, renewSeconds: 0, done: ack.done, retryAtSeconds: ack.retryAt / 1000 }));
    }
  }

  /**
   * Handles one batch in order. Returns false when stopped part-way (the caller gives the rest back).
   * Each row is dropped from the batch once it is done: with the next batch read ahead, a whole handled
   * batch kept alive across young-generation collections doubled the client's GC time (measured).
   */
  async function handleBatch(batch: Batch): Promise<boolean> {
    const progress: Progress = {
      claimId: batch.claimId,
      lease: batch.lease,
      last: batch.last,
      startTransactionId: batch.startTransactionId,
      startPosition: batch.startPosition,
      done: 0,
      lastTransactionId: null,
      lastPosition: null,
      retriedPositions: [],
      retriedAttempts: [],
      skippedPositions: [],
      retryAt: 0,
    };
    current = progress;
    /** `attempt` of the success, or undefined: logged already (dead letter, or before). */
    const markDone = (row: ClaimRow, attempt?: number) => {
      if (attempt === undefined) {
        progress.skippedPositions.push(row.position);
      } else if (attempt > 1) {
        progress.retriedPositions.push(row.position);
        progress.retriedAttempts.push(attempt);
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
          // A synchronous handler's result is not awaited: a microtask per event is measurable at 200k events/s.
          const handled = handler(event, { subscription: name, attempt });
          if (handled !== undefined) await handled;
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

  /** Resolves when close() begins: a lane sleeping a backoff wakes up (the Waker takes one sleeper only). */
  let stopSignal: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stopSignal = resolve));

  /**
   * Handles one batch with `concurrency` > 1: the rows are split into lanes by stream (each lane one
   * stream's rows, in order), and up to `concurrency` lanes run at once. The progress is the prefix of rows
   * done, kept current as rows finish, so a give-back (stop, close, server gone) returns exactly the rows
   * after it: rows done beyond the prefix are redelivered (at-least-once), never logged twice. Measured
   * on the case processors (1,000 cases, 2 instances): one handler at a time held each subscriber to one
   * fsynced append (~4 ms) per event; lanes share commits (group commit) and round trips.
   */
  async function handleBatchConcurrently(batch: Batch): Promise<boolean> {
    const progress: Progress = {
      claimId: batch.claimId,
      lease: batch.lease,
      last: batch.last,
      startTransactionId: batch.startTransactionId,
      startPosition: batch.startPosition,
      done: 0,
      lastTransactionId: null,
      lastPosition: null,
      retriedPositions: [],
      retriedAttempts: [],
      skippedPositions: [],
      retryAt: 0,
    };
    current = progress;
    const rows = batch.rows;
    /** Per row: the attempt that succeeded, 0 = done without a success to log (dead letter, or before), -1 = not done. */
    const outcome = new Array<number>(rows.length).fill(-1);
    /** Per row: when its pending retry is due (0: none). */
    const retryAt = new Array<number>(rows.length).fill(0);
    let prefix = 0;
    const advance = (): void => {
      for (; prefix < rows.length && outcome[prefix]! >= 0; prefix++) {
        const row = rows[prefix]!;
        const attempt = outcome[prefix]!;
        if (attempt === 0) progress.skippedPositions.push(row.position);
        else if (attempt > 1) {
          progress.retriedPositions.push(row.position);
          progress.retriedAttempts.push(attempt);
        }
        progress.lastTransactionId = row.transaction_id;
        progress.lastPosition = row.position;
        progress.done++;
      }
      progress.retryAt = prefix < rows.length ? retryAt[prefix]! : 0;
    };
    const prior = batch.redelivery ? await history(rows) : undefined;

    /** Handles row i to its end (success or dead letter); false when stopped first. */
    const handleRow = async (i: number): Promise<boolean> => {
      const row = rows[i]!;
      const h = prior?.get(row.event_id);
      if (h?.done) {
        outcome[i] = 0;
        return true;
      }
      const event: RecordedEvent = toRecorded(row);
      for (let attempt = (h?.failed ?? 0) + 1; ; attempt++) {
        if (stopping) return false;
        try {
          await handler(event, { subscription: name, attempt });
          if (abandoned) return false;
          outcome[i] = attempt;
          return true;
        } catch (err) {
          if (abandoned) return false;
          const reason = err instanceof Error ? err.message : String(err);
          if (attempt >= maxDeliver) {
            await logFailure(row, attempt, reason, 'dead');
            outcome[i] = 0;
            return true;
          }
          await logFailure(row, attempt, reason, 'failed');
          retryAt[i] = Date.now() + backoff(attempt);
          if (i === prefix) progress.retryAt = retryAt[i]!;
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([stopped, new Promise<void>((resolve) => (timer = setTimeout(resolve, retryAt[i]! - Date.now())))]);
          clearTimeout(timer);
          if (stopping) return false;
          retryAt[i] = 0;
        }
      }
    };

    const lanes = new Map<string, number[]>();
    for (let i = 0; i < rows.length; i++) {
      const lane = lanes.get(rows[i]!.stream_id);
      if (lane) lane.push(i);
      else lanes.set(rows[i]!.stream_id, [i]);
    }
    const queue = [...lanes.values()];
    let complete = true;
    const worker = async (): Promise<void> => {
      for (let lane = queue.shift(); lane && complete; lane = queue.shift()) {
        for (const i of lane) {
          if (!(await handleRow(i))) {
            complete = false;
            return;
          }
          advance();
        }
      }
    };
    const settled = await Promise.allSettled(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    advance();
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason; // a failure could not be logged: the caller gives back from the prefix
    return complete && prefix === rows.length;
  }

  /**
   * Acknowledges the handled pages, while the next ones are handled: every page of one claim waiting at
   * the time in one statement. Acknowledging page by page, each waiting for the one before, held the
   * catch-up loop up most of the time (1.0-1.2 s of 1.8 s, measured), and one statement per page costs the
   * server more than one per several.
   */
  async function acknowledge(): Promise<void> {
    while (unacked.length > 0) {
      const first = unacked[0]!;
      let n = 1;
      while (n < unacked.length && unacked[n]!.claimId === first.claimId && unacked[n]!.lease === first.lease) n++;
      const group = unacked.splice(0, n);
      if (unacknowledgeable.has(leaseKey(first.claimId, first.lease))) continue;
      const merged = group.length === 1 ? first : mergeProgress(group);
      await settle(merged, true).catch(() => {
        // Not acknowledged (server gone): the claim expires after ack wait and the range is redelivered;
        // its later pages must not move its start past this one.
        unacknowledgeable.add(leaseKey(first.claimId, first.lease));
      });
    }
    acking = undefined;
  }

  async function loop(): Promise<void> {
    let idleDelay = PENDING_RETRY_MS;
    let lastHandleMs = 0;
    while (!stopping) {
      let claimed: Claimed;
      try {
        if (ahead.length === 0) readAhead();
        claimed = await ahead.shift()!;
      } catch {
        await acking;
        if (!stopping) await waker.wait(deps.pollIntervalMs);
        continue;
      }
      const { batch } = claimed;
      if (batch === undefined) {
        await acking;
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
      // Catching up (a full batch, handled well within ack wait): claim several pages at once, and claim
      // and read the next pages while this one is handled, which takes those round trips off the critical
      // path. A live subscription (partial batches) or a slow handler never holds claims idle.
      catchingUp = batch.rows.length >= batchSize && lastHandleMs * (READ_AHEAD + CLAIM_PAGES + 1) < ackWaitMs / 2;
      if (catchingUp) {
        while (ahead.length < READ_AHEAD) readAhead();
      }
      const handleStarted = Date.now();
      let outcome: 'complete' | 'stopped' | 'server gone';
      try {
        outcome = (await (concurrency > 1 ? handleBatchConcurrently(batch) : handleBatch(batch))) ? 'complete' : 'stopped';
      } catch {
        outcome = 'server gone'; // a failure could not be logged
      }
      lastHandleMs = Date.now() - handleStarted;
      // The previous batch's acknowledgement ran while this batch was handled (another connection):
      // with a fast handler the server's statements overlap instead of queueing.
      if (outcome !== 'complete') await acking; // a give-back must land after the claim's earlier pages' acknowledgements
      const progress = current!;
      current = undefined;
      if (abandoned) break;
      if (outcome !== 'complete') {
        // Give the rest back (if the server is gone, the claim expires after ack wait instead) and
        // stop, or after a server failure try again: the range is redelivered, its logged failures kept.
        // The pages read ahead go back too: a later page of this claim must not be acknowledged (that
        // would move the claim's start past this page's undone events).
        await settle(progress, false).catch(() => {});
        givenBack.add(progress.claimId);
        if (outcome === 'stopped' || stopping) break;
        await giveBackAhead();
        await waker.wait(deps.pollIntervalMs);
        continue;
      }
      unacked.push(progress);
      acking ??= acknowledge();
      if (unacked.length >= MAX_UNACKED_PAGES) await acking;
    }
    await acking;
    await giveBackAhead();
  }

  /** Claims given back with their progress (and maybe a retry time): not to be released again. */
  const givenBack = new Set<number>();

  /** Gives back the claims of the pages read ahead, and starts the next read from a new claim. */
  async function giveBackAhead(): Promise<void> {
    for (let next = ahead.shift(); next; next = ahead.shift()) {
      const claimed = await next.catch(() => undefined);
      const batch = claimed?.batch;
      if (batch && !givenBack.has(batch.claimId)) {
        givenBack.add(batch.claimId);
        await release(batch.claimId, batch.lease).catch(() => {});
      }
    }
    // A claim whose remaining pages were never queued (the last read was not ahead).
    const { claim, index } = await cursor;
    if (claim?.claim_id != null && index + 1 < claim.page_events!.length && !givenBack.has(claim.claim_id)) {
      await release(claim.claim_id, claim.lease!).catch(() => {});
    }
    givenBack.clear();
    cursor = Promise.resolve({ claim: undefined, index: 0 });
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
        stopSignal();
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
        await acking; // an earlier page of the same claim: its acknowledgement must not land after the give-back
        const progress = current;
        if (progress) {
          await settle(progress, false).catch(() => {});
          givenBack.add(progress.claimId);
        }
        await giveBackAhead();
      })().finally(async () => {
        readsEnded = true;
        await readPool?.end().catch(() => {});
        deps.onClose?.(subscription);
      });
      return closing;
    },
    [Symbol.asyncDispose]() {
      return subscription.close();
    },
  };
  return subscription;
}
