/**
 * `catch-up`: after a load run, how fast a reader that starts from position 0 reads back the workload's
 * category (through `readAll` of the EventStore contract, page by page), as a new consumer or a rebuilt
 * service would. One measurement, run after the load and its drain, so nothing else competes for the
 * store; the load side's numbers stay as they were. The contract has no "head position", so the whole
 * category of the namespace is read: where earlier rounds wrote into it too, events/s is what compares.
 */
import { ConfigError, type EventStore, type RecordedEvent } from '../../core/event-store.ts';
import { newHistogram, recordMs, summarize } from '../../report/histogram.ts';
import type { BackendResult } from '../../report/load-result.ts';
import type { Clock } from '../load/clock.ts';

export const REPLAY_KINDS = ['catch-up', 'projection-rebuild'] as const;
export type ReplayKind = (typeof REPLAY_KINDS)[number];
export type ReplayResult = NonNullable<BackendResult['replay']>;

/** Events per readAll page: large enough that a page's round trip is not the cost being measured. */
export const REPLAY_PAGE_SIZE = 1000;
/** A replay stops here whatever it has read (bounded in time like every phase of a run). */
export const REPLAY_TIMEOUT_MS = 10 * 60_000;

/**
 * Reads the category from position 0 to its end, handing each page to `onPage`; times the whole read and
 * each page. `expected` is what the run stored: the read is complete when it got at least that many.
 */
export async function readFromStart(
  store: EventStore,
  options: { kind: ReplayKind; category: string; expected: number; clock: Clock; signal?: AbortSignal; onPage?: (events: RecordedEvent[]) => void },
): Promise<Omit<ReplayResult, 'cases'>> {
  const pageLatency = newHistogram();
  const start = options.clock.now();
  const until = start + REPLAY_TIMEOUT_MS;
  let events = 0;
  let pages = 0;
  let fromPosition = 0;
  while (!options.signal?.aborted && options.clock.now() < until) {
    const t0 = options.clock.now();
    const page = await store.readAll({ category: options.category, fromPosition, limit: REPLAY_PAGE_SIZE });
    recordMs(pageLatency, options.clock.now() - t0);
    pages += 1;
    options.onPage?.(page);
    events += page.length;
    if (page.length < REPLAY_PAGE_SIZE) break;
    fromPosition = page[page.length - 1]!.position;
  }
  const seconds = Math.max(0.001, (options.clock.now() - start) / 1000);
  return {
    kind: options.kind,
    events,
    expected: options.expected,
    complete: events >= options.expected,
    seconds: Math.round(seconds * 1000) / 1000,
    eventsPerSec: Math.round((events / seconds) * 10) / 10,
    pages,
    pageSize: REPLAY_PAGE_SIZE,
    pageLatency: summarize(pageLatency),
  };
}

/** The `catch-up` measurement: every event of the category read back from position 0. */
export async function measureCatchUp(store: EventStore, options: { category: string; expected: number; clock: Clock; signal?: AbortSignal }): Promise<ReplayResult> {
  return { ...(await readFromStart(store, { ...options, kind: 'catch-up' })), cases: null };
}

/** Refuses a replay the workload cannot have (a read model exists for debt cases only); before any server starts. */
export function checkReplay(kind: ReplayKind | undefined, workload: string): void {
  if (kind === 'projection-rebuild' && workload !== 'debt-cases') {
    throw new ConfigError(`--replay projection-rebuild rebuilds the debt-case read model: use --workload debt-cases (or --replay catch-up for ${workload})`);
  }
}
