/**
 * raw-jetstream: the jetstream adapter's append and catch-up read done with nats.js alone, so `eventbench
 * bench` can say how much of a number is the adapter's. It publishes the adapter's messages: the same
 * subject (`<ns>.<category>.<id>`), the same body (the envelope JSON, keys in the adapter's order) and the
 * same three headers (`Eventbench-Version`, `Nats-Msg-Id`, `Nats-Expected-Last-Subject-Sequence`, written
 * as the wire block nats.js would send), into the adapter's category streams (same namespace; the adapter
 * creates them). Like a hand-written client it keeps each stream's subject and (version, sequence) tip and
 * asks the server only on a miss or a conflict; before a multi-event chain it asks whether any id is stored,
 * as the adapter must to never leave a partial append. It does the work the adapter's guarantees need and
 * no more: left out are the adapter's duplicate resolution (a stored id answers `duplicate: true` from the
 * server's ack, nothing more), retries of `any` under contention, reads other than a category's catch-up,
 * subscriptions and statistics.
 */
import { connect, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiError, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import {
  ConfigError,
  DuplicateEventError,
  OutcomeUnknownError,
  StoreUnavailableError,
  VersionConflictError,
  closedStoreError,
  type AppendOptions,
  type AppendResult,
  type Capabilities,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
} from '../../core/event-store.ts';
import { streamSubject, subjectToken } from '../../core/subjects.ts';
import { checkExpectedVersion, checkReadAllOptions, matchesExpectedVersion, parseStreamName, prepareEvents, type PreparedEvent, type StreamName } from '../../core/validate.ts';
import { notOfferedByBaseline } from '../backend.ts';
import { natsAuthOptions, natsServersForLog } from '../nats-auth.ts';
import { SLAB_MAX_MESSAGE, begin, end, put } from '../nats-slab.ts';

/** The adapter's header names, restated (adapters do not import each other); the header test holds them equal. */
export const VERSION_HEADER = 'Eventbench-Version';
/** nats-server's "wrong last sequence" (10071): the subject-sequence expectation did not hold. */
const WRONG_LAST_SEQUENCE = 10071;
/** nats-server's "wrong last msg id" (10070): a dedup probe's answer for an id that is not stored. */
const WRONG_LAST_MSG_ID = 10070;
/** A probe's `Nats-Expected-Last-Msg-Id`: longer than any event id (at most 128), so a probe is never stored. */
const PROBE_LAST_MSG_ID = `eventbench-dedup-probe-${'x'.repeat(120)}`;
/** What nats.js refuses (CR, LF) or trims in a header value: such ids take nats.js's own header path. */
const NOT_VERBATIM = /^\s|\s$|[\r\n]/;

/**
 * Outgoing bytes are written into the shared slabs the adapter writes into (src/store/nats-slab.ts). A
 * `Buffer.from` of a concatenated string per header block and per body, and a closure per message, cost
 * ~2.5 µs more client CPU per append than the adapter's path (33 against 30 µs, and a third more time in
 * the garbage collector, measured on this machine on 2026-12-04): the baseline doing more work than the
 * adapter.
 */
function wireBytes(...pieces: string[]): Uint8Array {
  let units = 0;
  for (const piece of pieces) units += piece.length;
  // At most 3 bytes per UTF-16 unit; a larger message gets its own buffer.
  if (units * 3 > SLAB_MAX_MESSAGE) return Buffer.from(pieces.join(''));
  begin(units * 3);
  for (const piece of pieces) put(piece);
  return end();
}

/**
 * The three headers of an append, written as the wire block itself. nats.js asks a message's headers for
 * `encode()` alone when it sends them; its own `headers()` + `msgID` / `expect` options build a Map, search
 * it per `set` and encode it again: ~3 µs more per message than the adapter's encoder, which made the
 * baseline the slower side (single-event ratios of 1.13-1.16x; client CPU per append 38.7 µs against the
 * adapter's 30.3, measured on this machine on 2026-12-04). The bytes are the ones nats.js sends
 * (raw-drivers.int.test.ts compares the stored headers with the adapter's).
 */
class WireHeaders {
  constructor(private readonly block: Uint8Array) {}
  encode(): Uint8Array {
    return this.block;
  }
}
function wireHeaders(version: number, msgId: string, expectedSeq: number): MsgHdrs {
  const block = wireBytes(`NATS/1.0\r\n${VERSION_HEADER}: ${version}\r\nNats-Msg-Id: ${msgId}\r\nNats-Expected-Last-Subject-Sequence: ${expectedSeq}\r\n\r\n`);
  return new WireHeaders(block) as unknown as MsgHdrs;
}

export interface RawJetStreamOptions {
  natsUrl: string;
  namespace: string;
  publishTimeoutMs: number;
  duplicateWindowMs: number;
}

interface Tip {
  version: number;
  seq: number;
}

/** What the baseline keeps per stream, as a client keeps its aggregates' subjects: name, subject, last tip. */
interface StreamState {
  name: StreamName;
  subject: string;
  tip: Tip | undefined;
}

/**
 * The message body the adapter stores for `p` at `version` (the envelope with data and metadata last), in
 * the pieces it is written from: the head without its closing brace, then data and metadata.
 */
function envelopePieces(p: PreparedEvent, version: number): string[] {
  const e = p.envelope;
  const head = JSON.stringify({
    id: e.id,
    type: e.type,
    timestamp: e.timestamp,
    correlationId: e.correlationId,
    causationId: e.causationId,
    aggregateId: e.aggregateId,
    aggregateType: e.aggregateType,
    version,
  });
  return [head.slice(0, -1), ',"data":', p.dataJson, ',"metadata":', p.metadataJson, '}'];
}

export async function createRawJetStreamStore(options: RawJetStreamOptions): Promise<EventStore> {
  const { namespace } = options;
  let nc: NatsConnection;
  try {
    // Credentials and TLS from the URL, exactly as the adapter connects (src/store/nats-auth.ts).
    nc = await connect({ ...natsAuthOptions(options.natsUrl), name: `eventbench-raw-${namespace}`, noAsyncTraces: true, maxReconnectAttempts: -1, reconnectTimeWait: 250, ignoreClusterUpdates: true });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new StoreUnavailableError(`cannot connect to NATS at ${natsServersForLog(options.natsUrl)}: ${(err as Error).message}`, { cause: err });
  }
  const js: JetStreamClient = jetstream(nc, { timeout: options.publishTimeoutMs });
  const jsm: JetStreamManager = await jetstreamManager(nc);
  const streamName = (category: string): string => `${namespace}-${subjectToken(category, 'category')}`;
  const states = new Map<string, StreamState>();
  const stateOf = (stream: string): StreamState => {
    let st = states.get(stream);
    if (!st) {
      const name = parseStreamName(stream);
      st = { name, subject: streamSubject(namespace, name.category, name.id), tip: undefined };
      states.set(stream, st);
    }
    return st;
  };
  let closed = false;
  const ensureOpen = (): void => {
    if (closed) throw closedStoreError('raw-jetstream', namespace);
  };
  const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
  /** The ordered consumer of the catch-up read in progress (readAll). */
  let cursor: { name: string; iter: ConsumerMessages; it: AsyncIterator<JsMsg>; lastSeq: number; last: number; pending: number } | undefined;
  const closeCursor = async (): Promise<void> => {
    const c = cursor;
    cursor = undefined;
    if (!c) return;
    // Ends the iteration first (as leaving a for-await does): `close()` waits for the iterator to finish.
    await c.it.return?.();
    await c.iter.close().catch(() => {});
  };
  const capabilities: Capabilities = {
    atomicMultiAppend: false, // events after the first are chained one by one, as on nats-server < 2.12
    globalOrder: false,
    idempotencyWindowMs: options.duplicateWindowMs,
    competingConsumers: false, // no subscriptions
    orderedCompetingConsumers: false,
    maxEventBytes: maxPayload - 1024,
  };

  /** The subject's last (version, sequence), from the server. */
  async function readTip(category: string, subject: string): Promise<Tip> {
    try {
      const m = await jsm.streams.getMessage(streamName(category), { last_by_subj: subject });
      if (!m) return { version: 0, seq: 0 };
      return { version: Number(m.header?.get(VERSION_HEADER) ?? 0), seq: m.seq };
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === 10037) return { version: 0, seq: 0 }; // no message found
      if (err instanceof JetStreamApiError && err.code === 10059) throw missingStream(category, err);
      throw new StoreUnavailableError(`NATS JetStream unavailable (${(err as Error).message})`, { cause: err });
    }
  }

  const missingStream = (category: string, cause: unknown): ConfigError =>
    new ConfigError(`raw-jetstream publishes into the jetstream backend's stream ${streamName(category)}, which does not exist: append through the jetstream backend of namespace ${namespace} first`, { cause });

  function publish(subject: string, p: PreparedEvent, version: number, expectedSeq: number) {
    const body = wireBytes(...envelopePieces(p, version));
    const id = p.envelope.id;
    if (!NOT_VERBATIM.test(id)) return js.publish(subject, body, { headers: wireHeaders(version, id, expectedSeq), timeout: options.publishTimeoutMs });
    const h = headers();
    h.append(VERSION_HEADER, String(version));
    return js.publish(subject, body, { headers: h, msgID: id, expect: { lastSubjectSequence: expectedSeq }, timeout: options.publishTimeoutMs });
  }

  /**
   * Whether `id` is stored, without storing anything (deduplication is checked before expectations, and
   * this one never holds). A chain of publishes that met a stored id half-way would leave a partial append
   * behind; the adapter asks first for every event of a multi-event append, and so does the baseline: it is
   * the work that guarantee costs with nats.js alone, not the adapter's overhead.
   */
  async function isStored(subject: string, id: string, category: string): Promise<boolean> {
    try {
      return (await js.publish(subject, undefined, { msgID: id, expect: { lastMsgID: PROBE_LAST_MSG_ID }, timeout: options.publishTimeoutMs })).duplicate;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === WRONG_LAST_MSG_ID) return false;
      if (err instanceof JetStreamApiError && err.code === 10059) throw missingStream(category, err);
      throw new StoreUnavailableError(`NATS JetStream unavailable (${(err as Error).message})`, { cause: err });
    }
  }

  const store: EventStore = {
    backend: 'raw-jetstream',
    capabilities,
    async init() {
      ensureOpen();
    },

    async appendToStream(stream: string, events: NewEvent[], opts: AppendOptions = {}): Promise<AppendResult> {
      ensureOpen();
      const expected = checkExpectedVersion(opts.expectedVersion);
      const st = stateOf(stream);
      const { subject } = st;
      const { category } = st.name;
      const prepared = prepareEvents(st.name, events, 1, capabilities.maxEventBytes);
      if (prepared.length > 1) {
        const stored = await Promise.all(prepared.map((p) => isStored(subject, p.envelope.id, category)));
        if (stored.some(Boolean)) {
          // Every id stored: a retry of this append (its positions are not resolved: the adapter's slow path);
          // some: a clash. Either way nothing is published.
          if (stored.every(Boolean)) return { streamVersion: (await readTip(category, subject)).version, positions: [], duplicate: true };
          throw new DuplicateEventError(stream, prepared.filter((_, i) => stored[i]).map((p) => p.envelope.id));
        }
      }
      let tip: Tip = { version: 0, seq: 0 };
      if (!(expected === 'no_stream' || expected === 0)) {
        const cached = st.tip;
        tip = cached && matchesExpectedVersion(expected, cached.version) ? cached : await readTip(category, subject);
        if (!matchesExpectedVersion(expected, tip.version)) throw new VersionConflictError(stream, expected, tip.version);
      }
      const positions: number[] = [];
      let seq = tip.seq;
      for (let i = 0; i < prepared.length; i++) {
        try {
          const ack = await publish(subject, prepared[i]!, tip.version + i + 1, seq);
          if (ack.duplicate && prepared.length === 1) return { streamVersion: tip.version + 1, positions: [ack.seq], duplicate: true };
          seq = ack.seq;
          positions.push(seq);
        } catch (err) {
          st.tip = undefined;
          if (err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE) {
            throw new VersionConflictError(stream, expected, (await readTip(category, subject)).version, { cause: err });
          }
          if (err instanceof JetStreamApiError && err.code === 10059) throw missingStream(category, err);
          if ((err as Error).name === 'TimeoutError' || (err as { cause?: Error }).cause?.name === 'TimeoutError') {
            throw new OutcomeUnknownError(stream, 'no publish acknowledgement before the timeout', { cause: err });
          }
          if (/no responders/i.test((err as Error).message)) throw missingStream(category, err);
          throw new StoreUnavailableError(`NATS JetStream unavailable (${(err as Error).message})`, { cause: err });
        }
      }
      const version = tip.version + prepared.length;
      st.tip = { version, seq };
      return { streamVersion: version, positions, duplicate: false };
    },

    readStream: () => Promise.reject(notOfferedByBaseline('raw-jetstream', 'readStream', 'jetstream')),

    /**
     * A category's catch-up: one ordered consumer read from `fromPosition` (a stream sequence), as a replay
     * loop would. Paging through `readAll` keeps that one consumer: a call that starts where the previous
     * page ended, with messages still pending, reads on from it; anything else opens a new one.
     */
    async readAll(opts) {
      ensureOpen();
      const o = checkReadAllOptions(opts);
      if (o.category === undefined) throw new ConfigError('raw-jetstream reads one category at a time (readAll({ category })): JetStream has no order across category streams');
      const out: RecordedEvent[] = [];
      if (o.limit === 0) return out;
      const category = o.category;
      const name = streamName(category);
      if (!(cursor && cursor.name === name && cursor.lastSeq === o.fromPosition && cursor.pending > 0)) {
        await closeCursor();
        let last: number;
        try {
          last = (await jsm.streams.info(name)).state.last_seq;
        } catch (err) {
          if (err instanceof JetStreamApiError && err.code === 10059) return out;
          throw new StoreUnavailableError(`NATS JetStream unavailable (${(err as Error).message})`, { cause: err });
        }
        if (last <= o.fromPosition) return out;
        // The category stream holds only `<ns>.<category>.*`: no filter needed (filter_subjects is 2.10+).
        const consumer = await js.consumers.get(name, { opt_start_seq: o.fromPosition + 1 });
        const iter = await consumer.consume({ max_messages: 1000 });
        cursor = { name, iter, it: iter[Symbol.asyncIterator](), lastSeq: o.fromPosition, last, pending: last - o.fromPosition };
      }
      const c = cursor!;
      while (out.length < o.limit && c.pending > 0) {
        const next = await c.it.next();
        if (next.done) break;
        const m = next.value;
        const e = m.json<Omit<RecordedEvent, 'stream' | 'position'>>();
        out.push({ ...e, stream: `${category}-${m.subject.slice(m.subject.lastIndexOf('.') + 1)}`, position: m.seq });
        c.lastSeq = m.seq;
        // Up to the stream's last sequence when the read began (a replay of what was there), or sooner
        // when the server says nothing is left.
        c.pending = m.seq >= c.last ? 0 : m.info.pending;
      }
      if (c.pending === 0) await closeCursor();
      return out;
    },

    async streamVersion(stream) {
      ensureOpen();
      const st = stateOf(stream);
      return (await readTip(st.name.category, st.subject)).version;
    },

    subscribe: () => Promise.reject(notOfferedByBaseline('raw-jetstream', 'subscriptions', 'jetstream')),
    deleteSubscription: () => Promise.reject(notOfferedByBaseline('raw-jetstream', 'subscriptions', 'jetstream')),
    readDeadLetters: () => Promise.reject(notOfferedByBaseline('raw-jetstream', 'dead letters', 'jetstream')),
    storageStats: () => Promise.reject(notOfferedByBaseline('raw-jetstream', 'storage statistics', 'jetstream')),

    async close() {
      if (closed) return;
      closed = true;
      await closeCursor();
      await nc.drain().catch(() => nc.close());
    },
    [Symbol.asyncDispose]() {
      return store.close();
    },
  };
  return store;
}
