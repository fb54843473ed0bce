/**
 * The checker's read-back: every event of the given categories, through the contract only (`readAll`
 * with a category, which every backend offers; JetStream has no order across categories), page by page
 * so memory stays one page whatever the store holds.
 */
import { StoreUnavailableError, type EventStore, type RecordedEvent } from '../../core/event-store.ts';

export interface ReadBackOptions {
  categories: string[];
  /** Events per `readAll` call (default 10,000). */
  pageSize?: number;
  /**
   * How long a page read is retried while the store answers unavailable (default 30 s). Right after a
   * fault heals, a replicated JetStream stream may still be electing its leader or catching up a replica:
   * its reads then fail with StoreUnavailableError ("read again") rather than return short.
   */
  retryUnavailableMs?: number;
  signal?: AbortSignal;
}

export async function* readBack(store: EventStore, options: ReadBackOptions): AsyncGenerator<RecordedEvent[]> {
  const pageSize = options.pageSize ?? 10_000;
  for (const category of options.categories) {
    let from = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      const page = await readPage(store, { category, fromPosition: from, limit: pageSize }, options.retryUnavailableMs ?? 30_000, options.signal);
      if (page.length === 0) break;
      yield page;
      from = page[page.length - 1]!.position;
      if (page.length < pageSize) break;
    }
  }
}

/** One `readAll`, retried every 500 ms while the store is unavailable, until `retryMs` has passed. */
async function readPage(store: EventStore, query: { category: string; fromPosition: number; limit: number }, retryMs: number, signal?: AbortSignal): Promise<RecordedEvent[]> {
  const until = Date.now() + retryMs;
  for (;;) {
    try {
      return await store.readAll(query);
    } catch (err) {
      if (!(err instanceof StoreUnavailableError) || Date.now() >= until) throw err;
      signal?.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
