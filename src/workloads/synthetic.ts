/**
 * `synthetic`: ~1 KB JSON events over N streams, with optimistic concurrency exercised on every append
 * (the expected version of each stream is tracked). The load tester's own workload: it isolates the
 * store's cost from any domain logic, like OMB's fixed-size payloads.
 *
 * Streams are visited round-robin, so one stream is appended again only after `streams` other appends:
 * version conflicts appear only when more than `streams` appends are in flight at once (a stall), which
 * is what a real system sees too. After a conflict the generator takes the actual version from the error
 * (`observe`), after an unknown outcome it sends one append with `any` and learns the version from it,
 * and after a success it never plans below the version the store reported (a retried append lands later
 * than planned).
 */
import { ConfigError, VersionConflictError, type ExpectedVersion, type NewEvent } from '../core/event-store.ts';
import { Random } from '../core/random.ts';
import type { PlannedAppend, WorkloadGenerator, WorkloadModule, WorkloadOptions } from './workload.ts';

export const SYNTHETIC_CATEGORY = 'synthetic';
export const SYNTHETIC_EVENT_TYPE = 'synthetic.recorded';

/** `--event-size` bounds: below ~128 bytes there is nothing left to pad; above 1 MB neither server takes an event. */
export const MIN_EVENT_BYTES = 128;
export const MAX_EVENT_BYTES = 1_000_000;

export interface SyntheticOptions extends WorkloadOptions {
  /** Approximate serialised size of `data` in bytes (`--event-size`, default 1024): the `note` field is padded to it. */
  eventBytes?: number;
  /** Prefix of stream names and event ids, so runs in one namespace never collide (default `s<seed>`). */
  runId?: string;
  /**
   * Events per append (`--batch`, default 1): each append carries its stream's next `batch` versions in
   * one call, as a service that records several facts at once does; the arrival rate counts appends.
   */
  batch?: number;
}

export interface SyntheticData {
  seq: number;
  amount: number;
  status: 'open' | 'paid' | 'late';
  note: string;
}

type Outcome = { ok: true; result: { streamVersion: number } } | { ok: false; error: unknown };

export interface SyntheticGenerator extends WorkloadGenerator {
  observe(planned: PlannedAppend, outcome: Outcome): void;
}

const STATUSES = ['open', 'paid', 'late'] as const;
/** JSON bytes of a typical event's data without its padding (`seq` of 5 digits, an amount with cents). */
const TYPICAL_FIXED_JSON = JSON.stringify({ seq: 10_000, amount: 5000.55, status: 'open', note: '' } satisfies SyntheticData).length;
const PAD_POOL = 64;
/** Events per append at most: a PostgreSQL statement binds 9 parameters per event, within its 65,535. */
export const MAX_BATCH = 1000;

function createGenerator(options: SyntheticOptions): SyntheticGenerator {
  const rng = new Random(options.seed);
  const streamCount = options.streams ?? 1000;
  if (!Number.isSafeInteger(streamCount) || streamCount < 1) throw new ConfigError(`streams must be a whole number >= 1, got ${streamCount}`);
  const runId = (options.runId ?? `s${options.seed}`).replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40);
  const bytes = Math.max(64, options.eventBytes ?? 1024);
  const batch = options.batch ?? 1;
  if (!Number.isSafeInteger(batch) || batch < 1 || batch > MAX_BATCH) throw new ConfigError(`batch must be a whole number from 1 to ${MAX_BATCH}, got ${batch}`);
  // Padding texts are drawn once: drawing 1 KB of randomness per event would make the generator, not
  // the store, the bottleneck at 20k/s. The other fields take ~55 bytes of JSON (a typical event's, measured
  // here), so `data` serialises to about `bytes` (within ~2 %): what `--event-size` and its sweep promise.
  const padLength = Math.max(1, bytes - TYPICAL_FIXED_JSON);
  const pads = Array.from({ length: PAD_POOL }, () => rng.hex(padLength));
  const streams = Array.from({ length: streamCount }, (_, k) => `${SYNTHETIC_CATEGORY}-${runId}_${k}`);
  const index = new Map(streams.map((s, k) => [s, k]));
  /** Version each stream will have after every append issued so far succeeds; null = unknown (resync with `any`). */
  const expected: (number | null)[] = new Array<number | null>(streamCount).fill(0);
  let seq = 0;
  let eventSeq = 0;

  return {
    next(): PlannedAppend {
      const k = seq % streamCount;
      seq += 1;
      const stream = streams[k]!;
      const known = expected[k]!;
      const expectedVersion: ExpectedVersion = known === null ? 'any' : known === 0 ? 'no_stream' : known;
      if (known !== null) expected[k] = known + batch;
      const events: NewEvent<SyntheticData>[] = [];
      // `seq` counts appends (it picks the stream), `eventSeq` events (ids, data.seq): unique with any batch.
      for (let i = 0; i < batch; i++) {
        eventSeq += 1;
        const data: SyntheticData = {
          seq: eventSeq,
          amount: Math.round(rng.uniform(1, 10_000) * 100) / 100,
          status: STATUSES[rng.int(0, 2)]!,
          note: pads[rng.int(0, PAD_POOL - 1)]!,
        };
        events.push({ id: `${runId}-${eventSeq}`, type: SYNTHETIC_EVENT_TYPE, data });
      }
      return { stream, events, expectedVersion };
    },
    observe(planned, outcome) {
      const k = index.get(planned.stream);
      if (k === undefined) return;
      if (outcome.ok) {
        const known = expected[k]!;
        // After `any`, the version is learned from the store. After a retried append (`--retries`: it
        // landed after re-reading the version, not where it was planned) the plan may be behind the store:
        // never plan below a version the store reported, or the next append conflicts for nothing.
        if (planned.expectedVersion === 'any') expected[k] = outcome.result.streamVersion;
        else if (known !== null && outcome.result.streamVersion > known) expected[k] = outcome.result.streamVersion;
      } else if (outcome.error instanceof VersionConflictError) {
        expected[k] = outcome.error.actual;
      } else {
        expected[k] = null;
      }
    },
  };
}

export const syntheticWorkload = {
  name: 'synthetic',
  description: '~1 KB JSON events over N streams (default 1000), round-robin, expected version tracked per stream',
  category: SYNTHETIC_CATEGORY,
  eventTypes: [SYNTHETIC_EVENT_TYPE],
  create: (options: WorkloadOptions) => createGenerator(options),
  validate(event: NewEvent): void {
    const d = event.data as Partial<SyntheticData> | null;
    if (event.type !== SYNTHETIC_EVENT_TYPE) throw new ConfigError(`type: expected ${SYNTHETIC_EVENT_TYPE}, got ${JSON.stringify(event.type)}`);
    if (typeof d !== 'object' || d === null) throw new ConfigError('data: expected an object');
    if (typeof d.seq !== 'number') throw new ConfigError('data.seq: expected a number');
    if (typeof d.amount !== 'number') throw new ConfigError('data.amount: expected a number');
    if (!STATUSES.includes(d.status as SyntheticData['status'])) throw new ConfigError('data.status: expected open, paid or late');
    if (typeof d.note !== 'string') throw new ConfigError('data.note: expected a string');
  },
} satisfies WorkloadModule;
