/**
 * One subscriber of a memory subscription. The subscription's state (cursor, unacknowledged deliveries)
 * lives in the namespace and is shared by every subscriber of that name: they are competing consumers.
 *
 * Delivery: a subscriber claims up to `maxInFlight` (and `batchSize`) events and runs its handler on
 * them one at a time, in position order (as the PostgreSQL and JetStream subscribers do); parallelism
 * comes from competing subscribers, or with `concurrency` > 1 from up to that many handlers at once, one
 * per stream (a stream's events still one at a time, in claim order). Return = ack; throw = retry after `backoffMs[attempt - 1]` on any subscriber of the name
 * (later events go on meanwhile); after `maxDeliver` deliveries the event goes to the dead letters. A
 * delivery not acknowledged within `ackWaitMs` of its handler's start is handed out again (at-least-once).
 * `close()` waits at most `closeTimeoutMs` for the running handler, then frees it and the claimed events
 * for the next subscriber at once (this process knows the subscriber is gone: no need to wait `ackWaitMs`).
 *
 * No busy loops: a subscriber sleeps until an append wakes it or one timer fires at the earliest time a
 * retry or an expired lease becomes due; the timer is cleared on close.
 */
import type {
  EventHandler,
  Subscription,
  SubscriptionOptions,
} from '../../core/event-store.ts';
import { resolveSubscriptionOptions } from '../../core/validate.ts';
import {
  toRecorded,
  type ConsumerHandle,
  type NamespaceState,
  type PendingDelivery,
  type StoredEvent,
  type SubscriptionState,
} from './state.ts';

export interface ConsumerSettings {
  maxDeliver: number;
  backoffMs: number[];
  ackWaitMs: number;
  maxInFlight: number;
  deadLetter: string;
  closeTimeoutMs: number;
  concurrency: number;
}

/** Synchronous handler calls one subscriber makes before it yields to the event loop (a backlog must not starve I/O). */
const DELIVERIES_PER_TURN = 1000;

export function consumerSettings(name: string, options: SubscriptionOptions): ConsumerSettings {
  const r = resolveSubscriptionOptions(name, options);
  // In memory a claimed event is both "fetched" and "unacknowledged": one subscriber holds at most
  // the smaller of the two limits (resolveSubscriptionOptions keeps batchSize <= maxInFlight).
  return { maxDeliver: r.maxDeliver, backoffMs: r.backoffMs, ackWaitMs: r.ackWaitMs, maxInFlight: r.batchSize, deadLetter: r.deadLetter, closeTimeoutMs: r.closeTimeoutMs, concurrency: r.concurrency };
}

/** The array a subscription reads from: every event, or its category's events. */
function source(ns: NamespaceState, sub: SubscriptionState): readonly StoredEvent[] {
  return sub.category === undefined ? ns.all : (ns.byCategory.get(sub.category) ?? []);
}

export function subscriptionLag(ns: NamespaceState, sub: SubscriptionState): number {
  return sub.pending.size + (source(ns, sub).length - sub.index);
}

/** Wakes the subscribers that may want an event of `category` (called after an append). */
export function wakeSubscribers(ns: NamespaceState, category: string): void {
  for (const sub of ns.subscriptions.values()) {
    if (sub.consumers.size === 0 || (sub.category !== undefined && sub.category !== category)) continue;
    for (const consumer of sub.consumers.values()) consumer.wake();
  }
}

function wakeAll(sub: SubscriptionState): void {
  for (const consumer of sub.consumers.values()) consumer.wake();
}

/** Frees claimed deliveries whose lease expired (a handler too slow, or a subscriber gone without close()). */
function expireLeases(sub: SubscriptionState, now: number): void {
  let next = Infinity;
  for (const consumer of sub.consumers.values()) {
    for (const [deliveryId, entry] of consumer.claimed) {
      if (entry.deliveryId !== deliveryId || entry.holder === null) continue; // no longer this claim's
      if (entry.leaseUntil <= now) {
        entry.holder = null;
        sub.ready.push(entry);
      } else if (entry.leaseUntil < next) {
        next = entry.leaseUntil;
      }
    }
  }
  sub.leaseCheckAt = next;
}

let nextConsumerId = 1;
let nextDeliveryId = 1;

export function startConsumer(
  ns: NamespaceState,
  sub: SubscriptionState,
  handler: EventHandler,
  settings: ConsumerSettings,
  onClosed: () => void,
  /** Test-only fault (test/contract/broken-memory-store.ts): failures count as acks. */
  faults: { ackFailures: boolean } = { ackFailures: false },
): Subscription {
  const id = nextConsumerId++;
  /** deliveryId -> delivery claimed by this subscriber: the one running, then the ones waiting, in order. */
  const claimed = new Map<number, PendingDelivery>();
  let scheduled = false;
  let running = false;
  let sinceYield = 0;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Infinity;
  let closing = false;
  /** The claim whose asynchronous handler is running (close() waits for it, and only for it). */
  let currentId = 0;
  let drained: (() => void) | undefined;
  let closePromise: Promise<void> | undefined;

  const schedule = (): void => {
    if (scheduled || closing) return;
    scheduled = true;
    queueMicrotask(pump);
  };

  const armTimer = (at: number, now: number): void => {
    if (at === Infinity || closing) return;
    if (timer !== undefined && timerAt <= at) return;
    if (timer !== undefined) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(() => {
      timer = undefined;
      timerAt = Infinity;
      schedule();
    }, Math.max(0, at - now));
    // An idle subscriber must not keep the process alive; its owner closes it.
    timer.unref();
  };

  /** Still free for the taking (not acknowledged, dead-lettered or claimed by someone else meanwhile). */
  const free = (entry: PendingDelivery): boolean =>
    entry.holder === null && sub.pending.get(entry.event.position) === entry;

  const claim = (entry: PendingDelivery, now: number): void => {
    const deliveryId = nextDeliveryId++;
    entry.holder = id;
    entry.deliveryId = deliveryId;
    entry.leaseUntil = now + settings.ackWaitMs;
    if (entry.leaseUntil < sub.leaseCheckAt) sub.leaseCheckAt = entry.leaseUntil;
    claimed.set(deliveryId, entry);
  };

  /** Claims what is due, up to maxInFlight: freed deliveries, due retries, then new events in order. */
  const pump = (): void => {
    scheduled = false;
    if (closing) return;
    const now = Date.now();
    if (sub.leaseCheckAt <= now) expireLeases(sub, now);
    while (claimed.size < settings.maxInFlight && sub.ready.length > 0) {
      const entry = sub.ready.shift()!;
      if (free(entry)) claim(entry, now);
    }
    while (claimed.size < settings.maxInFlight && (sub.retries.peek()?.retryAt ?? Infinity) <= now) {
      const entry = sub.retries.pop()!;
      if (free(entry)) claim(entry, now);
    }
    const events = source(ns, sub);
    while (claimed.size < settings.maxInFlight && sub.index < events.length) {
      const event = events[sub.index]!;
      sub.index += 1;
      const entry: PendingDelivery = { event, attempts: 0, holder: null, deliveryId: 0, leaseUntil: 0, retryAt: 0 };
      sub.pending.set(event.position, entry);
      claim(entry, now);
    }
    if (claimed.size < settings.maxInFlight) {
      armTimer(Math.min(sub.retries.peek()?.retryAt ?? Infinity, sub.leaseCheckAt), now);
    }
    if (claimed.size > 0) {
      if (settings.concurrency > 1) runConcurrently();
      else run();
    }
  };

  /** Deliveries whose asynchronous handler is running (concurrency > 1). */
  const active = new Set<number>();

  /**
   * With concurrency > 1: starts claimed deliveries in claim order, up to `concurrency` handlers at once
   * and never two of one stream, so a stream's events are handled one at a time, in order.
   */
  const runConcurrently = (): void => {
    if (closing) return;
    const busy = new Set<string>();
    for (const deliveryId of active) {
      const entry = claimed.get(deliveryId);
      if (entry) busy.add(entry.event.stream);
    }
    let handled = 0;
    for (const [deliveryId, entry] of claimed) {
      if (active.size >= settings.concurrency || closing) break;
      if (active.has(deliveryId) || busy.has(entry.event.stream)) continue;
      if (entry.deliveryId !== deliveryId || entry.holder !== id || sub.pending.get(entry.event.position) !== entry) {
        claimed.delete(deliveryId);
        continue;
      }
      if (handled >= DELIVERIES_PER_TURN) {
        setImmediate(runConcurrently); // a backlog of synchronous handlers must not starve timers and I/O
        return;
      }
      handled += 1;
      entry.attempts += 1;
      entry.leaseUntil = Date.now() + settings.ackWaitMs;
      let result: unknown;
      try {
        result = handler(toRecorded(entry.event), { subscription: sub.name, attempt: entry.attempts });
      } catch (err) {
        settle(entry, deliveryId, true, err);
        continue;
      }
      if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<void>).then === 'function') {
        active.add(deliveryId);
        busy.add(entry.event.stream);
        const finish = (failed: boolean, err: unknown): void => {
          active.delete(deliveryId);
          settle(entry, deliveryId, failed, err);
          if (closing) {
            if (active.size === 0) drained?.();
            return;
          }
          schedule();
          runConcurrently();
        };
        (result as PromiseLike<void>).then(
          () => finish(false, undefined),
          (err: unknown) => finish(true, err),
        );
        continue;
      }
      settle(entry, deliveryId, false, undefined);
    }
    if (handled > 0) schedule(); // room to claim more
  };

  /**
   * Runs the claimed deliveries one at a time, in claim order, so one subscriber handles its events in
   * position order (as the server backends do); parallelism comes from competing subscribers.
   */
  const run = (): void => {
    if (running) return;
    running = true;
    let handled = 0;
    for (;;) {
      if (closing) break;
      const first = claimed.entries().next();
      if (first.done) break;
      const [deliveryId, entry] = first.value;
      // Lost the claim meanwhile (lease expired, maybe taken by another subscriber): not ours to run.
      if (entry.deliveryId !== deliveryId || entry.holder !== id || sub.pending.get(entry.event.position) !== entry) {
        claimed.delete(deliveryId);
        continue;
      }
      if (sinceYield >= DELIVERIES_PER_TURN) {
        // A backlog of synchronous handlers must not starve timers and I/O.
        setImmediate(() => {
          sinceYield = 0;
          running = false;
          run();
        });
        return;
      }
      sinceYield += 1;
      handled += 1;
      entry.attempts += 1;
      entry.leaseUntil = Date.now() + settings.ackWaitMs; // the ack wait runs from the handler's start
      let result: unknown;
      try {
        result = handler(toRecorded(entry.event), { subscription: sub.name, attempt: entry.attempts });
      } catch (err) {
        settle(entry, deliveryId, true, err);
        continue;
      }
      if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<void>).then === 'function') {
        sinceYield = 0; // an asynchronous handler yields anyway
        currentId = deliveryId;
        (result as PromiseLike<void>).then(
          () => resume(entry, deliveryId, false, undefined),
          (err: unknown) => resume(entry, deliveryId, true, err),
        );
        return; // `running` stays true until the handler settles
      }
      settle(entry, deliveryId, false, undefined);
    }
    running = false;
    if (closing) drained?.();
    else if (handled > 0) schedule(); // room to claim more (a pump that claims nothing does not come back here)
  };

  const resume = (entry: PendingDelivery, deliveryId: number, failed: boolean, err: unknown): void => {
    settle(entry, deliveryId, failed, err);
    currentId = 0;
    running = false;
    if (closing) {
      drained?.();
      return;
    }
    schedule(); // room to claim more
    run();
  };

  /** Ack, retry later, or dead-letter; ignored when the claim is no longer current. */
  const settle = (entry: PendingDelivery, deliveryId: number, failed: boolean, err: unknown): void => {
    if (!claimed.delete(deliveryId)) return; // abandoned at close: the next subscriber owns it now
    const position = entry.event.position;
    if (sub.pending.get(position) !== entry || entry.deliveryId !== deliveryId || entry.holder !== id) return;
    if (!failed || faults.ackFailures) {
      sub.pending.delete(position);
    } else if (entry.attempts >= settings.maxDeliver) {
      sub.pending.delete(position);
      let letters = ns.deadLetters.get(settings.deadLetter);
      if (!letters) ns.deadLetters.set(settings.deadLetter, (letters = []));
      letters.push({
        subscription: sub.name,
        event: entry.event,
        deliveries: entry.attempts,
        reason: err instanceof Error ? err.message : String(err),
        at: new Date().toISOString(),
      });
    } else {
      const backoff = settings.backoffMs[Math.min(entry.attempts, settings.backoffMs.length) - 1]!;
      entry.holder = null;
      entry.retryAt = Date.now() + backoff;
      sub.retries.push(entry);
      // Any subscriber of the name may take the retry: each re-arms its timer for the earliest one.
      wakeAll(sub);
    }
  };

  /** Gives claims back (not acknowledged) for any subscriber to take at once. */
  const release = (keep: (deliveryId: number) => boolean): void => {
    for (const [deliveryId, entry] of claimed) {
      if (keep(deliveryId)) continue;
      claimed.delete(deliveryId);
      if (entry.deliveryId === deliveryId && entry.holder === id && sub.pending.get(entry.event.position) === entry) {
        entry.holder = null;
        sub.ready.push(entry);
      }
    }
  };

  const close = (): Promise<void> => {
    closePromise ??= (async () => {
      closing = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      // Claimed events that never started go to the other subscribers now, not after the wait.
      release((deliveryId) => deliveryId === currentId || active.has(deliveryId));
      wakeAll(sub);
      if (running || active.size > 0) {
        let waitTimer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          drained = resolve;
          waitTimer = setTimeout(resolve, settings.closeTimeoutMs);
        });
        clearTimeout(waitTimer);
      }
      // The unfinished handler is not acknowledged: its event is free for the next subscriber now.
      release(() => false);
      sub.consumers.delete(id);
      onClosed();
      wakeAll(sub);
    })();
    return closePromise;
  };

  const handle: ConsumerHandle = { wake: schedule, claimed };
  sub.consumers.set(id, handle);
  schedule();

  return {
    name: sub.name,
    lag: async () => subscriptionLag(ns, sub),
    close,
    [Symbol.asyncDispose]: close,
  };
}
