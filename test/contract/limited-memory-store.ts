/**
 * A memory store that DECLARES the weaker capabilities of a server backend (no atomic multi-append, no
 * global order, no competing consumers, a finite idempotency window) and refuses accordingly. It runs the
 * contract suite's `false` / finite branches on memory, so those branches are known to work before a
 * PostgreSQL or JetStream adapter depends on them.
 */
import {
  CapabilityError,
  type Capabilities,
  type EventStore,
  type Subscription,
} from '../../src/core/event-store.ts';
import { openMemoryStore } from '../../src/store/memory/memory-store.ts';
import { uniqueName } from '../support/servers.ts';
import type { ContractTarget } from './event-store-contract.ts';

export const LIMITED_CAPABILITIES: Capabilities = {
  atomicMultiAppend: false,
  globalOrder: false,
  idempotencyWindowMs: 120_000,
  competingConsumers: false,
  orderedCompetingConsumers: false,
  maxEventBytes: 1024 * 1024 - 1024,
};

/** Open subscribers per namespace and name: a second one is refused (no competing consumers). */
const active = new Map<string, number>();

function limitedStore(namespace: string, idempotencyWindowMs: number): EventStore {
  const inner = openMemoryStore({ namespace, idempotencyWindowMs, maxEventBytes: LIMITED_CAPABILITIES.maxEventBytes });
  const capabilities = { ...LIMITED_CAPABILITIES, idempotencyWindowMs };
  return {
    ...inner,
    backend: 'memory-limited',
    capabilities,
    init: () => inner.init(),
    appendToStream: async (stream, events, options) => {
      if (options?.requireAtomic) {
        throw new CapabilityError('atomicMultiAppend', `memory-limited: no atomic multi-event append (requireAtomic)`);
      }
      return inner.appendToStream(stream, events, options);
    },
    readStream: (stream, options) => inner.readStream(stream, options),
    readAll: async (options) => {
      if (options?.category === undefined) {
        throw new CapabilityError('globalOrder', 'memory-limited: readAll needs a category (no global order)');
      }
      return inner.readAll(options);
    },
    streamVersion: (stream) => inner.streamVersion(stream),
    subscribe: async (name, handler, options) => {
      if (options?.category === undefined) {
        throw new CapabilityError('globalOrder', 'memory-limited: subscribe needs a category (no global order)');
      }
      const key = `${namespace}/${name}`;
      if ((active.get(key) ?? 0) > 0) {
        throw new CapabilityError('competingConsumers', `memory-limited: subscription ${name} already has a consumer`);
      }
      const sub = await inner.subscribe(name, handler, options);
      active.set(key, 1);
      let released = false;
      const close = async (): Promise<void> => {
        await sub.close();
        if (!released) active.delete(key);
        released = true;
      };
      const wrapped: Subscription = { name: sub.name, lag: () => sub.lag(), close, [Symbol.asyncDispose]: close };
      return wrapped;
    },
    readDeadLetters: (subscription) => inner.readDeadLetters(subscription),
    storageStats: () => inner.storageStats(),
    close: () => inner.close(),
    [Symbol.asyncDispose]: () => inner.close(),
  };
}

/** One fresh namespace per call; `settings.idempotencyWindowMs` sets the window, as a JetStream target would. */
export function limitedMemoryTarget(): ContractTarget {
  const namespace = uniqueName('limited');
  return {
    open: async (settings) => {
      const windowMs = settings?.idempotencyWindowMs ?? (LIMITED_CAPABILITIES.idempotencyWindowMs as number);
      // A store with its own dedup window lives in a namespace of its own (as the harness rules allow).
      return limitedStore(settings?.idempotencyWindowMs === undefined ? namespace : `${namespace}_w${windowMs}`, windowMs);
    },
  };
}
