/**
 * The EventStore contract: the one interface every backend implements and the shared contract suite
 * (test/contract/event-store-contract.ts) tests. Nothing else in eventbench redefines it.
 *
 * Shape follows Emmett (`appendToStream` / `readStream` with an expected version) and the event envelope
 * of docs/envelope.md. What a backend cannot guarantee is declared in `capabilities`, never faked.
 */
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------------

/**
 * A stream name is `<category>-<id>` (the EventStoreDB / Emmett convention): the category is the text
 * before the first `-`. Only `[A-Za-z0-9_-]`, so every name is also one valid NATS subject token pair.
 */
export const STREAM_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}-[A-Za-z0-9_-]{1,120}$/;

/** Event types are dotted lower-case words (`case.intake`, `billing.invoice.issued`, `document.uploaded`). */
export const EVENT_TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*){0,7}$/;

/** Subscription names become PostgreSQL keys and JetStream durable names: no dots, spaces or wildcards. */
export const SUBSCRIPTION_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export const CATEGORY_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

// ---------------------------------------------------------------------------------------------------
// The event envelope (docs/envelope.md: `DomainEvent<T>` of the billing design plus free metadata): the
// zod schema is the source.
// ---------------------------------------------------------------------------------------------------

const jsonObject = z.record(z.string(), z.unknown());

/** The envelope as stored and read back. `version` is the stream version after this event. */
export const EventEnvelopeSchema = z.object({
  id: z.string().min(1).max(128),
  type: z.string().regex(EVENT_TYPE_PATTERN, 'event type must be dotted words, e.g. "case.intake"'),
  timestamp: z.string().min(1),
  correlationId: z.string().min(1).max(128),
  causationId: z.string().min(1).max(128).optional(),
  aggregateId: z.string().min(1).max(128),
  aggregateType: z.string().min(1).max(64),
  version: z.number().int().positive(),
  data: z.unknown(),
  metadata: jsonObject.default({}),
});
export type EventEnvelope<TData = unknown> = Omit<z.infer<typeof EventEnvelopeSchema>, 'data'> & {
  data: TData;
};

/**
 * What a writer hands to `appendToStream`. `version`, `aggregateId` and `aggregateType` are assigned by
 * the store from the stream (aggregateType = category, aggregateId = id part) unless given;
 * `timestamp` defaults to the append time and is stored exactly as given.
 */
export const NewEventSchema = z.object({
  id: z.string().min(1).max(128),
  type: z.string().regex(EVENT_TYPE_PATTERN, 'event type must be dotted words, e.g. "case.intake"'),
  data: z.unknown(),
  metadata: jsonObject.optional(),
  timestamp: z.string().min(1).optional(),
  correlationId: z.string().min(1).max(128).optional(),
  causationId: z.string().min(1).max(128).optional(),
  aggregateId: z.string().min(1).max(128).optional(),
  aggregateType: z.string().min(1).max(64).optional(),
});
export type NewEvent<TData = unknown> = Omit<z.infer<typeof NewEventSchema>, 'data'> & { data: TData };

/** An event as read back: the envelope plus where it lives. */
export interface RecordedEvent<TData = unknown> extends EventEnvelope<TData> {
  /** The stream (`<category>-<id>`) the event belongs to. */
  stream: string;
  /** Position in the store's global order (or in the category's order when `globalOrder` is false). */
  position: number;
}

// ---------------------------------------------------------------------------------------------------
// Expected versions and results
// ---------------------------------------------------------------------------------------------------

/**
 * Optimistic concurrency: a number (the stream's current version must equal it; 0 = empty stream),
 * `no_stream` (must not exist), `exists` (must exist), `any` (no check).
 */
export type ExpectedVersion = number | 'no_stream' | 'exists' | 'any';

export interface AppendOptions {
  expectedVersion?: ExpectedVersion;
  /**
   * Demand that all events of the call land atomically. A backend without `atomicMultiAppend`
   * refuses such a call with `CapabilityError` instead of pretending.
   */
  requireAtomic?: boolean;
}

export interface AppendResult {
  /** The stream version after the append (the version of the last event). */
  streamVersion: number;
  /** Global (or category) positions of the appended events, in order. */
  positions: number[];
  /** True when every event id was already stored in this stream: nothing new was written. */
  duplicate: boolean;
}

export interface ReadStreamOptions {
  /** Forward: the first version returned (default 1). Backward: the highest version returned (default last). */
  fromVersion?: number;
  limit?: number;
  direction?: 'forward' | 'backward';
}

export interface ReadAllOptions {
  /** Exclusive: events with `position > fromPosition` (default 0 = from the start). */
  fromPosition?: number;
  limit?: number;
  /** Restrict to one category. Required where `capabilities.globalOrder` is false. */
  category?: string;
}

// ---------------------------------------------------------------------------------------------------
// Subscriptions
// ---------------------------------------------------------------------------------------------------

export interface DeliveryContext {
  subscription: string;
  /** 1 on the first delivery, 2 on the first retry, ... */
  attempt: number;
}

export type EventHandler = (event: RecordedEvent, context: DeliveryContext) => Promise<void> | void;

/** A subscription's options; the defaults and where they come from: docs/streams-and-consumers.md §Subscription defaults. */
export interface SubscriptionOptions {
  /** Only events of this category. Required where `capabilities.globalOrder` is false. */
  category?: string;
  /** Where a subscription seen for the first time starts (default `start`). A known one resumes from its checkpoint. */
  from?: 'start' | 'end';
  /** Deliveries before an event goes to the dead-letter destination (default 5). */
  maxDeliver?: number;
  /** Delay before each redelivery, ms; the last value repeats (default [100, 500, 2000]). */
  backoffMs?: number[];
  /** An unacknowledged delivery is redelivered after this long (default 30 s). */
  ackWaitMs?: number;
  /** Most deliveries outstanding at once for this consumer (default 100). */
  maxInFlight?: number;
  /** Events fetched per batch (default min(maxInFlight, 100)). */
  batchSize?: number;
  /**
   * Handlers this subscriber runs at once (default 1, at most `batchSize`). Events of one stream are still
   * handled one at a time in position order; above 1, events of different streams are handled side by side
   * and may finish out of order (a handler that needs one order over the whole category keeps 1).
   */
  concurrency?: number;
  /** Where dead letters go (default `<name>`'s dead-letter store). */
  deadLetter?: string;
  /**
   * `close()` waits this long for handlers in flight (default 5000 ms), then returns without
   * acknowledging them: they are redelivered to the next subscriber of the same name (after `ackWaitMs`
   * where the backend needs it). This is also how the contract suite simulates a consumer dying mid-batch.
   */
  closeTimeoutMs?: number;
}

export interface Subscription extends AsyncDisposable {
  readonly name: string;
  /** Events the subscription has not yet acknowledged (consumer lag / queue depth). */
  lag(): Promise<number>;
  /** Stops fetching, waits for handlers in flight (bounded), releases resources. Idempotent. */
  close(): Promise<void>;
  /**
   * The subscription as the server holds it (JetStream: the durable consumer's name and config, from
   * consumer info), for results to say what ran. Absent where the server keeps no such settings.
   */
  serverSettings?(): Promise<SubscriptionServerSettings>;
}

/** A subscription's settings read back from the server (`Subscription.serverSettings`). */
export interface SubscriptionServerSettings {
  name: string;
  /** Deliveries handed out and not yet acknowledged, at most (JetStream `max_ack_pending`). */
  maxAckPending: number;
  ackWaitMs: number;
  maxDeliver: number;
}

export interface DeadLetter {
  subscription: string;
  event: RecordedEvent;
  deliveries: number;
  reason: string;
  at: string;
}

// ---------------------------------------------------------------------------------------------------
// Capabilities
// ---------------------------------------------------------------------------------------------------

/** What a backend guarantees. Every report shows these; the contract suite turns `false` into "refuses clearly". */
export interface Capabilities {
  /** All events of one append land together or not at all. */
  atomicMultiAppend: boolean;
  /** `readAll` without a category gives one total order over all streams. */
  globalOrder: boolean;
  /** How long an event id is remembered for deduplication; `null` = forever. */
  idempotencyWindowMs: number | null;
  /** Several processes can share one subscription name and split its events. */
  competingConsumers: boolean;
  /** Under competing consumers, one stream's events are still handled in version order. */
  orderedCompetingConsumers: boolean;
  /** Largest event (serialised envelope) the backend accepts, bytes. */
  maxEventBytes: number;
}

export type CapabilityName = keyof Capabilities;

// ---------------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------------

export interface StorageStats {
  /** Events stored (as the backend counts them). */
  events: number;
  /** Bytes on disk or in memory for those events, including indexes where the backend has them. */
  bytes: number;
  /** Backend-specific breakdown (relation sizes, WAL bytes, stream bytes, ...). */
  detail: Record<string, number>;
}

export interface EventStore extends AsyncDisposable {
  /** Backend name as in the factory (`memory`, `postgres`, `jetstream`, ...). */
  readonly backend: string;
  readonly capabilities: Capabilities;

  /** Creates what the store needs (schema, streams). Idempotent. */
  init(): Promise<void>;

  /**
   * Appends events to one stream with optimistic concurrency. Versions are contiguous from 1.
   * Throws `VersionConflictError` (with the actual version), `DuplicateEventError`, `StoreUnavailableError`,
   * `OutcomeUnknownError`, `PartialAppendError` (non-atomic backends), `CapabilityError`, `ConfigError`.
   */
  appendToStream(stream: string, events: NewEvent[], options?: AppendOptions): Promise<AppendResult>;

  /**
   * A stream's events in version order, exactly as written. An absent stream reads as `[]`. A `direction`
   * other than forward / backward, or a `fromVersion` / `limit` that is not an integer >= 0, is a
   * `ConfigError` before any server is asked (`checkReadStreamOptions`, the same on every backend).
   */
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;

  /**
   * Every event exactly once, by strictly increasing position. A `fromPosition` / `limit` that is not an
   * integer >= 0, or a bad category, is a `ConfigError` before any server is asked (`checkReadAllOptions`).
   */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;

  /** The current version of a stream, 0 when it does not exist (the server is the judge, not a cache). */
  streamVersion(stream: string): Promise<number>;

  /** Durable, checkpointed, at-least-once subscription; competing consumers share a name. */
  subscribe(name: string, handler: EventHandler, options?: SubscriptionOptions): Promise<Subscription>;

  /**
   * Forgets a durable subscription: its checkpoint and claims (on JetStream its durable consumer), so a
   * later `subscribe` of the name starts anew. Its audit trail and dead letters stay. `category` as given to
   * `subscribe` (JetStream finds the consumer by it). Refused (`ConfigError`) while this store has a
   * consumer of the name open. Resolves false when there was no such subscription.
   */
  deleteSubscription(name: string, options?: { category?: string }): Promise<boolean>;

  /** Events a subscription gave up on after `maxDeliver`, with reason and delivery count. */
  readDeadLetters(subscription: string): Promise<DeadLetter[]>;

  /** Storage used by this store's events (for bytes-per-event in reports). */
  storageStats(): Promise<StorageStats>;

  /**
   * Closes connections, timers and subscriptions. Idempotent. Every other method of a closed (or closing)
   * store rejects with `StoreUnavailableError` (`closedStoreError`): the store serves nothing more, and
   * nothing was written.
   */
  close(): Promise<void>;
}

/**
 * What every method of a closed store throws: `StoreUnavailableError` (not `ConfigError`) because the
 * store is sound and was used after its owner shut it down, as in-flight work does during a shutdown.
 */
export function closedStoreError(backend: string, namespace: string): StoreUnavailableError {
  return new StoreUnavailableError(`the ${backend} store (namespace ${namespace}) is closed`);
}

// ---------------------------------------------------------------------------------------------------
// Errors: few and typed; adapters translate driver errors at their boundary and keep them as `cause`.
// ---------------------------------------------------------------------------------------------------

export abstract class EventStoreError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The stream was not at the expected version. Carries what was expected and what it actually is. */
export class VersionConflictError extends EventStoreError {
  readonly code = 'version_conflict';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedVersion,
    readonly actual: number,
    options?: { cause?: unknown },
  ) {
    super(`stream ${stream}: expected version ${String(expected)}, actual ${actual}`, options);
  }
}

/** An event id was already stored in a way that makes the append ambiguous (some ids new, some old, or another stream). */
export class DuplicateEventError extends EventStoreError {
  readonly code = 'duplicate_event';
  constructor(
    readonly stream: string,
    readonly eventIds: string[],
    options?: { cause?: unknown },
  ) {
    super(`stream ${stream}: event id(s) already stored: ${eventIds.slice(0, 5).join(', ')}`, options);
  }
}

/**
 * The server could not be reached or refused service, or the store was closed; nothing was written. Safe
 * to retry (on a closed store: with another store).
 */
export class StoreUnavailableError extends EventStoreError {
  readonly code = 'unavailable';
}

/**
 * The client cannot know whether the write happened (e.g. a timeout after the request was sent).
 * Retrying with the same event ids is safe within the idempotency window.
 */
export class OutcomeUnknownError extends EventStoreError {
  readonly code = 'outcome_unknown';
  constructor(
    readonly stream: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`stream ${stream}: ${message}`, options);
  }
}

/**
 * A non-atomic multi-event append stopped part-way: `appended` events (from the first) are stored,
 * the rest are not (or, with an `OutcomeUnknownError` cause, the first unstored one is unknown).
 */
export class PartialAppendError extends EventStoreError {
  readonly code = 'partial_append';
  constructor(
    readonly stream: string,
    readonly appended: number,
    readonly total: number,
    readonly positions: number[],
    options: { cause: unknown },
  ) {
    super(`stream ${stream}: ${appended} of ${total} events appended before: ${String((options.cause as Error)?.message ?? options.cause)}`, options);
  }
}

/** Bad input or configuration (stream name, event type, payload, options). Nothing was written. */
export class ConfigError extends EventStoreError {
  readonly code: string = 'config';
}

/** The backend does not offer what the call demands (a `false` capability). Nothing was written. */
export class CapabilityError extends ConfigError {
  override readonly code = 'unsupported';
  constructor(
    readonly capability: CapabilityName,
    message: string,
  ) {
    super(message);
  }
}

export function isEventStoreError(err: unknown): err is EventStoreError {
  return err instanceof EventStoreError;
}
