/**
 * The one ordered-consumer read of the adapter. A cursor is a read position in one JetStream stream:
 * `readStream` and dead-letter reads use one for a single read (`readOnce`); `readAll` keeps one between
 * calls (reads.ts), so paging through a category (`fromPosition` = the last position of the previous
 * page) continues on the same ordered consumer instead of creating one per page. Creating an ordered
 * consumer costs a consumer-create round trip and a fresh pull (measured at 15-450 ms per page on the
 * loaded test machine, against ~0.5 s to read the whole 10,000-event page), so a paged replay with one
 * consumer per page ran at half the rate of a raw ordered consumer (bench/jetstream-append.ts).
 */
import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { JS_ERR, apiCode, translateReadError } from './errors.ts';

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
   * Delivers messages to `onMsg` until it returns false, the message at `stopSeq` (known to exist), or
   * nothing pending. Nothing for `idleMs` (messages removed by limits meanwhile) ends the read and the cursor.
   */
  read(stopSeq: number, idleMs: number, onMsg: (m: JsMsg) => boolean): Promise<void>;
  /** Closes the cursor after `ms` unused (unref'd: an idle cursor never keeps a process alive). */
  expireIn(ms: number, onExpire: () => void): void;
  close(): Promise<void>;
}

/** An ordered consumer on `filter` in `jsStream` from `startSeq`, pulling at most `buffer` (capped by READ_AHEAD) ahead. */
export async function openCursor(js: JetStreamClient, jsStream: string, filter: string, startSeq: number, buffer: number): Promise<Cursor> {
  const consumer = await js.consumers.get(jsStream, {
    filter_subjects: filter,
    ...(startSeq > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq } : { deliver_policy: DeliverPolicy.All }),
  });
  const messages: ConsumerMessages = await consumer.consume({ max_messages: Math.max(1, Math.min(buffer, READ_AHEAD)) });
  // Iterated by hand: a `for await ... break` would close the consumer at the end of every page.
  const it: AsyncIterator<JsMsg> = messages[Symbol.asyncIterator]();
  let expiry: NodeJS.Timeout | undefined;

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
      try {
        for (;;) {
          const r = await it.next();
          if (r.done) {
            cursor.dead = true;
            return;
          }
          const m = r.value;
          seen++;
          cursor.nextSeq = m.seq + 1;
          if (!onMsg(m) || m.seq >= stopSeq || m.info.pending === 0) return;
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
      await it.return?.(undefined).catch(() => {});
      await messages.close().catch(() => {});
    },
  };
  return cursor;
}

/**
 * One read with a cursor of its own, closed afterwards: `filter` in `jsStream` from `startSeq` until the
 * message at `stopSeq` (known to exist when the read started), nothing pending, or `onMsg` says stop. A
 * stream that does not exist (any more) reads as nothing.
 */
export async function readOnce(
  js: JetStreamClient,
  where: { jsStream: string; filter: string },
  range: { startSeq: number; stopSeq: number; buffer: number; idleMs: number },
  onMsg: (m: JsMsg) => boolean,
): Promise<void> {
  let cursor: Cursor | undefined;
  try {
    cursor = await openCursor(js, where.jsStream, where.filter, range.startSeq, range.buffer);
    await cursor.read(range.stopSeq, range.idleMs, onMsg);
  } catch (err) {
    if (apiCode(err) === JS_ERR.streamNotFound) return;
    throw translateReadError(err);
  } finally {
    await cursor?.close();
  }
}
