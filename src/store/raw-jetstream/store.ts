/**
 * raw-jetstream: the jetstream adapter's append and catch-up read done with nats.js alone, so `eventbench
 * bench` can say how much of a number is the adapter's. It publishes the adapter's messages: the same
 * subject (`<ns>.<category>.<id>`), the same body (the envelope JSON, keys in the adapter's order) and the
 * same three headers (`Eventbench-Version`, `Nats-Msg-Id`, `Nats-Expected-Last-Subject-Sequence`, set the
 * way nats.js users set them), into the adapter's category streams (same namespace; the adapter creates
 * them). Like a hand-written client it keeps each stream's (version, sequence) tip it last wrote and asks
 * the server only on a miss or a conflict. Left out: the adapter's duplicate probes and resolution (a
 * stored id answers `duplicate: true` from the server's ack, nothing more), retries of `any` under
 * contention, reads other than a category's catch-up, subscriptions and statistics.
 */
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiError, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import {
  ConfigError,
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
import { checkExpectedVersion, checkReadAllOptions, matchesExpectedVersion, parseStreamName, prepareAppend, type PreparedEvent } from '../../core/validate.ts';
import { notOfferedByBaseline } from '../backend.ts';

/** The adapter's header names, restated (adapters do not import each other); the header test holds them equal. */
export const VERSION_HEADER = 'Eventbench-Version';
/** nats-server's "wrong last sequence" (10071): the subject-sequence expectation did not hold. */
const WRONG_LAST_SEQUENCE = 10071;

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

/** The message body the adapter stores for `p` at `version`: the envelope with data and metadata last. */
export function envelopeJson(p: PreparedEvent, version: number): string {
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
  return `${head.slice(0, -1)},"data":${p.dataJson},"metadata":${p.metadataJson}}`;
}

export async function createRawJetStreamStore(options: RawJetStreamOptions): Promise<EventStore> {
  const { namespace } = options;
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: options.natsUrl, name: `eventbench-raw-${namespace}`, noAsyncTraces: true, maxReconnectAttempts: -1, reconnectTimeWait: 250, ignoreClusterUpdates: true });
  } catch (err) {
    throw new StoreUnavailableError(`cannot connect to NATS at ${options.natsUrl}: ${(err as Error).message}`, { cause: err });
  }
  const js: JetStreamClient = jetstream(nc, { timeout: options.publishTimeoutMs });
  const jsm: JetStreamManager = await jetstreamManager(nc);
  const streamName = (category: string): string => `${namespace}-${subjectToken(category, 'category')}`;
  const tips = new Map<string, Tip>();
  const encoder = new TextEncoder();
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
    const h = headers();
    h.append(VERSION_HEADER, String(version));
    return js.publish(subject, encoder.encode(envelopeJson(p, version)), { headers: h, msgID: p.envelope.id, expect: { lastSubjectSequence: expectedSeq }, timeout: options.publishTimeoutMs });
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
      const { category, id } = parseStreamName(stream);
      const subject = streamSubject(namespace, category, id);
      const prepared = prepareAppend(stream, events, 1, capabilities.maxEventBytes);
      let tip: Tip = { version: 0, seq: 0 };
      if (!(expected === 'no_stream' || expected === 0)) {
        const cached = tips.get(stream);
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
          tips.delete(stream);
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
      tips.set(stream, { version, seq });
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
      const { category, id } = parseStreamName(stream);
      return (await readTip(category, streamSubject(namespace, category, id))).version;
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
