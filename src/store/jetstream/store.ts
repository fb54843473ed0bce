/**
 * The JetStream event store. Mapping and reasoning: README.md in this folder. In short:
 * - stream `<category>-<id>` = subject `<ns>.<category>.<id>` in JetStream stream `<ns>-<category>`;
 * - version N of a stream = the N-th message on its subject; each message carries its version in the
 *   `Eventbench-Version` header (and in the envelope), position = JetStream stream sequence;
 * - optimistic concurrency = `Nats-Expected-Last-Subject-Sequence`: to append after version N we must
 *   know the sequence of version N, which is the subject's last sequence when the stream is at N. A
 *   per-process cache of (version, seq) per subject is only a hint; the server judges every append (a
 *   wrong hint is answered with error 10071 and corrected from `last_by_subj`), so two processes with
 *   the same expected version cannot both win;
 * - idempotency = `Nats-Msg-Id` = event id, within the stream's duplicate window.
 */
import { connect, headers, nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type PubAck,
  type StreamConfig,
  type StoredMsg,
} from '@nats-io/jetstream';
import {
  CapabilityError,
  ConfigError,
  DuplicateEventError,
  PartialAppendError,
  StoreUnavailableError,
  VersionConflictError,
  type AppendOptions,
  type AppendResult,
  type Capabilities,
  type DeadLetter,
  type EventHandler,
  type EventStore,
  type ExpectedVersion,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StorageStats,
  type Subscription,
  type SubscriptionOptions,
} from '../../core/event-store.ts';
import { checkCategory, checkExpectedVersion, checkSubscriptionName, parseStreamName, prepareEvents, type PreparedEvent, type StreamName } from '../../core/validate.ts';
import { subjectToken } from '../../core/subjects.ts';
import { JS_ERR, apiCode, isNoStreamAnswered, translatePublishError, translateReadError } from './errors.ts';
import { jetStreamNames, type JetStreamNames } from './naming.ts';
import { parseJetStreamSettings, type JetStreamSettings } from './settings.ts';
import { openSubscription, type SubscriptionDeps } from './subscription.ts';
import { CategoryCursor, READ_AHEAD } from './cursor.ts';
import { encodeEnvelope } from './envelope.ts';
import { AppendHeaders, VERSION_HEADER, verbatimHeaderValue } from './publish-headers.ts';

export { VERSION_HEADER };

/**
 * `Nats-Expected-Last-Msg-Id` value of a dedup probe: longer than any event id (the envelope caps ids at
 * 128), so it can never equal a stream's last message id and a probe can never be stored.
 */
const PROBE_LAST_MSG_ID = `eventbench-dedup-probe-${'x'.repeat(120)}`;

/** A readAll cursor unused this long is closed (its consumer and buffered messages released). */
const CURSOR_IDLE_MS = 10_000;

/** Streams whose ref and (version, seq) hint are kept; the cache is cleared beyond this (it is only a hint). */
const REF_CACHE_LIMIT = 200_000;

export interface JetStreamStoreOptions {
  natsUrl?: string;
  namespace?: string;
  settings?: Record<string, unknown>;
}

interface Tip {
  version: number;
  seq: number;
}
const EMPTY_TIP: Tip = { version: 0, seq: 0 };

interface StreamRef {
  /** The contract stream name, validated and split. */
  name: StreamName;
  category: string;
  subject: string;
  jsStream: string;
  /**
   * The subject's last (version, seq) as this process last saw it: only a hint (the server judges every
   * append). Kept on the ref so an append costs one map lookup.
   */
  tip: Tip | undefined;
}

/** Parses `2.9.10` / `2.12.0-beta.1` into a comparable triple. */
export function parseServerVersion(v: string | undefined): [number, number, number] {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
}

export function serverAtLeast(v: string | undefined, major: number, minor: number): boolean {
  const [a, b] = parseServerVersion(v);
  return a > major || (a === major && b >= minor);
}

/** The dead-letter stream of a namespace: file storage, nothing expires (dead letters wait for a human). */
export function deadLetterStreamConfig(names: JetStreamNames, settings: JetStreamSettings): Partial<StreamConfig> & { name: string } {
  return {
    name: names.deadLetterStream,
    subjects: [names.deadLetterFilter],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: settings.replicas,
  };
}

export async function connectNats(natsUrl: string | undefined, name: string): Promise<NatsConnection> {
  const servers = natsUrl ?? 'nats://127.0.0.1:4222';
  try {
    return await connect({
      servers,
      name,
      // Keep trying through restarts and partitions (the chaos scenarios); requests time out meanwhile.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      // nats.js otherwise builds two Error objects (stack traces) per request for debugging context:
      // 29 % of the client's CPU in a pipelined publish profile here (bench/jetstream-append.ts). Our
      // errors are translated at the boundary and keep the driver error as `cause` anyway.
      noAsyncTraces: true,
    });
  } catch (err) {
    throw new StoreUnavailableError(`cannot connect to NATS at ${servers}: ${(err as Error).message}`, { cause: err });
  }
}

export async function createJetStreamStore(options: JetStreamStoreOptions = {}): Promise<EventStore> {
  const settings = parseJetStreamSettings(options.settings);
  const names = jetStreamNames(options.namespace);
  const nc = await connectNats(options.natsUrl, `eventbench-jetstream-${names.namespace}`);
  try {
    const jsm = await jetstreamManager(nc);
    return new JetStreamStore(nc, jsm, jetstream(nc, { timeout: settings.publishTimeoutMs }), names, settings);
  } catch (err) {
    await nc.close().catch(() => {});
    throw translateReadError(err);
  }
}

class JetStreamStore implements EventStore {
  readonly backend = 'jetstream';
  readonly capabilities: Capabilities;
  readonly serverVersion: string;
  private readonly refs = new Map<string, StreamRef>();
  private readonly streamOfSubject = new Map<string, string>();
  /** One paging cursor per JetStream stream, kept between readAll calls (see cursor.ts). */
  private readonly cursors = new Map<string, CategoryCursor>();
  private readonly categoriesReady = new Map<string, Promise<void>>();
  /** Categories whose stream exists: appends skip even the await of a settled promise. */
  private readonly categoriesCreated = new Set<string>();
  private deadLettersReady: Promise<void> | undefined;
  private readonly subscriptions = new Set<Subscription>();
  private closing: Promise<void> | undefined;
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly names: JetStreamNames,
    private readonly settings: JetStreamSettings,
  ) {
    this.serverVersion = nc.info?.version ?? 'unknown';
    const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    this.capabilities = {
      // nats-server 2.12 added atomic batch publish; 2.9-2.11 can only chain single publishes.
      atomicMultiAppend: settings.atomicBatch && serverAtLeast(this.serverVersion, 2, 12),
      globalOrder: false,
      idempotencyWindowMs: settings.duplicateWindowMs,
      competingConsumers: true,
      orderedCompetingConsumers: false,
      // Headers (msg id, version, expectations) travel in the same max_payload: keep 1 KB for them.
      maxEventBytes: maxPayload - 1024,
    };
  }

  // -------------------------------------------------------------------------------------------------
  // Lifecycle and JetStream streams
  // -------------------------------------------------------------------------------------------------

  async init(): Promise<void> {
    this.ensureOpen();
    await this.ensureDeadLetters();
  }

  private ensureOpen(): void {
    if (this.closing) throw new StoreUnavailableError('the JetStream store is closed');
  }

  private categoryConfig(category: string): Partial<StreamConfig> & { name: string } {
    const s = this.settings;
    return {
      name: this.names.categoryStream(category),
      subjects: [this.names.categoryFilter(category)],
      retention: RetentionPolicy.Limits,
      storage: s.storage === 'memory' ? StorageType.Memory : StorageType.File,
      num_replicas: s.replicas,
      duplicate_window: nanos(s.duplicateWindowMs),
      max_age: nanos(s.maxAgeMs),
      max_msgs: s.maxMsgs,
      max_bytes: s.maxBytes,
      discard: s.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
      ...(this.capabilities.atomicMultiAppend ? { allow_atomic: true } : {}),
    } as Partial<StreamConfig> & { name: string };
  }

  /** Creates the category's JetStream stream once per process (idempotent on the server as well). */
  private ensureCategory(category: string): Promise<void> {
    let ready = this.categoriesReady.get(category);
    if (!ready) {
      ready = this.createStream(this.categoryConfig(category)).then(
        () => void this.categoriesCreated.add(category),
        (err) => {
          this.categoriesReady.delete(category);
          throw err;
        },
      );
      this.categoriesReady.set(category, ready);
    }
    return ready;
  }

  private ensureDeadLetters(): Promise<void> {
    this.deadLettersReady ??= this.createStream(deadLetterStreamConfig(this.names, this.settings)).catch((err) => {
      this.deadLettersReady = undefined;
      throw err;
    });
    return this.deadLettersReady;
  }

  private async createStream(cfg: Partial<StreamConfig> & { name: string }): Promise<void> {
    try {
      const info = await this.jsm.streams.info(cfg.name);
      this.checkExisting(cfg, info.config);
      return;
    } catch (err) {
      if (apiCode(err) !== JS_ERR.streamNotFound) throw translateReadError(err);
    }
    try {
      await this.jsm.streams.add(cfg);
    } catch (err) {
      if (apiCode(err) === JS_ERR.streamNameInUse) {
        // Created meanwhile by another process (with a different config, or the add would have succeeded).
        const info = await this.jsm.streams.info(cfg.name).catch((e) => Promise.reject(translateReadError(e)));
        this.checkExisting(cfg, info.config);
        return;
      }
      if (apiCode(err) === JS_ERR.replicasNotSupported) {
        throw new ConfigError(`stream ${cfg.name}: ${cfg.num_replicas} replicas need a clustered JetStream; this server is a single node`, { cause: err });
      }
      throw translateReadError(err);
    }
  }

  /** The declared idempotency window must be the one the server applies: refuse to run on a stream that differs. */
  private checkExisting(want: Partial<StreamConfig>, have: StreamConfig): void {
    if (want.duplicate_window !== undefined && have.duplicate_window !== want.duplicate_window) {
      throw new ConfigError(
        `JetStream stream ${have.name} exists with duplicate window ${have.duplicate_window / 1e6} ms, settings say ${want.duplicate_window / 1e6} ms: use another namespace or the same duplicateWindowMs`,
      );
    }
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
      await Promise.allSettled([...this.cursors.values()].map((c) => c.close()));
      this.cursors.clear();
      await this.nc.drain().catch(() => this.nc.close());
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // -------------------------------------------------------------------------------------------------
  // Append
  // -------------------------------------------------------------------------------------------------

  private publishEvent(subject: string, p: PreparedEvent, version: number, expectedSeq: number): Promise<PubAck> {
    const id = p.envelope.id;
    if (verbatimHeaderValue(id)) {
      return this.js.publish(subject, encodeEnvelope(p, version), {
        headers: new AppendHeaders(version, id, expectedSeq),
        timeout: this.settings.publishTimeoutMs,
      });
    }
    // An id nats.js trims or refuses: its own headers, so its verdict and its msg id.
    const h = headers();
    // append, not set: the headers are new, so there is nothing to replace (set searches them first).
    h.append(VERSION_HEADER, String(version));
    return this.js.publish(subject, encodeEnvelope(p, version), {
      msgID: p.envelope.id,
      headers: h,
      expect: { lastSubjectSequence: expectedSeq },
      timeout: this.settings.publishTimeoutMs,
    });
  }

  /**
   * Asks the server whether `id` is a stored message id, without storing anything: deduplication is
   * checked before the expectations, and the last-msg-id expectation can never match (see PROBE_LAST_MSG_ID).
   */
  private async probe(subject: string, id: string, stream: string): Promise<PubAck | null> {
    try {
      const ack = await this.js.publish(subject, undefined, {
        msgID: id,
        expect: { lastMsgID: PROBE_LAST_MSG_ID },
        timeout: this.settings.publishTimeoutMs,
      });
      return ack.duplicate ? ack : null;
    } catch (err) {
      if (apiCode(err) === JS_ERR.wrongLastMsgId) return null;
      throw translatePublishError(err, stream);
    }
  }

  /** The subject's last (version, seq) as the server has it now. */
  private async readTip(ref: StreamRef): Promise<Tip> {
    const { jsStream, subject } = ref;
    let msg: StoredMsg | null;
    try {
      msg = await this.jsm.streams.getMessage(jsStream, { last_by_subj: subject });
    } catch (err) {
      if (apiCode(err) === JS_ERR.streamNotFound) return EMPTY_TIP;
      throw translateReadError(err);
    }
    if (!msg) return EMPTY_TIP;
    const v = msg.header?.get(VERSION_HEADER);
    let tip: Tip;
    if (v) {
      tip = { version: Number(v), seq: msg.seq };
    } else {
      // A message published without our header (a foreign publisher): version = messages on the subject.
      const info = await this.jsm.streams.info(jsStream, { subjects_filter: subject }).catch((e) => Promise.reject(translateReadError(e)));
      tip = { version: info.state.subjects?.[subject] ?? 0, seq: msg.seq };
    }
    // Fresh from the server: the best hint for the next append (still only a hint).
    ref.tip = tip;
    return tip;
  }

  /**
   * Validated subject and JetStream stream of a contract stream name, memoised: building and checking
   * them costs ~5 us a call, a tenth of a whole pipelined publish here (measured with bench/jetstream-append.ts).
   */
  private ref(stream: string): StreamRef {
    let ref = this.refs.get(stream);
    if (!ref) {
      const name = parseStreamName(stream);
      ref = { name, category: name.category, subject: this.names.subject(name.category, name.id), jsStream: this.names.categoryStream(name.category), tip: undefined };
      if (this.refs.size >= REF_CACHE_LIMIT) this.refs.clear();
      this.refs.set(stream, ref);
    }
    return ref;
  }

  async appendToStream(stream: string, events: NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    this.ensureOpen();
    const ref = this.ref(stream);
    const { category, subject } = ref;
    const expected = checkExpectedVersion(options.expectedVersion);
    // Versions are assigned below, once the server has told us where the stream is; this validates only.
    const prepared = prepareEvents(ref.name, events, 1, this.capabilities.maxEventBytes);
    if (options.requireAtomic && prepared.length > 1 && !this.capabilities.atomicMultiAppend) {
      throw new CapabilityError(
        'atomicMultiAppend',
        `append to ${stream}: requireAtomic, but nats-server ${this.serverVersion} has no atomic batch publish (2.12+); events would be appended one by one`,
      );
    }
    if (!this.categoriesCreated.has(category)) await this.ensureCategory(category);

    if (prepared.length > 1) {
      // A chain that meets a stored id half-way would leave a partial append behind: ask first (one round trip).
      const acks = await Promise.all(prepared.map((p) => this.probe(subject, p.envelope.id, stream)));
      if (acks.every((a) => a !== null)) return this.resolveDuplicate(stream, subject, prepared, acks as PubAck[]);
      const stored = prepared.filter((_, i) => acks[i] !== null).map((p) => p.envelope.id);
      if (stored.length > 0) throw new DuplicateEventError(stream, stored);
    }

    const strict = typeof expected === 'number' || expected === 'no_stream';
    for (let attempt = 1; attempt <= this.settings.occRetries; attempt++) {
      let tip: Tip = EMPTY_TIP;
      if (!(expected === 'no_stream' || expected === 0)) {
        const cached = attempt === 1 ? ref.tip : undefined;
        tip = cached && matches(expected, cached) ? cached : await this.readTip(ref);
        if (!matches(expected, tip)) {
          // The server says the stream is elsewhere; an append already stored (a retry) is still a success.
          if (prepared.length === 1) {
            const dup = await this.probe(subject, prepared[0]!.envelope.id, stream);
            if (dup) return this.resolveDuplicate(stream, subject, prepared, [dup]);
          }
          throw new VersionConflictError(stream, expected, tip.version);
        }
      }
      if (attempt > 3) await jitter(attempt);

      let first: PubAck;
      const atomic = this.capabilities.atomicMultiAppend && prepared.length > 1;
      try {
        if (atomic) return await this.appendBatch(stream, ref, prepared, tip);
        first = await this.publishEvent(subject, prepared[0]!, tip.version + 1, tip.seq);
      } catch (err) {
        if (apiCode(err) === JS_ERR.wrongLastSequence) {
          ref.tip = undefined;
          if (!strict) continue; // `any` / `exists`: another writer won this round; re-read and go again
          const actual = await this.readTip(ref);
          // A stale hint with the right version (stream recreated, purged): retry once with the server's seq.
          if (typeof expected === 'number' && actual.version === expected && attempt === 1) continue;
          // Deduplication is checked before the sequence, so a 10071 also says "not a duplicate".
          throw new VersionConflictError(stream, expected, actual.version, { cause: err });
        }
        if (isNoStreamAnswered(err) && attempt === 1) {
          // No stream answered: deleted since we created it? Create it again and retry once.
          this.categoriesReady.delete(category);
          this.categoriesCreated.delete(category);
          await this.ensureCategory(category);
          continue;
        }
        throw translatePublishError(err, stream);
      }
      if (first.duplicate) return this.resolveDuplicate(stream, subject, prepared, [first]);

      // Non-atomic chain: each event expects the previous one's sequence, so nobody can interleave.
      const positions = [first.seq];
      let seq = first.seq;
      for (let i = 1; i < prepared.length; i++) {
        try {
          const ack = await this.publishEvent(subject, prepared[i]!, tip.version + i + 1, seq);
          if (ack.duplicate) throw new DuplicateEventError(stream, [prepared[i]!.envelope.id]);
          seq = ack.seq;
          positions.push(seq);
        } catch (err) {
          ref.tip = undefined;
          let cause: Error = translatePublishError(err, stream);
          if (apiCode(err) === JS_ERR.wrongLastSequence) {
            const actual = await this.readTip(ref).catch(() => undefined);
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
  }

  /** nats-server 2.12+: all events in one atomic batch; the first carries the subject-sequence expectation. */
  private async appendBatch(stream: string, ref: StreamRef, prepared: PreparedEvent[], tip: Tip): Promise<AppendResult> {
    const { subject } = ref;
    const hdr = (i: number) => {
      const h = headers();
      h.set(VERSION_HEADER, String(tip.version + i + 1));
      h.set('Nats-Msg-Id', prepared[i]!.envelope.id);
      return h;
    };
    const batch = await this.js.startBatch(subject, encodeEnvelope(prepared[0]!, tip.version + 1), {
      headers: hdr(0),
      expect: { lastSubjectSequence: tip.seq },
      timeout: this.settings.publishTimeoutMs,
    });
    for (let i = 1; i < prepared.length - 1; i++) batch.add(subject, encodeEnvelope(prepared[i]!, tip.version + i + 1), { headers: hdr(i) });
    const last = prepared.length - 1;
    const ack = await batch.commit(subject, encodeEnvelope(prepared[last]!, tip.version + last + 1), {
      headers: hdr(last),
      timeout: this.settings.publishTimeoutMs,
    });
    const version = tip.version + prepared.length;
    ref.tip = { version, seq: ack.seq };
    const positions = prepared.map((_, i) => ack.seq - last + i);
    return { streamVersion: version, positions, duplicate: ack.duplicate ?? false };
  }

  /** Every id was already stored: success if all are on this stream's subject (a retry), else DuplicateEventError. */
  private async resolveDuplicate(stream: string, subject: string, prepared: PreparedEvent[], known: PubAck[]): Promise<AppendResult> {
    const acks = await Promise.all(prepared.map((p, i) => known[i] ?? this.probe(subject, p.envelope.id, stream)));
    const missing = prepared.filter((_, i) => acks[i] === null).map((p) => p.envelope.id);
    if (missing.length > 0) {
      throw new DuplicateEventError(stream, prepared.filter((_, i) => acks[i] !== null).map((p) => p.envelope.id));
    }
    const stored = await Promise.all(
      acks.map((a) => this.jsm.streams.getMessage(a!.stream, { seq: a!.seq }).catch((e) => Promise.reject(translateReadError(e)))),
    );
    const elsewhere = prepared.filter((_, i) => stored[i]?.subject !== subject).map((p) => p.envelope.id);
    if (elsewhere.length > 0) throw new DuplicateEventError(stream, elsewhere);
    const lastVersion = Number(stored[stored.length - 1]!.header?.get(VERSION_HEADER) ?? NaN);
    return {
      streamVersion: Number.isFinite(lastVersion) ? lastVersion : (await this.streamVersion(stream)),
      positions: acks.map((a) => a!.seq),
      duplicate: true,
    };
  }

  async streamVersion(stream: string): Promise<number> {
    this.ensureOpen();
    return (await this.readTip(this.ref(stream))).version;
  }

  // -------------------------------------------------------------------------------------------------
  // Reads
  // -------------------------------------------------------------------------------------------------

  decode(msg: { data: Uint8Array; subject: string; seq: number }): RecordedEvent {
    const event = JSON.parse(this.decoder.decode(msg.data)) as RecordedEvent;
    let stream = this.streamOfSubject.get(msg.subject);
    if (stream === undefined) {
      stream = this.names.streamOfSubject(msg.subject) ?? msg.subject;
      if (this.streamOfSubject.size >= REF_CACHE_LIMIT) this.streamOfSubject.clear();
      this.streamOfSubject.set(msg.subject, stream);
    }
    event.stream = stream;
    event.position = msg.seq;
    return event;
  }

  /**
   * Reads `filter` in `jsStream` with an ordered consumer from `startSeq` until the message at `stopSeq`
   * (known to exist when the read started), the filter has nothing pending, or `onMsg` says stop.
   */
  private async readOrdered(jsStream: string, filter: string, startSeq: number, stopSeq: number, batch: number, onMsg: (m: JsMsg) => boolean): Promise<void> {
    let iter: Awaited<ReturnType<Awaited<ReturnType<JetStreamClient['consumers']['get']>>['consume']>> | undefined;
    let idle: NodeJS.Timeout | undefined;
    try {
      const consumer = await this.js.consumers.get(jsStream, {
        filter_subjects: filter,
        ...(startSeq > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq } : { deliver_policy: DeliverPolicy.All }),
      });
      const it = await consumer.consume({ max_messages: Math.max(1, Math.min(batch, READ_AHEAD)) });
      iter = it;
      // Messages removed by limits between "what is there" and the read would leave us waiting forever:
      // stop when nothing arrived for a whole readIdleMs. (A counter and one interval, not a timer re-armed
      // per message: that alone cost a third of the replay rate.)
      let seen = 0;
      let seenAtLastTick = -1;
      idle = setInterval(() => {
        if (seen === seenAtLastTick) void it.stop();
        seenAtLastTick = seen;
      }, this.settings.readIdleMs);
      for await (const m of it) {
        seen++;
        if (!onMsg(m) || m.seq >= stopSeq || m.info.pending === 0) break;
      }
    } catch (err) {
      if (apiCode(err) === JS_ERR.streamNotFound) return;
      throw translateReadError(err);
    } finally {
      clearInterval(idle);
      await iter?.close().catch(() => {});
    }
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.ensureOpen();
    const ref = this.ref(stream);
    const { jsStream, subject } = ref;
    const limit = checkLimit(options.limit);
    const direction = options.direction ?? 'forward';
    if (direction !== 'forward' && direction !== 'backward') throw new ConfigError(`readStream ${stream}: direction must be "forward" or "backward"`);
    if (options.fromVersion !== undefined && (!Number.isSafeInteger(options.fromVersion) || options.fromVersion < 0)) {
      throw new ConfigError(`readStream ${stream}: fromVersion must be an integer >= 0`);
    }
    const tip = await this.readTip(ref);
    if (tip.version === 0 || limit === 0) return [];
    const out: RecordedEvent[] = [];
    if (direction === 'forward') {
      const from = Math.max(1, options.fromVersion ?? 1);
      if (from > tip.version) return [];
      await this.readOrdered(jsStream, subject, 1, tip.seq, Math.min(limit, tip.version), (m) => {
        const e = this.decode(m);
        if (e.version >= from) out.push(e);
        return out.length < limit && e.version < tip.version;
      });
      return out;
    }
    // Backward: JetStream consumers only go forward; read up to the highest wanted version and reverse.
    const hi = Math.min(options.fromVersion ?? tip.version, tip.version);
    if (hi < 1) return [];
    await this.readOrdered(jsStream, subject, 1, tip.seq, hi, (m) => {
      const e = this.decode(m);
      if (e.version <= hi) out.push(e);
      return e.version < hi;
    });
    return out.reverse().slice(0, limit);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.ensureOpen();
    if (options.category === undefined) {
      throw new CapabilityError(
        'globalOrder',
        'readAll: JetStream orders events per stream only (one JetStream stream per category): pass options.category',
      );
    }
    const category = checkCategory(options.category);
    const limit = checkLimit(options.limit);
    const from = options.fromPosition ?? 0;
    if (!Number.isSafeInteger(from) || from < 0) throw new ConfigError('readAll: fromPosition must be an integer >= 0');
    const jsStream = this.names.categoryStream(category);
    let lastSeq: number;
    try {
      lastSeq = (await this.jsm.streams.info(jsStream)).state.last_seq;
    } catch (err) {
      if (apiCode(err) === JS_ERR.streamNotFound) return [];
      throw translateReadError(err);
    }
    if (lastSeq <= from || limit === 0) return [];
    const out: RecordedEvent[] = [];
    const cursor = await this.cursorFor(jsStream, this.names.categoryFilter(category), from + 1, Math.min(limit, lastSeq - from));
    try {
      await cursor.read(lastSeq, this.settings.readIdleMs, (m) => {
        out.push(this.decode(m));
        return out.length < limit;
      });
    } catch (err) {
      if (apiCode(err) === JS_ERR.streamNotFound) return out;
      throw translateReadError(err);
    } finally {
      this.releaseCursor(jsStream, cursor);
    }
    return out;
  }

  /** The cached cursor of `jsStream` when it stands exactly at `startSeq` and is free, else a new one. */
  private async cursorFor(jsStream: string, filter: string, startSeq: number, buffer: number): Promise<CategoryCursor> {
    const cached = this.cursors.get(jsStream);
    if (cached && !cached.busy) {
      if (!cached.dead && cached.nextSeq === startSeq) {
        cached.busy = true;
        return cached;
      }
      this.cursors.delete(jsStream);
      void cached.close();
    }
    const cursor = await CategoryCursor.open(this.js, jsStream, filter, startSeq, buffer).catch((err) =>
      Promise.reject(apiCode(err) === JS_ERR.streamNotFound ? err : translateReadError(err)),
    );
    cursor.busy = true;
    if (!this.cursors.has(jsStream)) this.cursors.set(jsStream, cursor);
    return cursor;
  }

  private releaseCursor(jsStream: string, cursor: CategoryCursor): void {
    cursor.busy = false;
    if (cursor.dead || this.cursors.get(jsStream) !== cursor || this.closing) {
      if (this.cursors.get(jsStream) === cursor) this.cursors.delete(jsStream);
      void cursor.close();
      return;
    }
    cursor.expireIn(CURSOR_IDLE_MS, () => {
      if (this.cursors.get(jsStream) === cursor && !cursor.busy) {
        this.cursors.delete(jsStream);
        void cursor.close();
      }
    });
  }

  // -------------------------------------------------------------------------------------------------
  // Subscriptions and dead letters
  // -------------------------------------------------------------------------------------------------

  async subscribe(name: string, handler: EventHandler, options: SubscriptionOptions = {}): Promise<Subscription> {
    this.ensureOpen();
    checkSubscriptionName(name);
    if (typeof handler !== 'function') throw new ConfigError(`subscribe ${name}: handler must be a function`);
    if (options.category === undefined) {
      throw new CapabilityError(
        'globalOrder',
        `subscribe ${name}: JetStream has one stream per category and no order across them: pass options.category`,
      );
    }
    const category = checkCategory(options.category);
    if (options.deadLetter !== undefined) subjectToken(options.deadLetter, 'deadLetter');
    await Promise.all([this.ensureCategory(category), this.ensureDeadLetters()]);
    const deps: SubscriptionDeps = {
      nc: this.nc,
      js: this.js,
      jsm: this.jsm,
      jsStream: this.names.categoryStream(category),
      filter: this.names.categoryFilter(category),
      deadLetterSubject: this.names.deadLetterSubject(options.deadLetter ?? name),
      decode: (m) => this.decode(m),
      publishTimeoutMs: this.settings.publishTimeoutMs,
      onClosed: (s) => this.subscriptions.delete(s),
    };
    const sub = await openSubscription(deps, name, handler, options);
    this.subscriptions.add(sub);
    return sub;
  }

  async deleteSubscription(name: string, options: { category?: string } = {}): Promise<boolean> {
    this.ensureOpen();
    checkSubscriptionName(name);
    if (options.category === undefined) {
      throw new CapabilityError('globalOrder', `deleteSubscription ${name}: a subscription's durable consumer lives in its category's stream: pass options.category`);
    }
    const category = checkCategory(options.category);
    if ([...this.subscriptions].some((s) => s.name === name)) {
      throw new ConfigError(`deleteSubscription ${name}: a consumer of it is still open; close it first`);
    }
    try {
      // The durable consumer is the subscription's whole server-side state; its dead letters stay.
      return await this.jsm.consumers.delete(this.names.categoryStream(category), name);
    } catch (err) {
      const code = apiCode(err);
      if (code === JS_ERR.consumerNotFound || code === JS_ERR.streamNotFound) return false;
      throw translateReadError(err);
    }
  }

  async readDeadLetters(subscription: string): Promise<DeadLetter[]> {
    this.ensureOpen();
    const subject = this.names.deadLetterSubject(subjectToken(subscription, 'subscription'));
    const jsStream = this.names.deadLetterStream;
    let last: StoredMsg | null;
    try {
      last = await this.jsm.streams.getMessage(jsStream, { last_by_subj: subject });
    } catch (err) {
      if (apiCode(err) === JS_ERR.streamNotFound) return [];
      throw translateReadError(err);
    }
    if (!last) return [];
    const out: DeadLetter[] = [];
    await this.readOrdered(jsStream, subject, 1, last.seq, 1000, (m) => {
      out.push(JSON.parse(this.decoder.decode(m.data)) as DeadLetter);
      return true;
    });
    return out;
  }

  async storageStats(): Promise<StorageStats> {
    this.ensureOpen();
    const detail: Record<string, number> = {};
    let events = 0;
    let bytes = 0;
    try {
      for await (const si of this.jsm.streams.list(`${this.names.namespace}.>`)) {
        if (!si.config.name.startsWith(`${this.names.namespace}-`)) continue;
        detail[`${si.config.name}.bytes`] = si.state.bytes;
        detail[`${si.config.name}.messages`] = si.state.messages;
        if (si.config.name === this.names.deadLetterStream) continue;
        events += si.state.messages;
        bytes += si.state.bytes;
      }
    } catch (err) {
      throw translateReadError(err);
    }
    return { events, bytes, detail };
  }
}

function matches(expected: ExpectedVersion, tip: Tip): boolean {
  if (expected === 'any') return true;
  if (expected === 'exists') return tip.version > 0;
  if (expected === 'no_stream') return tip.version === 0;
  return tip.version === expected;
}

function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new ConfigError('limit must be an integer >= 0');
  return limit;
}

/** Spreads out writers that keep losing the same race (`any` / `exists` under contention). */
function jitter(attempt: number): Promise<void> {
  const ms = Math.min(50, attempt) * Math.random();
  return new Promise((resolve) => setTimeout(resolve, ms));
}

