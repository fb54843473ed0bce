/**
 * The one ordered-consumer read of the adapter. A cursor is a read position in one JetStream stream:
 * `readStream` and dead-letter reads use one for a single read (`readOnce`); `readAll` keeps one between
 * calls (reads.ts), so paging through a category (`fromPosition` = the last position of the previous
 * page) continues on the same ordered consumer instead of creating one per page. Creating an ordered
 * consumer costs a consumer-create round trip and a fresh pull (measured at 15-450 ms per page on the
 * loaded test machine, against ~0.5 s to read the whole 10,000-event page), so a paged replay with one
 * consumer per page ran at half the rate of a raw ordered consumer (bench/jetstream-append.ts).
 */
import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg, type MsgRequest } from '@nats-io/jetstream';
import { StoreUnavailableError } from '../../core/event-store.ts';
import { JS_ERR, apiCode, translateReadError } from './errors.ts';

/** What a cursor reads with: the client for its ordered consumer, the manager to ask the stream leader. */
export interface CursorClients {
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/**
 * Messages an ordered consumer pulls ahead of the reader, whatever the page size. Pulled but unread
 * messages sit in the client (with the socket chunks they point into) and survive young-generation GCs,
 * so a deep read-ahead makes every scavenge dearer exactly when the reader falls behind. Replaying 100,000
 * 1 KB events in pages of 10,000 (bench/jetstream-append.ts): 0.80-0.91x a raw ordered consumer with a
 * 10,000 read-ahead, 0.91-1.0x with 500-2,000.
 */
export const READ_AHEAD = 1000;

export interface Cursor {
  /** Stream sequence of the next message this cursor will deliver (at least). */
  nextSeq: number;
  /** Lent to a read (reads.ts keeps at most one reader on a cursor). */
  busy: boolean;
  /** Ended (nothing more will come, or it failed): never reused. */
  dead: boolean;
  /**
   * Delivers messages to `onMsg` until it returns false, or the message at `stopSeq` (it existed when the
   * caller asked the stream leader) is delivered, or the stream leader holds nothing more on the filter up
   * to `stopSeq` (removed by limits meanwhile). Never a silent short read: when the consumer delivers nothing
   * for `idleMs` (also: its server went away) while the leader still holds a message up to `stopSeq`, the
   * read throws `StoreUnavailableError` and the cursor is dead.
   */
  read(stopSeq: number, idleMs: number, onMsg: (m: JsMsg) => boolean): Promise<void>;
  /** Closes the cursor after `ms` unused (unref'd: an idle cursor never keeps a process alive). */
  expireIn(ms: number, onExpire: () => void): void;
  close(): Promise<void>;
}

/**
 * The sequence of the first message on `filter` at or after `fromSeq` in `jsStream`, as the stream leader
 * has it (`STREAM.MSG.GET` with `next_by_subj`, nats-server 2.9+; in a cluster only the leader answers it,
 * unlike direct gets), or undefined when there is none.
 */
export async function leaderNextSeq(jsm: JetStreamManager, jsStream: string, filter: string, fromSeq: number): Promise<number | undefined> {
  // nats.js types `next_by_subj` for direct gets only; the leader's STREAM.MSG.GET takes it too (2.9+,
  // test/topology/lagging-replica.int.test.ts).
  const msg = await jsm.streams.getMessage(jsStream, { seq: fromSeq, next_by_subj: filter } as MsgRequest);
  return msg?.seq;
}

/**
 * An ordered consumer on `filter` in `jsStream` from `startSeq`, pulling at most `buffer` (capped by READ_AHEAD) ahead.
 *
 * Why a read asks the stream leader before it ends early: nats-server 2.9 places an ordered (ephemeral,
 * R1) consumer of a replicated stream on a random replica, which serves it from its own store; a
 * follower may store a message after the leader has acknowledged it to the publisher (a majority is
 * enough), and a restarted node catching up may trail for longer. Such a consumer reports `pending: 0` at
 * the follower's last message while the leader already holds (and acknowledged) more: stopping there lost
 * the last acknowledged appends of a readAll after a leader kill (docs/topologies.md,
 * test/topology/lagging-replica.int.test.ts).
 */
export async function openCursor(clients: CursorClients, jsStream: string, filter: string, startSeq: number, buffer: number): Promise<Cursor> {
  const { js, jsm } = clients;
  const consumer = await js.consumers.get(jsStream, {
    filter_subjects: filter,
    ...(startSeq > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq } : { deliver_policy: DeliverPolicy.All }),
  });
  const messages: ConsumerMessages = await consumer.consume({ max_messages: Math.max(1, Math.min(buffer, READ_AHEAD)) });
  // Iterated by hand: a `for await ... break` would close the consumer at the end of every page.
  const it: AsyncIterator<JsMsg> = messages[Symbol.asyncIterator]();
  let expiry: NodeJS.Timeout | undefined;
  /** Whether a read has pulled on the iterator (a generator never started skips its cleanup on return()). */
  let started = false;
  /** The highest sequence the stream leader said it holds on `filter` (no need to ask again below it). */
  let leaderHas = 0;
  /** Whether the leader holds a message on `filter` from `fromSeq` up to `stopSeq` (`fresh`: ask, whatever it said before). */
  const leaderHolds = async (fromSeq: number, stopSeq: number, fresh: boolean) => {
    if (!fresh && leaderHas >= fromSeq && leaderHas <= stopSeq) return true;
    const next = await leaderNextSeq(jsm, jsStream, filter, fromSeq);
    if (next === undefined || next > stopSeq) return false;
    leaderHas = next;
    return true;
  };

  const cursor: Cursor = {
    nextSeq: startSeq,
    busy: false,
    dead: false,

    async read(stopSeq, idleMs, onMsg) {
      let seen = 0;
      let seenAtLastTick = -1;
      // One interval and a counter, not a timer re-armed per message (that cost a third of the replay rate).
      const guard = setInterval(() => {
        if (seen === seenAtLastTick) void messages.stop();
        seenAtLastTick = seen;
      }, idleMs);
      started = true;
      try {
        for (;;) {
          const r = await it.next();
          if (r.done) {
            // Stopped by the idle guard (or the consumer ended): fine only if nothing is missing.
            cursor.dead = true;
            if (cursor.nextSeq <= stopSeq && (await leaderHolds(cursor.nextSeq, stopSeq, true))) {
              throw new StoreUnavailableError(
                `read of ${jsStream} (${filter}) stopped at sequence ${cursor.nextSeq - 1}: the replica serving it delivered nothing for ${idleMs} ms ` +
                  `while the stream leader holds messages up to ${stopSeq} (a lagging or lost replica): nothing returned, read again`,
              );
            }
            return;
          }
          const m = r.value;
          seen++;
          cursor.nextSeq = m.seq + 1;
          if (!onMsg(m) || m.seq >= stopSeq) return;
          // `pending` counts what the consumer's replica holds, which may lag the leader: ask the leader.
          if (m.info.pending === 0 && !(await leaderHolds(cursor.nextSeq, stopSeq, false))) return;
        }
      } catch (err) {
        cursor.dead = true;
        throw err;
      } finally {
        clearInterval(guard);
      }
    },

    expireIn(ms, onExpire) {
      clearTimeout(expiry);
      expiry = setTimeout(onExpire, ms);
      expiry.unref();
    },

    async close() {
      clearTimeout(expiry);
      cursor.dead = true;
      // close() alone waits for the iterator to observe the stop, which a paused cursor never does:
      // stop it, finish the generator ourselves, then close.
      void messages.stop();
      // Never read: let the generator start and see the stop, or close() would wait for it forever.
      if (!started) await it.next().catch(() => {});
      await it.return?.(undefined).catch(() => {});
      await messages.close().catch(() => {});
    },
  };
  return cursor;
}

/**
 * One read with a cursor of its own, closed afterwards: `filter` in `jsStream` from `startSeq` until the
 * message at `stopSeq` (known to exist when the read started), nothing more up to it on the stream leader,
 * or `onMsg` says stop (`Cursor.read`). A stream that does not exist (any more) reads as nothing.
 */
export async function readOnce(
  clients: CursorClients,
  where: { jsStream: string; filter: string },
  range: { startSeq: number; stopSeq: number; buffer: number; idleMs: number },
  onMsg: (m: JsMsg) => boolean,
): Promise<void> {
  let cursor: Cursor | undefined;
  try {
    cursor = await openCursor(clients, where.jsStream, where.filter, range.startSeq, range.buffer);
    await cursor.read(range.stopSeq, range.idleMs, onMsg);
  } catch (err) {
    if (apiCode(err) === JS_ERR.streamNotFound) return;
    throw translateReadError(err);
  } finally {
    await cursor?.close();
  }
}
