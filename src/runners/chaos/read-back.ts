/**
 * The checker's read-back: every event of the given categories, through the contract only (`readAll`
 * with a category, which every backend offers; JetStream has no order across categories), page by page
 * so memory stays one page whatever the store holds.
 */
import type { EventStore, RecordedEvent } from '../../core/event-store.ts';
import { READ_AGAIN_MS, readAllAgainWhileUnavailable } from '../../core/read-again.ts';

export interface ReadBackOptions {
  categories: string[];
  /** Events per `readAll` call (default 10,000). */
  pageSize?: number;
  /**
   * How long a page read is retried while the store answers unavailable (default 30 s): right after a
   * fault heals, a replicated JetStream stream may still be electing its leader (src/core/read-again.ts).
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
      const page = await readAllAgainWhileUnavailable(store, { category, fromPosition: from, limit: pageSize }, { retryMs: options.retryUnavailableMs ?? READ_AGAIN_MS, ...(options.signal ? { signal: options.signal } : {}) });
      if (page.length === 0) break;
      yield page;
      from = page[page.length - 1]!.position;
      if (page.length < pageSize) break;
    }
  }
}
