/**
 * A read position in one JetStream stream that survives between `readAll` calls: paging through a
 * category (`fromPosition` = the last position of the previous page) continues on the same ordered
 * consumer instead of creating one per page. Creating an ordered consumer costs a consumer-create round
 * trip and a fresh pull (measured at 15-450 ms per page on the loaded test machine, against ~0.5 s to
 * read the whole 10,000-event page), so a paged replay with one consumer per page ran at half the rate of
 * a raw ordered consumer (bench/jetstream-append.ts).
 */
import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';

/**
 * Messages an ordered consumer pulls ahead of the reader, whatever the page size. Pulled but unread
 * messages sit in the client (with the socket chunks they point into) and survive young-generation GCs,
 * so a deep read-ahead makes every scavenge dearer exactly when the reader falls behind. Replaying 100,000
 * 1 KB events in pages of 10,000 (bench/jetstream-append.ts): 0.80-0.91x a raw ordered consumer with a
 * 10,000 read-ahead, 0.91-1.0x with 500-2,000.
 */
export const READ_AHEAD = 1000;

export class CategoryCursor {
  /** Stream sequence of the next message this cursor will deliver (at least). */
  nextSeq: number;
  busy = false;
  dead = false;
  private expiry: NodeJS.Timeout | undefined;
  private readonly it: AsyncIterator<JsMsg>;

  private constructor(
    private readonly messages: ConsumerMessages,
    startSeq: number,
  ) {
    this.nextSeq = startSeq;
    // Iterated by hand: a `for await ... break` would close the consumer at the end of every page.
    this.it = messages[Symbol.asyncIterator]();
  }

  static async open(js: JetStreamClient, jsStream: string, filter: string, startSeq: number, buffer: number): Promise<CategoryCursor> {
    const consumer = await js.consumers.get(jsStream, {
      filter_subjects: filter,
      ...(startSeq > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq } : { deliver_policy: DeliverPolicy.All }),
    });
    const messages = await consumer.consume({ max_messages: Math.max(1, Math.min(buffer, READ_AHEAD)) });
    return new CategoryCursor(messages, startSeq);
  }

  /**
   * Delivers messages to `onMsg` until it returns false, the message at `stopSeq` (known to exist), or
   * nothing pending. Nothing for `idleMs` (messages removed by limits meanwhile) ends the read and the cursor.
   */
  async read(stopSeq: number, idleMs: number, onMsg: (m: JsMsg) => boolean): Promise<void> {
    let seen = 0;
    let seenAtLastTick = -1;
    // One interval and a counter, not a timer re-armed per message (that cost a third of the replay rate).
    const guard = setInterval(() => {
      if (seen === seenAtLastTick) void this.messages.stop();
      seenAtLastTick = seen;
    }, idleMs);
    try {
      for (;;) {
        const r = await this.it.next();
        if (r.done) {
          this.dead = true;
          return;
        }
        const m = r.value;
        seen++;
        this.nextSeq = m.seq + 1;
        if (!onMsg(m) || m.seq >= stopSeq || m.info.pending === 0) return;
      }
    } catch (err) {
      this.dead = true;
      throw err;
    } finally {
      clearInterval(guard);
    }
  }

  /** Closes the cursor after `ms` unused (unref'd: an idle cursor never keeps a process alive). */
  expireIn(ms: number, onExpire: () => void): void {
    clearTimeout(this.expiry);
    this.expiry = setTimeout(onExpire, ms);
    this.expiry.unref();
  }

  async close(): Promise<void> {
    clearTimeout(this.expiry);
    this.dead = true;
    // close() alone waits for the iterator to observe the stop, which a paused cursor never does:
    // stop it, finish the generator ourselves, then close.
    void this.messages.stop();
    await this.it.return?.(undefined).catch(() => {});
    await this.messages.close().catch(() => {});
  }
}
