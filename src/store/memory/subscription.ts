/**
 * One subscriber of a memory subscription. The subscription's state (cursor, unacknowledged deliveries)
 * lives in the namespace and is shared by every subscriber of that name: they are competing consumers.
 *
 * Delivery: handlers start in position order, at most `maxInFlight` at once per subscriber (pass 1 for
 * strictly sequential handling). Return = ack; throw = retry after `backoffMs[attempt - 1]` on any
 * subscriber of the name; after `maxDeliver` deliveries the event goes to the dead letters. A delivery
 * not acknowledged within `ackWaitMs` is handed out again (at-least-once). `close()` waits at most
 * `closeTimeoutMs`, then frees the unfinished deliveries for the next subscriber at once (this process
 * knows the subscriber is gone, so there is no need to wait for `ackWaitMs`).
 *
 * No busy loops: a subscriber sleeps until an append wakes it or one timer fires at the earliest time a
 * retry or an expired lease becomes due; the timer is cleared on close.
 */
import type {
  EventHandler,
  Subscription,
  SubscriptionOptions,
} from '../../core/event-store.ts';
import { ConfigError } from '../../core/event-store.ts';
import {
  toRecorded,
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
}

/** Defaults of the contract (src/core/event-store.ts); maxDeliver 5 as in seed 004. */
export const SUBSCRIPTION_DEFAULTS = {
  maxDeliver: 5,
  backoffMs: [100, 500, 2000],
  ackWaitMs: 30_000,
  maxInFlight: 100,
  closeTimeoutMs: 5000,
} as const;

/** Deliveries one subscriber makes before it yields to the event loop (a backlog must not starve I/O). */
const DELIVERIES_PER_TURN = 1000;

function positiveInt(value: unknown, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`subscription option ${field} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function consumerSettings(name: string, options: SubscriptionOptions): ConsumerSettings {
  const maxDeliver = positiveInt(options.maxDeliver ?? SUBSCRIPTION_DEFAULTS.maxDeliver, 'maxDeliver', 1);
  const backoffMs = options.backoffMs ?? [...SUBSCRIPTION_DEFAULTS.backoffMs];
  if (!Array.isArray(backoffMs) || backoffMs.length === 0 || backoffMs.some((v) => typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v))) {
    throw new ConfigError(`subscription option backoffMs must be a non-empty array of delays >= 0 ms, got ${JSON.stringify(backoffMs)}`);
  }
  const ackWaitMs = positiveInt(options.ackWaitMs ?? SUBSCRIPTION_DEFAULTS.ackWaitMs, 'ackWaitMs', 1);
  const maxInFlight = positiveInt(options.maxInFlight ?? SUBSCRIPTION_DEFAULTS.maxInFlight, 'maxInFlight', 1);
  if (options.batchSize !== undefined) positiveInt(options.batchSize, 'batchSize', 1);
  const closeTimeoutMs = positiveInt(options.closeTimeoutMs ?? SUBSCRIPTION_DEFAULTS.closeTimeoutMs, 'closeTimeoutMs', 0);
  const deadLetter = options.deadLetter ?? name;
  if (typeof deadLetter !== 'string' || deadLetter.length === 0) {
    throw new ConfigError(`subscription option deadLetter must be a non-empty name`);
  }
  return { maxDeliver, backoffMs: [...backoffMs], ackWaitMs, maxInFlight, deadLetter, closeTimeoutMs };
}

/** The array a subscription reads from: every event, or its category's events. */
function source(ns: NamespaceState, sub: SubscriptionState): readonly StoredEvent[] {
  return sub.category === undefined ? ns.all : (ns.byCategory.get(sub.category) ?? []);
}

export function subscriptionLag(ns: NamespaceState, sub: SubscriptionState): number {
  return sub.pending.size + (source(ns, sub).length - sub.index);
}

/** Wakes every subscriber of every subscription in the namespace (called after an append). */
export function wakeSubscribers(ns: NamespaceState): void {
  for (const sub of ns.subscriptions.values()) {
    for (const wake of sub.consumers.values()) wake();
  }
}

let nextConsumerId = 1;
let nextDeliveryId = 1;

export function startConsumer(
  ns: NamespaceState,
  sub: SubscriptionState,
  handler: EventHandler,
  settings: ConsumerSettings,
  onClosed: () => void,
): Subscription {
  const id = nextConsumerId++;
  /** deliveryId -> delivery, for the handlers running right now. */
  const inFlight = new Map<number, PendingDelivery>();
  let scheduled = false;
  let sinceYield = 0;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Infinity;
  let closing = false;
  let drained: (() => void) | undefined;
  let closePromise: Promise<void> | undefined;

  const schedule = (): void => {
    if (scheduled || closing) return;
    scheduled = true;
    if (sinceYield >= DELIVERIES_PER_TURN) {
      setImmediate(() => {
        sinceYield = 0;
        pump();
      });
    } else {
      queueMicrotask(pump);
    }
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

  const deliver = (entry: PendingDelivery, now: number): void => {
    const deliveryId = nextDeliveryId++;
    entry.attempts += 1;
    entry.holder = id;
    entry.deliveryId = deliveryId;
    entry.leaseUntil = now + settings.ackWaitMs;
    if (entry.leaseUntil < sub.nextCheckAt) sub.nextCheckAt = entry.leaseUntil;
    inFlight.set(deliveryId, entry);
    sinceYield += 1;
    let result: unknown;
    try {
      result = handler(toRecorded(entry.event), { subscription: sub.name, attempt: entry.attempts });
    } catch (err) {
      settle(entry, deliveryId, true, err);
      return;
    }
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<void>).then === 'function') {
      (result as PromiseLike<void>).then(
        () => settle(entry, deliveryId, false, undefined),
        (err: unknown) => settle(entry, deliveryId, true, err),
      );
    } else {
      settle(entry, deliveryId, false, undefined);
    }
  };

  const settle = (entry: PendingDelivery, deliveryId: number, failed: boolean, err: unknown): void => {
    if (!inFlight.delete(deliveryId)) return; // abandoned at close: the next subscriber owns it now
    if (inFlight.size === 0) drained?.();
    const position = entry.event.position;
    // A lease that expired and was handed out again belongs to the newer delivery.
    if (sub.pending.get(position) !== entry || entry.deliveryId !== deliveryId) return;
    if (!failed) {
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
      if (entry.retryAt < sub.nextCheckAt) sub.nextCheckAt = entry.retryAt;
    }
    schedule();
  };

  /** Hands out what is due: freed or expired deliveries first, then new events, up to maxInFlight. */
  const pump = (): void => {
    // `scheduled` stays true while pumping: settles of synchronous handlers need no extra pump.
    try {
      pumpOnce();
    } finally {
      scheduled = false;
    }
    if (!closing && inFlight.size < settings.maxInFlight) {
      const now = Date.now();
      const events = source(ns, sub);
      if (sub.index < events.length || sub.nextCheckAt <= now) schedule(); // more than one turn's worth
      else armTimer(sub.nextCheckAt, now);
    }
  };

  const pumpOnce = (): void => {
    if (closing) return;
    const now = Date.now();
    if (sub.nextCheckAt <= now && inFlight.size < settings.maxInFlight) {
      // Recomputed by this scan; deliveries and failures during it lower it again (all synchronous).
      sub.nextCheckAt = Infinity;
      let next = Infinity;
      for (const entry of sub.pending.values()) {
        if (entry.holder !== null && entry.leaseUntil > now) {
          if (entry.leaseUntil < next) next = entry.leaseUntil;
          continue;
        }
        if (entry.retryAt > now) {
          if (entry.retryAt < next) next = entry.retryAt;
          continue;
        }
        if (inFlight.size >= settings.maxInFlight || sinceYield >= DELIVERIES_PER_TURN) {
          next = now; // more is due than this turn may deliver
          break;
        }
        deliver(entry, now);
        if (closing) {
          sub.nextCheckAt = 0; // scan cut short: let the other subscribers look again
          return;
        }
      }
      sub.nextCheckAt = Math.min(sub.nextCheckAt, next);
    }
    const events = source(ns, sub);
    while (sub.index < events.length && inFlight.size < settings.maxInFlight && sinceYield < DELIVERIES_PER_TURN) {
      const event = events[sub.index]!;
      sub.index += 1;
      const entry: PendingDelivery = { event, attempts: 0, holder: null, deliveryId: 0, leaseUntil: 0, retryAt: 0 };
      sub.pending.set(event.position, entry);
      deliver(entry, now);
      if (closing) return;
    }
  };

  const close = (): Promise<void> => {
    closePromise ??= (async () => {
      closing = true;
      sub.consumers.delete(id);
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (inFlight.size > 0) {
        let waitTimer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          drained = resolve;
          waitTimer = setTimeout(resolve, settings.closeTimeoutMs);
        });
        clearTimeout(waitTimer);
      }
      // Unfinished handlers are not acknowledged: their deliveries are free for the next subscriber now.
      for (const [deliveryId, entry] of inFlight) {
        if (entry.deliveryId === deliveryId && entry.holder === id) {
          entry.holder = null;
          entry.retryAt = 0;
          sub.nextCheckAt = 0;
        }
      }
      inFlight.clear();
      onClosed();
      for (const wake of sub.consumers.values()) wake();
    })();
    return closePromise;
  };

  sub.consumers.set(id, schedule);
  schedule();

  return {
    name: sub.name,
    lag: async () => subscriptionLag(ns, sub),
    close,
    [Symbol.asyncDispose]: close,
  };
}
