/**
 * The checker's read-back: every event of the given categories, through the contract only (`readAll`
 * with a category, which every backend offers; JetStream has no order across categories), page by page
 * so memory stays one page whatever the store holds.
 */
import type { EventStore, RecordedEvent } from '../../core/event-store.ts';

export interface ReadBackOptions {
  categories: string[];
  /** Events per `readAll` call (default 10,000). */
  pageSize?: number;
  signal?: AbortSignal;
}

export async function* readBack(store: EventStore, options: ReadBackOptions): AsyncGenerator<RecordedEvent[]> {
  const pageSize = options.pageSize ?? 10_000;
  for (const category of options.categories) {
    let from = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      const page = await store.readAll({ category, fromPosition: from, limit: pageSize });
      if (page.length === 0) break;
      yield page;
      from = page[page.length - 1]!.position;
      if (page.length < pageSize) break;
    }
  }
}
