import { StoreUnavailableError, type EventStore } from '../../src/core/event-store.ts';

/**
 * A store whose first `failures` `readAll` calls answer unavailable, as a replicated JetStream stream
 * electing a leader does (src/core/read-again.ts); everything else goes to `inner`. `reads()` counts the
 * readAll calls made, failed ones included.
 */
export function unavailableAtFirst(inner: EventStore, failures: number): EventStore & { reads(): number } {
  let left = failures;
  let reads = 0;
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'reads') return () => reads;
      if (prop === 'readAll') {
        return (...args: Parameters<EventStore['readAll']>) => {
          reads++;
          if (left-- > 0) return Promise.reject(new StoreUnavailableError('NATS JetStream unavailable (timeout)'));
          return target.readAll(...args);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  }) as EventStore & { reads(): number };
}
