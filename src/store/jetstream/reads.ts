/**
 * Reads: `readStream` (one subject), `readAll` (one category's JetStream stream, paged on a cursor kept
 * between calls) and the decoding of a stored message into a RecordedEvent (position = stream sequence).
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import {
  CapabilityError,
  StoreUnavailableError,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
} from '../../core/event-store.ts';
import { checkReadAllOptions, checkReadStreamOptions } from '../../core/validate.ts';
import { openCursor, readOnce, type Cursor } from './cursor.ts';
import { JS_ERR, apiCode, translateReadError } from './errors.ts';
import type { JetStreamNames } from './naming.ts';
import type { JetStreamSettings } from './settings.ts';
import { REF_CACHE_LIMIT, type StreamRefs } from './stream-refs.ts';

/** A readAll cursor unused this long is closed (its consumer and buffered messages released). */
const CURSOR_IDLE_MS = 10_000;

export type StoredMessage = { data: Uint8Array; subject: string; seq: number };

export interface Reads {
  decode(msg: StoredMessage): RecordedEvent;
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Closes the kept cursors; reads after this get none kept. */
  close(): Promise<void>;
}

export function createReads(deps: { js: JetStreamClient; jsm: JetStreamManager; names: JetStreamNames; settings: JetStreamSettings; refs: StreamRefs }): Reads {
  const { js, jsm, names, settings, refs } = deps;
  const decoder = new TextDecoder();
  const streamOfSubject = new Map<string, string>();
  /** One paging cursor per JetStream stream, kept between readAll calls. */
  const cursors = new Map<string, Cursor>();
  let closed = false;

  function decode(msg: StoredMessage): RecordedEvent {
    const event = JSON.parse(decoder.decode(msg.data)) as RecordedEvent;
    let stream = streamOfSubject.get(msg.subject);
    if (stream === undefined) {
      stream = names.streamOfSubject(msg.subject) ?? msg.subject;
      if (streamOfSubject.size >= REF_CACHE_LIMIT) streamOfSubject.clear();
      streamOfSubject.set(msg.subject, stream);
    }
    event.stream = stream;
    event.position = msg.seq;
    return event;
  }

  async function readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    const ref = refs.ref(stream);
    const { direction, fromVersion, limit } = checkReadStreamOptions(stream, options);
    const tip = await refs.readTip(ref);
    if (tip.version === 0 || limit === 0) return [];
    const where = { jsStream: ref.jsStream, filter: ref.subject };
    const out: RecordedEvent[] = [];
    if (direction === 'forward') {
      const from = Math.max(1, fromVersion ?? 1);
      if (from > tip.version) return [];
      const range = { startSeq: 1, stopSeq: tip.seq, buffer: Math.min(limit, tip.version), idleMs: settings.readIdleMs };
      await readOnce({ js, jsm }, where, range, (m) => {
        const e = decode(m);
        if (e.version >= from) out.push(e);
        return out.length < limit && e.version < tip.version;
      });
      return out;
    }
    // Backward: JetStream consumers only go forward; read up to the highest wanted version and reverse.
    const hi = Math.min(fromVersion ?? tip.version, tip.version);
    if (hi < 1) return [];
    await readOnce({ js, jsm }, where, { startSeq: 1, stopSeq: tip.seq, buffer: hi, idleMs: settings.readIdleMs }, (m) => {
      const e = decode(m);
      if (e.version <= hi) out.push(e);
      return e.version < hi;
    });
    return out.reverse().slice(0, limit);
  }

  async function readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    const { fromPosition: from, limit, category } = checkReadAllOptions(options);
    if (category === undefined) {
      throw new CapabilityError('globalOrder', 'readAll: JetStream orders events per stream only (one JetStream stream per category): pass options.category');
    }
    const jsStream = names.categoryStream(category);
    let lastSeq: number;
    try {
      const info = await jsm.streams.info(jsStream);
      // Only the stream leader answers stream info, except while its replicas elect one: then each answers
      // with its own state, which may lack acknowledged messages (nats-server 2.9 jsStreamInfoRequest).
      if (info.cluster && !info.cluster.leader) {
        throw new StoreUnavailableError(`readAll of ${jsStream}: the stream has no leader (an election is under way), so no replica can say what was acknowledged: read again`);
      }
      lastSeq = info.state.last_seq;
    } catch (err) {
      if (apiCode(err) === JS_ERR.streamNotFound) return [];
      throw translateReadError(err);
    }
    if (lastSeq <= from || limit === 0) return [];
    const out: RecordedEvent[] = [];
    const cursor = await cursorFor(jsStream, names.categoryFilter(category), from + 1, Math.min(limit, lastSeq - from));
    try {
      await cursor.read(lastSeq, settings.readIdleMs, (m) => {
        out.push(decode(m));
        return out.length < limit;
      });
    } catch (err) {
      if (apiCode(err) === JS_ERR.streamNotFound) return out;
      throw translateReadError(err);
    } finally {
      releaseCursor(jsStream, cursor);
    }
    return out;
  }

  /** The kept cursor of `jsStream` when it stands exactly at `startSeq` and is free, else a new one. */
  async function cursorFor(jsStream: string, filter: string, startSeq: number, buffer: number): Promise<Cursor> {
    const cached = cursors.get(jsStream);
    if (cached && !cached.busy) {
      if (!cached.dead && cached.nextSeq === startSeq) {
        cached.busy = true;
        return cached;
      }
      cursors.delete(jsStream);
      void cached.close();
    }
    const cursor = await openCursor({ js, jsm }, jsStream, filter, startSeq, buffer).catch((err) =>
      Promise.reject(apiCode(err) === JS_ERR.streamNotFound ? err : translateReadError(err)),
    );
    cursor.busy = true;
    if (!cursors.has(jsStream)) cursors.set(jsStream, cursor);
    return cursor;
  }

  function releaseCursor(jsStream: string, cursor: Cursor): void {
    cursor.busy = false;
    if (cursor.dead || cursors.get(jsStream) !== cursor || closed) {
      if (cursors.get(jsStream) === cursor) cursors.delete(jsStream);
      void cursor.close();
      return;
    }
    cursor.expireIn(CURSOR_IDLE_MS, () => {
      if (cursors.get(jsStream) === cursor && !cursor.busy) {
        cursors.delete(jsStream);
        void cursor.close();
      }
    });
  }

  return {
    decode,
    readStream,
    readAll,
    async close() {
      closed = true;
      await Promise.allSettled([...cursors.values()].map((c) => c.close()));
      cursors.clear();
    },
  };
}
