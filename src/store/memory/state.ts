/**
 * The data of one memory namespace. Stores opened with the same namespace in one process share it, so two
 * store instances behave like two processes talking to one server: competing consumers, and a re-opened
 * store resuming a subscription from its checkpoint.
 *
 * Events are kept as the JSON text `prepareAppend` produced and parsed on every read: reads are byte-exact
 * and no caller can mutate what is stored (neither through the object it appended nor one it read).
 */
import type { DeadLetter, RecordedEvent } from '../../core/event-store.ts';

export interface StoredEvent {
  readonly position: number;
  readonly stream: string;
  readonly id: string;
  readonly type: string;
  readonly timestamp: string;
  readonly correlationId: string;
  readonly causationId: string | undefined;
  readonly aggregateId: string;
  readonly aggregateType: string;
  readonly version: number;
  readonly dataJson: string;
  readonly metadataJson: string;
  /** Serialised size: data + metadata JSON plus the envelope's other fields. */
  readonly bytes: number;
  /** When it was stored (ms since epoch), only kept when the store has a finite idempotency window. */
  readonly storedAt: number;
}

export interface StreamState {
  /** Index i holds version i + 1. */
  readonly events: StoredEvent[];
  readonly category: string;
  /** The category's events (shared with NamespaceState.byCategory): no second lookup per append. */
  readonly categoryEvents: StoredEvent[];
}

/** An event a subscription has handed out and not yet acknowledged (or that waits for its retry). */
export interface PendingDelivery {
  readonly event: StoredEvent;
  /** Handler calls so far. */
  attempts: number;
  /** The subscriber holding the delivery, or null when it is free to be (re)delivered. */
  holder: number | null;
  /** Unique per claim: a late verdict from an older claim (expired lease, closed subscriber) is ignored. */
  deliveryId: number;
  /** When the holder's lease expires (ackWait from the handler's start), ms since epoch. */
  leaseUntil: number;
  /** Not before this time (backoff), ms since epoch. */
  retryAt: number;
}

/** One attached subscriber as its competitors see it. */
export interface ConsumerHandle {
  /** Schedules the subscriber's next look for work. */
  wake(): void;
  /** Its claimed deliveries (at most maxInFlight): scanned by the others for expired leases. */
  readonly claimed: Map<number, PendingDelivery>;
}

/** A durable subscription: its cursor, the unacknowledged deliveries and the subscribers attached to it. */
export interface SubscriptionState {
  readonly name: string;
  readonly category: string | undefined;
  /** How many events of the subscription's source (all events, or its category's) were handed out. */
  index: number;
  /** Every unacknowledged delivery by position (claimed, waiting for a retry, or freed). */
  readonly pending: Map<number, PendingDelivery>;
  /** Freed deliveries to hand out at once (their subscriber closed or its lease expired). */
  readonly ready: PendingDelivery[];
  /** Deliveries waiting for their retry time, earliest first. */
  readonly retries: RetryHeap;
  /** Earliest time a claimed delivery's lease may expire (a lower bound); Infinity = none claimed. */
  leaseCheckAt: number;
  /** Subscribers attached by id. One that vanished without close() stays, so its leases can expire. */
  readonly consumers: Map<number, ConsumerHandle>;
}

/** A binary min-heap of deliveries by retryAt: O(log n) however many events are failing. */
export class RetryHeap {
  private readonly items: PendingDelivery[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): PendingDelivery | undefined {
    return this.items[0];
  }

  push(entry: PendingDelivery): void {
    const a = this.items;
    a.push(entry);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]!.retryAt <= entry.retryAt) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = entry;
  }

  pop(): PendingDelivery | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const child = r < a.length && a[r]!.retryAt < a[l]!.retryAt ? r : l;
      if (a[child]!.retryAt >= last.retryAt) break;
      a[i] = a[child]!;
      i = child;
    }
    a[i] = last;
    return top;
  }
}

export interface NamespaceState {
  readonly name: string;
  /** Index i holds position i + 1. */
  readonly all: StoredEvent[];
  readonly streams: Map<string, StreamState>;
  readonly byCategory: Map<string, StoredEvent[]>;
  /** Event id -> the stored event, for idempotent appends (remembered for the idempotency window; default forever). */
  readonly ids: Map<string, StoredEvent>;
  readonly subscriptions: Map<string, SubscriptionState>;
  readonly deadLetters: Map<string, StoredDeadLetter[]>;
  bytes: number;
}

export interface StoredDeadLetter extends Omit<DeadLetter, 'event'> {
  event: StoredEvent;
}

const namespaces = new Map<string, NamespaceState>();

export function namespaceState(name: string): { state: NamespaceState; created: boolean } {
  const existing = namespaces.get(name);
  if (existing) return { state: existing, created: false };
  const state: NamespaceState = {
    name,
    all: [],
    streams: new Map(),
    byCategory: new Map(),
    ids: new Map(),
    subscriptions: new Map(),
    deadLetters: new Map(),
    bytes: 0,
  };
  namespaces.set(name, state);
  return { state, created: true };
}

export function hasNamespace(name: string): boolean {
  return namespaces.has(name);
}

/** Forgets a namespace's data (tests and benchmarks that write millions of events free the memory). */
export function dropNamespace(name: string): boolean {
  return namespaces.delete(name);
}

/** A fresh object graph for the reader: parsed from the stored JSON every time. */
export function toRecorded(e: StoredEvent): RecordedEvent {
  const recorded: RecordedEvent = {
    id: e.id,
    type: e.type,
    timestamp: e.timestamp,
    correlationId: e.correlationId,
    aggregateId: e.aggregateId,
    aggregateType: e.aggregateType,
    version: e.version,
    data: JSON.parse(e.dataJson) as unknown,
    metadata: JSON.parse(e.metadataJson) as Record<string, unknown>,
    stream: e.stream,
    position: e.position,
  };
  if (e.causationId !== undefined) recorded.causationId = e.causationId;
  return recorded;
}

/** Index of the first event with position > `after` in a position-sorted array. */
export function firstAfter(events: readonly StoredEvent[], after: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid]!.position <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
