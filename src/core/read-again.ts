/**
 * `readAll`, read again while the store answers unavailable. Right after a fault heals, a replicated
 * JetStream stream may still be electing its leader or catching up the replica a read lands on; its reads
 * then fail with StoreUnavailableError ("read again") rather than return short (docs/topologies.md,
 * "Reading from an R3 stream"). Whole-store readers (the chaos check, serve's catch-up, backup) use this.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreUnavailableError, type EventStore, type ReadAllOptions, type RecordedEvent } from './event-store.ts';

/** Default bound: an election on nats-server 2.9 takes a few seconds; 30 s leaves room for a slow one. */
export const READ_AGAIN_MS = 30_000;
const READ_AGAIN_EVERY_MS = 500;

/** One `readAll`, retried every 500 ms while the store is unavailable, until `retryMs` has passed (then its error). */
export async function readAllAgainWhileUnavailable(
  store: EventStore,
  query: ReadAllOptions,
  options: { retryMs?: number; signal?: AbortSignal } = {},
): Promise<RecordedEvent[]> {
  const until = Date.now() + (options.retryMs ?? READ_AGAIN_MS);
  for (;;) {
    try {
      return await store.readAll(query);
    } catch (err) {
      if (!(err instanceof StoreUnavailableError) || Date.now() >= until) throw err;
      options.signal?.throwIfAborted();
      await sleep(READ_AGAIN_EVERY_MS, undefined, options.signal ? { signal: options.signal } : {});
    }
  }
}
