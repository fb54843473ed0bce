/**
 * The JetStream append. Version N of a stream is the N-th message on its subject; optimistic concurrency
 * is `Nats-Expected-Last-Subject-Sequence`: to append after version N we must know the sequence of version
 * N, which is the subject's last sequence when the stream is at N. The per-process tip (stream-refs.ts) is
 * only a hint; the server judges every append (a wrong hint is answered with error 10071 and corrected
 * from `last_by_subj`), so two processes with the same expected version cannot both win. Idempotency is
 * `Nats-Msg-Id` = event id, within the stream's duplicate window.
 */
import { headers } from '@nats-io/transport-node';
import type { JetStreamClient, JetStreamManager, PubAck } from '@nats-io/jetstream';
import {
  CapabilityError,
  DuplicateEventError,
  PartialAppendError,
  VersionConflictError,
  type AppendOptions,
  type AppendResult,
  type Capabilities,
  type NewEvent,
} from '../../core/event-store.ts';
import { checkExpectedVersion, matchesExpectedVersion, prepareEvents, type PreparedEvent } from '../../core/validate.ts';
import type { CategoryStreams } from './categories.ts';
import { encodeEnvelope } from './envelope.ts';
import { JS_ERR, apiCode, isNoStreamAnswered, translatePublishError, translateReadError } from './errors.ts';
import { AppendHeaders, HEADERS, verbatimHeaderValue } from './publish-headers.ts';
import type { JetStreamSettings } from './settings.ts';
import { EMPTY_TIP, type StreamRef, type StreamRefs, type Tip } from './stream-refs.ts';

/**
 * `Nats-Expected-Last-Msg-Id` value of a dedup probe: longer than any event id (the envelope caps ids at
 * 128), so it can never equal a stream's last message id and a probe can never be stored.
 */
const PROBE_LAST_MSG_ID = `eventbench-dedup-probe-${'x'.repeat(120)}`;

export interface AppendDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  refs: StreamRefs;
  categories: CategoryStreams;
  settings: JetStreamSettings;
  capabilities: Capabilities;
  serverVersion: string;
  /** Throws when the store is closed (checked here: a wrapper would add an async hop to every append). */
  ensureOpen(): void;
}

export type AppendToStream = (stream: string, events: NewEvent[], options?: AppendOptions) => Promise<AppendResult>;

/** The event's W3C trace context (metadata `traceparent`, written by the load runner with --otlp), if it can be a header as is. */
function traceparentOf(p: PreparedEvent): string | undefined {
  const value = (p.envelope.metadata as Record<string, unknown> | undefined)?.[HEADERS.traceparent];
  return typeof value === 'string' && verbatimHeaderValue(value) ? value : undefined;
}

export function createAppend(deps: AppendDeps): AppendToStream {
  const { js, jsm, refs, categories, settings, capabilities } = deps;
  const timeout = settings.publishTimeoutMs;

  function publishEvent(subject: string, p: PreparedEvent, version: number, expectedSeq: number): Promise<PubAck> {
    const id = p.envelope.id;
    const trace = traceparentOf(p);
    if (verbatimHeaderValue(id)) {
      return js.publish(subject, encodeEnvelope(p, version), { headers: new AppendHeaders(version, id, expectedSeq, trace), timeout });
    }
    // An id nats.js trims or refuses: its own headers, so its verdict and its msg id.
    const h = headers();
    // append, not set: the headers are new, so there is nothing to replace (set searches them first).
    h.append(HEADERS.version, String(version));
    if (trace !== undefined) h.append(HEADERS.traceparent, trace);
    return js.publish(subject, encodeEnvelope(p, version), { msgID: id, headers: h, expect: { lastSubjectSequence: expectedSeq }, timeout });
  }

  /**
   * Asks the server whether `id` is a stored message id, without storing anything: deduplication is
   * checked before the expectations, and the last-msg-id expectation can never match (see PROBE_LAST_MSG_ID).
   */
  async function probe(subject: string, id: string, stream: string): Promise<PubAck | null> {
    try {
      const ack = await js.publish(subject, undefined, { msgID: id, expect: { lastMsgID: PROBE_LAST_MSG_ID }, timeout });
      return ack.duplicate ? ack : null;
    } catch (err) {
      if (apiCode(err) === JS_ERR.wrongLastMsgId) return null;
      throw translatePublishError(err, stream);
    }
  }

  /** nats-server 2.12+: all events in one atomic batch; the first carries the subject-sequence expectation. */
  async function appendBatch(ref: StreamRef, prepared: PreparedEvent[], tip: Tip): Promise<AppendResult> {
    const { subject } = ref;
    const hdr = (i: number) => {
      const h = headers();
      h.set(HEADERS.version, String(tip.version + i + 1));
      h.set(HEADERS.msgId, prepared[i]!.envelope.id);
      return h;
    };
    const batch = await js.startBatch(subject, encodeEnvelope(prepared[0]!, tip.version + 1), {
      headers: hdr(0),
      expect: { lastSubjectSequence: tip.seq },
      timeout,
    });
    for (let i = 1; i < prepared.length - 1; i++) batch.add(subject, encodeEnvelope(prepared[i]!, tip.version + i + 1), { headers: hdr(i) });
    const last = prepared.length - 1;
    const ack = await batch.commit(subject, encodeEnvelope(prepared[last]!, tip.version + last + 1), { headers: hdr(last), timeout });
    const version = tip.version + prepared.length;
    ref.tip = { version, seq: ack.seq };
    const positions = prepared.map((_, i) => ack.seq - last + i);
    return { streamVersion: version, positions, duplicate: ack.duplicate ?? false };
  }

  /** Every id was already stored: success if all are on this stream's subject (a retry), else DuplicateEventError. */
  async function resolveDuplicate(stream: string, ref: StreamRef, prepared: PreparedEvent[], known: PubAck[]): Promise<AppendResult> {
    const { subject } = ref;
    const acks = await Promise.all(prepared.map((p, i) => known[i] ?? probe(subject, p.envelope.id, stream)));
    const missing = prepared.filter((_, i) => acks[i] === null).map((p) => p.envelope.id);
    if (missing.length > 0) {
      throw new DuplicateEventError(stream, prepared.filter((_, i) => acks[i] !== null).map((p) => p.envelope.id));
    }
    const stored = await Promise.all(
      acks.map((a) => jsm.streams.getMessage(a!.stream, { seq: a!.seq }).catch((e) => Promise.reject(translateReadError(e)))),
    );
    const elsewhere = prepared.filter((_, i) => stored[i]?.subject !== subject).map((p) => p.envelope.id);
    if (elsewhere.length > 0) throw new DuplicateEventError(stream, elsewhere);
    const lastVersion = Number(stored[stored.length - 1]!.header?.get(HEADERS.version) ?? NaN);
    return {
      streamVersion: Number.isFinite(lastVersion) ? lastVersion : (await refs.readTip(ref)).version,
      positions: acks.map((a) => a!.seq),
      duplicate: true,
    };
  }

  return async function appendToStream(stream, events, options = {}) {
    deps.ensureOpen();
    const ref = refs.ref(stream);
    const { category, subject } = ref;
    const expected = checkExpectedVersion(options.expectedVersion);
    // Versions are assigned below, once the server has told us where the stream is; this validates only.
    const prepared = prepareEvents(ref.name, events, 1, capabilities.maxEventBytes);
    if (options.requireAtomic && prepared.length > 1 && !capabilities.atomicMultiAppend) {
      throw new CapabilityError(
        'atomicMultiAppend',
        `append to ${stream}: requireAtomic, but nats-server ${deps.serverVersion} has no atomic batch publish (2.12+); events would be appended one by one`,
      );
    }
    if (!categories.created.has(category)) await categories.ensure(category);

    if (prepared.length > 1) {
      // A chain that meets a stored id half-way would leave a partial append behind: ask first (one round trip).
      const acks = await Promise.all(prepared.map((p) => probe(subject, p.envelope.id, stream)));
      if (acks.every((a) => a !== null)) return resolveDuplicate(stream, ref, prepared, acks as PubAck[]);
      const stored = prepared.filter((_, i) => acks[i] !== null).map((p) => p.envelope.id);
      if (stored.length > 0) throw new DuplicateEventError(stream, stored);
    }

    const strict = typeof expected === 'number' || expected === 'no_stream';
    for (let attempt = 1; attempt <= settings.occRetries; attempt++) {
      let tip: Tip = EMPTY_TIP;
      if (!(expected === 'no_stream' || expected === 0)) {
        const cached = attempt === 1 ? ref.tip : undefined;
        tip = cached && matchesExpectedVersion(expected, cached.version) ? cached : await refs.readTip(ref);
        if (!matchesExpectedVersion(expected, tip.version)) {
          // The server says the stream is elsewhere; an append already stored (a retry) is still a success.
          if (prepared.length === 1) {
            const dup = await probe(subject, prepared[0]!.envelope.id, stream);
            if (dup) return resolveDuplicate(stream, ref, prepared, [dup]);
          }
          throw new VersionConflictError(stream, expected, tip.version);
        }
      }
      if (attempt > 3) await jitter(attempt);

      let first: PubAck;
      try {
        if (capabilities.atomicMultiAppend && prepared.length > 1) return await appendBatch(ref, prepared, tip);
        first = await publishEvent(subject, prepared[0]!, tip.version + 1, tip.seq);
      } catch (err) {
        if (apiCode(err) === JS_ERR.wrongLastSequence) {
          ref.tip = undefined;
          if (!strict) continue; // `any` / `exists`: another writer won this round; re-read and go again
          const actual = await refs.readTip(ref);
          // A stale hint with the right version (stream recreated, purged): retry once with the server's seq.
          if (typeof expected === 'number' && actual.version === expected && attempt === 1) continue;
          // Deduplication is checked before the sequence, so a 10071 also says "not a duplicate".
          throw new VersionConflictError(stream, expected, actual.version, { cause: err });
        }
        if (isNoStreamAnswered(err) && attempt === 1) {
          // No stream answered: deleted since we created it? Create it again and retry once.
          categories.forget(category);
          await categories.ensure(category);
          continue;
        }
        throw translatePublishError(err, stream);
      }
      if (first.duplicate) return resolveDuplicate(stream, ref, prepared, [first]);

      // Non-atomic chain: each event expects the previous one's sequence, so no other event can land inside
      // it: a writer that gets in between stops the chain here with a PartialAppendError (atomicMultiAppend
      // is false before 2.12, and requireAtomic refuses such an append up front).
      const positions = [first.seq];
      let seq = first.seq;
      for (let i = 1; i < prepared.length; i++) {
        try {
          const ack = await publishEvent(subject, prepared[i]!, tip.version + i + 1, seq);
          if (ack.duplicate) throw new DuplicateEventError(stream, [prepared[i]!.envelope.id]);
          seq = ack.seq;
          positions.push(seq);
        } catch (err) {
          ref.tip = undefined;
          let cause: Error = translatePublishError(err, stream);
          if (apiCode(err) === JS_ERR.wrongLastSequence) {
            const actual = await refs.readTip(ref).catch(() => undefined);
            cause = new VersionConflictError(stream, tip.version + i, actual?.version ?? -1, { cause: err });
          }
          throw new PartialAppendError(stream, i, prepared.length, positions, { cause });
        }
      }
      const version = tip.version + prepared.length;
      ref.tip = { version, seq };
      return { streamVersion: version, positions, duplicate: false };
    }
    throw new VersionConflictError(stream, expected, ref.tip?.version ?? -1);
  };
}

/** Spreads out writers that keep losing the same race (`any` / `exists` under contention). */
function jitter(attempt: number): Promise<void> {
  const ms = Math.min(50, attempt) * Math.random();
  return new Promise((resolve) => setTimeout(resolve, ms));
}
