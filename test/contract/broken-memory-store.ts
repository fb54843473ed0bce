/**
 * Deliberately broken backends: the memory store with one guarantee switched off. The contract suite
 * must fail on each (test/contract-suite-not-vacuous.unit.test.ts), so it can never pass vacuously.
 * The switches live in the memory store's internal opener, never in its public options.
 */
import { ConfigError, StoreUnavailableError, type EventStore } from '../../src/core/event-store.ts';
import { openMemoryStore, type MemoryStoreFaults } from '../../src/store/memory/memory-store.ts';
import { uniqueName } from '../support/servers.ts';
import type { ContractTarget } from './event-store-contract.ts';

/**
 * A contract target over a faulty memory store (one fresh namespace per call), e.g.
 * `{ skipVersionCheck: true }`: every expectedVersion passes, or `{ skipDuplicateCheck: true }`.
 */
export function brokenMemoryTarget(faults: MemoryStoreFaults): ContractTarget {
  const namespace = uniqueName('broken');
  return { open: async () => openMemoryStore({ namespace }, faults) };
}

/**
 * Lapses a store can have around the calls rather than inside them, as wrappers of a sound memory store:
 * `readOptions` takes read options as they come (a bad direction reads forward, a bad limit or start is
 * ignored: what the PostgreSQL adapter once did), `closedError` reports a closed store as a `ConfigError`.
 */
export function laxMemoryTarget(lapse: 'readOptions' | 'closedError'): ContractTarget {
  const namespace = uniqueName('lax');
  const intOrUndefined = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);
  return {
    open: async () => {
      const store = openMemoryStore({ namespace });
      if (lapse === 'readOptions') {
        return {
          ...store,
          readStream: (stream, o = {}) =>
            store.readStream(stream, {
              direction: o.direction === 'backward' ? 'backward' : 'forward',
              ...(intOrUndefined(o.limit) !== undefined ? { limit: o.limit } : {}),
              ...(intOrUndefined(o.fromVersion) !== undefined ? { fromVersion: o.fromVersion } : {}),
            }),
          readAll: (o = {}) =>
            store.readAll({
              ...(o.category !== undefined ? { category: o.category } : {}),
              ...(intOrUndefined(o.limit) !== undefined ? { limit: o.limit } : {}),
              ...(intOrUndefined(o.fromPosition) !== undefined ? { fromPosition: o.fromPosition } : {}),
            }),
        } satisfies EventStore;
      }
      const asConfigError = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
        try {
          return await fn(...args);
        } catch (err) {
          throw err instanceof StoreUnavailableError ? new ConfigError(err.message) : err;
        }
      };
      return {
        ...store,
        init: asConfigError(store.init),
        appendToStream: asConfigError(store.appendToStream),
        readStream: asConfigError(store.readStream),
        readAll: asConfigError(store.readAll),
        streamVersion: asConfigError(store.streamVersion),
        subscribe: asConfigError(store.subscribe),
        deleteSubscription: asConfigError(store.deleteSubscription),
        readDeadLetters: asConfigError(store.readDeadLetters),
        storageStats: asConfigError(store.storageStats),
      } satisfies EventStore;
    },
  };
}
