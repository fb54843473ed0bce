/**
 * Event schema versions and upcasters (as Emmett's versioning does): an event type's `data` can change
 * shape over time; stored events keep the shape they were written with, and readers see the current shape
 * because each older version is turned into the next one on read, step by step.
 *
 * The schema version an event was written with is `metadata.schemaVersion` (absent = 1): writers stamp it
 * (`stampSchemaVersion`), the envelope itself stays as docs/envelope.md defines it. `withUpcasting` wraps
 * any EventStore so that readStream, readAll, subscriptions and dead letters hand out current versions; the
 * stored events are never rewritten. What this costs in a catch-up: `npm run bench:upcasting`.
 */
import { ConfigError, type EventStore, type NewEvent, type RecordedEvent } from './event-store.ts';

/** The metadata key that holds an event's schema version. */
export const SCHEMA_VERSION_KEY = 'schemaVersion';

/** One step: `data` of schema version `from` of `type` -> version `from + 1`. */
export interface Upcaster<From = unknown, To = unknown> {
  type: string;
  from: number;
  upcast(data: From, event: RecordedEvent): To;
}

export interface UpcasterChain {
  /** The current schema version of a type: 1 + its number of steps. */
  current(type: string): number;
  /** The event at its type's current version: the same object when it is current already, else a new one. */
  upcast(event: RecordedEvent): RecordedEvent;
}

/** The schema version an event says it was written with (1 when it says nothing). */
export function schemaVersionOf(event: { metadata?: Record<string, unknown> }): number {
  const v = event.metadata?.[SCHEMA_VERSION_KEY];
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : 1;
}

/**
 * Checks the steps once: per type they must run 1 -> 2 -> ... with no gap and no step twice, so every
 * stored version has exactly one way to the current one.
 */
export function createUpcasterChain(upcasters: readonly Upcaster<never, unknown>[]): UpcasterChain {
  const byType = new Map<string, Upcaster<never, unknown>[]>();
  for (const u of upcasters) {
    if (typeof u?.upcast !== 'function' || typeof u.type !== 'string' || !Number.isInteger(u.from) || u.from < 1) {
      throw new ConfigError('an upcaster needs { type, from (an integer >= 1), upcast(data, event) }');
    }
    const steps = byType.get(u.type) ?? [];
    if (steps[u.from - 1]) throw new ConfigError(`${u.type}: two upcasters from version ${u.from}`);
    steps[u.from - 1] = u;
    byType.set(u.type, steps);
  }
  for (const [type, steps] of byType) {
    for (let i = 0; i < steps.length; i++) {
      if (!steps[i]) throw new ConfigError(`${type}: no upcaster from version ${i + 1} (steps must run 1 -> 2 -> ... without a gap)`);
    }
  }
  const current = (type: string): number => (byType.get(type)?.length ?? 0) + 1;
  return {
    current,
    upcast(event) {
      const steps = byType.get(event.type);
      if (!steps) return event;
      let version = schemaVersionOf(event);
      if (version >= steps.length + 1) return event;
      let data = event.data;
      for (; version <= steps.length; version++) data = (steps[version - 1]!.upcast as (d: unknown, e: RecordedEvent) => unknown)(data, event);
      return { ...event, data, metadata: { ...event.metadata, [SCHEMA_VERSION_KEY]: version } };
    },
  };
}

/** The event as a writer at the current schema version appends it: `metadata.schemaVersion` set. */
export function stampSchemaVersion(chain: UpcasterChain, event: NewEvent): NewEvent {
  return { ...event, metadata: { ...event.metadata, [SCHEMA_VERSION_KEY]: chain.current(event.type) } };
}

/** `store` with every event it hands out at its current schema version. Writes pass through unchanged. */
export function withUpcasting(store: EventStore, chain: UpcasterChain): EventStore {
  const up = (events: RecordedEvent[]): RecordedEvent[] => events.map((e) => chain.upcast(e));
  const wrapped: EventStore = {
    get backend() {
      return store.backend;
    },
    get capabilities() {
      return store.capabilities;
    },
    init: () => store.init(),
    appendToStream: (stream, events, options) => store.appendToStream(stream, events, options),
    readStream: async (stream, options) => up(await store.readStream(stream, options)),
    readAll: async (options) => up(await store.readAll(options)),
    streamVersion: (stream) => store.streamVersion(stream),
    subscribe: (name, handler, options) => store.subscribe(name, (event, context) => handler(chain.upcast(event), context), options),
    deleteSubscription: (name, options) => store.deleteSubscription(name, options),
    readDeadLetters: async (subscription) => (await store.readDeadLetters(subscription)).map((d) => ({ ...d, event: chain.upcast(d.event) })),
    storageStats: () => store.storageStats(),
    close: () => store.close(),
    [Symbol.asyncDispose]: () => store.close(),
  };
  return wrapped;
}
