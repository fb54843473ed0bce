/**
 * The memory backend: the whole EventStore contract in-process. It is the executable spec and the
 * harness's ceiling (what eventbench reaches with no server in the way), so the append path does the
 * validation every backend does (`prepareAppend`) and little else: no copies beyond the JSON text, no
 * extra async hops. Everything an append does happens synchronously, so one append is atomic and
 * concurrent appends are serialised by the event loop.
 */
import {
  ConfigError,
  DuplicateEventError,
  VersionConflictError,
  closedStoreError,
  type AppendOptions,
  type AppendResult,
  type Capabilities,
  type DeadLetter,
  type EventEnvelope,
  type EventHandler,
  type EventStore,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StorageStats,
  type Subscription,
  type SubscriptionOptions,
} from '../../core/event-store.ts';
import {
  checkCategory,
  checkExpectedVersion,
  checkReadAllOptions,
  checkReadStreamOptions,
  checkSubscriptionName,
  matchesExpectedVersion,
  parseStreamName,
  prepareAppend,
} from '../../core/validate.ts';
import {
  firstAfter,
  namespaceState,
  RetryHeap,
  toRecorded,
  type NamespaceState,
  type StoredEvent,
} from './state.ts';
import { memoryDescriptor } from './descriptor.ts';
import { consumerSettings, startConsumer, wakeSubscribers } from './subscription.ts';

/** 4 MiB: generous for an in-process store, and the order of JetStream's / PostgreSQL's practical limits. */
export const MEMORY_MAX_EVENT_BYTES = 4 * 1024 * 1024;

/** What the memory backend declares with default options (the idempotency window and size limit are settable). */
export const MEMORY_CAPABILITIES: Readonly<Capabilities> = Object.freeze({
  atomicMultiAppend: true,
  globalOrder: true,
  idempotencyWindowMs: null,
  competingConsumers: true,
  orderedCompetingConsumers: false,
  maxEventBytes: MEMORY_MAX_EVENT_BYTES,
});

export interface MemoryStoreOptions {
  /** Stores with the same namespace in one process share their data. Default `eventbench`. */
  namespace?: string;
  /** Largest event accepted (serialised data + metadata + envelope allowance), bytes. Default 4 MiB. */
  maxEventBytes?: number;
  /** Clock for default event timestamps (tests). */
  now?: () => Date;
  /**
   * How long event ids are remembered for idempotent appends. Default `null` = forever; a number makes
   * the store behave like a server with a duplicate window (JetStream): a repeat after it is stored again.
   */
  idempotencyWindowMs?: number | null;
}

/**
 * Switches that exist only to prove the contract suite is not vacuous (test/contract): never exposed
 * through MemoryStoreOptions, the backend registry or the CLI.
 */
export interface MemoryStoreFaults {
  /** Skip the expected-version check (a store that "forgets" optimistic concurrency). */
  skipVersionCheck?: boolean;
  /** Skip the event-id check (a store that stores a retried append twice). */
  skipDuplicateCheck?: boolean;
  /** Treat a failed handler as acknowledged (no retry, no dead letter). */
  ackFailures?: boolean;
  /** A subscriber that finds no other subscriber attached starts over from the beginning (no durable checkpoint). */
  forgetCheckpoints?: boolean;
}

export function openMemoryStore(options: MemoryStoreOptions = {}, faults: MemoryStoreFaults = {}): EventStore {
  const namespace = options.namespace ?? 'eventbench';
  if (typeof namespace !== 'string' || namespace.length === 0) {
    throw new ConfigError(`memory store: namespace must be a non-empty string`);
  }
  // The settings' one rule (descriptor.ts), also for callers that open the store directly.
  const settings = memoryDescriptor.parseSettings({ maxEventBytes: options.maxEventBytes, idempotencyWindowMs: options.idempotencyWindowMs });
  const maxEventBytes = settings.maxEventBytes ?? MEMORY_MAX_EVENT_BYTES;
  const windowMs = settings.idempotencyWindowMs ?? null;
  const now = options.now;
  const ns: NamespaceState = namespaceState(namespace).state;
  const capabilities: Capabilities = Object.freeze({ ...MEMORY_CAPABILITIES, idempotencyWindowMs: windowMs, maxEventBytes });
  const subscriptions = new Set<Subscription>();
  let closed = false;

  const ensureOpen = (): void => {
    if (closed) throw closedStoreError('memory', namespace);
  };

  function append(stream: string, events: NewEvent[], options?: AppendOptions): AppendResult {
    ensureOpen();
    const expected = checkExpectedVersion(options?.expectedVersion);
    let state = ns.streams.get(stream);
    const currentVersion = state === undefined ? 0 : state.events.length;
    // Validates everything (names, types, JSON, size) before anything is looked at or written.
    const prepared = prepareAppend(stream, events, currentVersion + 1, maxEventBytes, now);

    // Idempotency before concurrency: a retry of a stored append succeeds whatever its expectedVersion.
    const storedAt = windowMs === null ? 0 : Date.now();
    let known: StoredEvent[] | undefined;
    for (const p of prepared) {
      const stored = ns.ids.get(p.envelope.id);
      if (stored !== undefined && (windowMs === null || storedAt - stored.storedAt < windowMs)) (known ??= []).push(stored);
    }
    if (known !== undefined && !faults.skipDuplicateCheck) {
      if (known.length === prepared.length && known.every((k) => k.stream === stream)) {
        return { streamVersion: known[known.length - 1]!.version, positions: known.map((k) => k.position), duplicate: true };
      }
      throw new DuplicateEventError(stream, known.map((k) => k.id));
    }

    if (!faults.skipVersionCheck && !matchesExpectedVersion(expected, currentVersion)) {
      throw new VersionConflictError(stream, expected, currentVersion);
    }

    if (state === undefined) {
      // prepareAppend has validated the name: the category is the text before the first dash.
      const category = stream.slice(0, stream.indexOf('-'));
      let categoryEvents = ns.byCategory.get(category);
      if (categoryEvents === undefined) {
        categoryEvents = [];
        ns.byCategory.set(category, categoryEvents);
      }
      state = { events: [], category, categoryEvents };
      ns.streams.set(stream, state);
    }
    const { events: streamEvents, categoryEvents } = state;
    const positions: number[] = [];
    for (const p of prepared) {
      const e = p.envelope;
      const stored: StoredEvent = {
        position: ns.all.length + 1,
        stream,
        id: e.id,
        type: e.type,
        timestamp: e.timestamp,
        correlationId: e.correlationId,
        causationId: e.causationId,
        aggregateId: e.aggregateId,
        aggregateType: e.aggregateType,
        version: e.version,
        dataJson: p.dataJson,
        metadataJson: p.metadataJson,
        bytes: p.bytes - 256 + envelopeBytes(stream, e),
        storedAt,
      };
      ns.all.push(stored);
      streamEvents.push(stored);
      categoryEvents.push(stored);
      ns.ids.set(stored.id, stored);
      ns.bytes += stored.bytes;
      positions.push(stored.position);
    }
    if (ns.subscriptions.size > 0) wakeSubscribers(ns, state.category);
    return { streamVersion: streamEvents.length, positions, duplicate: false };
  }

  function readStream(stream: string, options?: ReadStreamOptions): RecordedEvent[] {
    ensureOpen();
    parseStreamName(stream);
    const { direction, fromVersion, limit } = checkReadStreamOptions(stream, options);
    const events = ns.streams.get(stream)?.events ?? [];
    const out: RecordedEvent[] = [];
    if (direction === 'forward') {
      const from = fromVersion ?? 1;
      for (let i = Math.max(from, 1) - 1; i < events.length && out.length < limit; i++) out.push(toRecorded(events[i]!));
    } else {
      const from = fromVersion ?? events.length;
      for (let i = Math.min(from, events.length) - 1; i >= 0 && out.length < limit; i--) out.push(toRecorded(events[i]!));
    }
    return out;
  }

  function readAll(options?: ReadAllOptions): RecordedEvent[] {
    ensureOpen();
    const { fromPosition: from, limit, category } = checkReadAllOptions(options);
    const out: RecordedEvent[] = [];
    if (category === undefined) {
      for (let i = from; i < ns.all.length && out.length < limit; i++) out.push(toRecorded(ns.all[i]!));
    } else {
      const events = ns.byCategory.get(category) ?? [];
      for (let i = firstAfter(events, from); i < events.length && out.length < limit; i++) out.push(toRecorded(events[i]!));
    }
    return out;
  }

  async function subscribe(name: string, handler: EventHandler, options: SubscriptionOptions = {}): Promise<Subscription> {
    ensureOpen();
    checkSubscriptionName(name);
    if (typeof handler !== 'function') throw new ConfigError(`subscribe ${name}: handler must be a function`);
    const category = options.category === undefined ? undefined : checkCategory(options.category);
    const from = options.from ?? 'start';
    if (from !== 'start' && from !== 'end') {
      throw new ConfigError(`subscribe ${name}: from must be "start" or "end", got ${JSON.stringify(from)}`);
    }
    const settings = consumerSettings(name, options);
    let sub = ns.subscriptions.get(name);
    if (sub === undefined) {
      const startIndex = from === 'end' ? (category === undefined ? ns.all : (ns.byCategory.get(category) ?? [])).length : 0;
      sub = {
        name,
        category,
        index: startIndex,
        pending: new Map(),
        ready: [],
        retries: new RetryHeap(),
        leaseCheckAt: Infinity,
        consumers: new Map(),
      };
      ns.subscriptions.set(name, sub);
    } else if (sub.category !== category) {
      throw new ConfigError(
        `subscribe ${name}: the subscription exists with category ${JSON.stringify(sub.category ?? null)}, not ${JSON.stringify(category ?? null)}`,
      );
    } else if (faults.forgetCheckpoints && sub.consumers.size === 0) {
      sub.index = 0;
      sub.pending.clear();
    }
    const subscription = startConsumer(ns, sub, handler, settings, () => subscriptions.delete(subscription), {
      ackFailures: faults.ackFailures === true,
    });
    subscriptions.add(subscription);
    return subscription;
  }

  function deleteSubscription(name: string, options: { category?: string } = {}): boolean {
    ensureOpen();
    checkSubscriptionName(name);
    if (options.category !== undefined) checkCategory(options.category);
    const sub = ns.subscriptions.get(name);
    if (sub === undefined) return false;
    if (sub.consumers.size > 0) throw new ConfigError(`deleteSubscription ${name}: a consumer of it is still open; close it first`);
    ns.subscriptions.delete(name);
    return true;
  }

  function readDeadLetters(subscription: string): DeadLetter[] {
    ensureOpen();
    checkSubscriptionName(subscription);
    return (ns.deadLetters.get(subscription) ?? []).map((d) => ({ ...d, event: toRecorded(d.event) }));
  }

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.all([...subscriptions].map((s) => s.close()));
  };

  // Methods are plain functions returning settled promises: `async` wrappers would add nothing but a hop.
  const settle = <T>(fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  };

  return {
    backend: 'memory',
    capabilities,
    init: () => settle(ensureOpen),
    appendToStream: (stream, events, options) => settle(() => append(stream, events, options)),
    readStream: (stream, options) => settle(() => readStream(stream, options)),
    readAll: (options) => settle(() => readAll(options)),
    streamVersion: (stream) =>
      settle(() => {
        ensureOpen();
        parseStreamName(stream);
        return ns.streams.get(stream)?.events.length ?? 0;
      }),
    subscribe,
    deleteSubscription: (name, options) => settle(() => deleteSubscription(name, options)),
    readDeadLetters: (subscription) => settle(() => readDeadLetters(subscription)),
    storageStats: (): Promise<StorageStats> =>
      settle(() => {
        ensureOpen();
        return {
          events: ns.all.length,
          bytes: ns.bytes,
          detail: { streams: ns.streams.size, categories: ns.byCategory.size, subscriptions: ns.subscriptions.size },
        };
      }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** JSON size of the envelope fields other than data and metadata (keys, quotes, separators included). */
function envelopeBytes(stream: string, e: EventEnvelope): number {
  // 150: keys, braces, quotes, version and position digits: the fixed part of the serialised envelope.
  return (
    150 +
    Buffer.byteLength(stream) +
    Buffer.byteLength(e.id) +
    e.type.length + // event types are ASCII by their pattern
    Buffer.byteLength(e.timestamp) +
    Buffer.byteLength(e.correlationId) +
    (e.causationId === undefined ? 0 : Buffer.byteLength(e.causationId)) +
    Buffer.byteLength(e.aggregateId) +
    Buffer.byteLength(e.aggregateType)
  );
}
