/**
 * `eventbench generate`: feeds a workload's seeded appends into any EventStore, optionally paced by the
 * simulated timestamps (`speedup`), and for `debt-cases` optionally runs the case processors (docs/case-processing.md) and the
 * read model until every generated case is completed, then checks that a replay from position 0
 * rebuilds the same read model.
 *
 * Appends to one stream are chained (a stream's next append waits for its previous one), so workloads
 * that continue an aggregate (documents, invoices, domain events) keep their expected versions right
 * while appends to different streams run `concurrency` at a time.
 *
 * It streams: what it keeps grows with the appends in flight (and, with processing, the cases not yet
 * completed), never with `count`; the summary is counters and an HdrHistogram. (The memory backend's
 * store itself holds every event: that is the backend, not the runner.) It yields to the event loop
 * at least every YIELD_EVERY_MS, so that a store answering in microtasks (memory) cannot starve the
 * progress timer and the Ctrl-C handler; an aborted `signal` stops generation (appends in flight are
 * awaited), skips the replay check, and returns the partial result with `interrupted: true`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as hdr from 'hdr-histogram-js';
import {
  OutcomeUnknownError,
  StoreUnavailableError,
  type DeadLetter,
  type EventStore,
} from '../core/event-store.ts';
import { workloads, type WorkloadName } from '../workloads/index.ts';
import type { PlannedAppend } from '../workloads/workload.ts';
import { startCaseProcessors, type CaseProcessorOptions, type ProcessorStats } from '../workloads/debt-cases/processors.ts';
import { replayProjection, startLiveProjection, type CaseSummary } from '../workloads/debt-cases/projection.ts';

export interface GenerateProgress {
  appends: number;
  /** Appends to make in all (`count`). */
  total: number;
  events: number;
  elapsedMs: number;
  /** Cases of this run completed so far (with processing). */
  completed?: number;
  phase: 'generating' | 'processing';
}

export interface GenerateOptions {
  workload: WorkloadName;
  /** Appends to make (for debt-cases: cases). */
  count: number;
  seed: number;
  /** Run the debt-case processors and the read model (debt-cases only). */
  process?: boolean;
  processors?: CaseProcessorOptions;
  /** Pace appends by their simulated timestamps, this many times faster than real time; absent = as fast as possible. */
  speedup?: number;
  /** Appends in flight (default 32). */
  concurrency?: number;
  /** Longest wait for processing to complete after generation (default 120 s). */
  processTimeoutMs?: number;
  onProgress?: (p: GenerateProgress) => void;
  progressIntervalMs?: number;
  signal?: AbortSignal;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface GenerateResult {
  workload: string;
  seed: number;
  appends: number;
  events: number;
  /** Stopped early by the caller's signal (Ctrl-C): the counts are what was done until then. */
  interrupted: boolean;
  /** Appends the store answered `duplicate: true` (already stored, e.g. the same seed generated before). */
  duplicates: number;
  failed: number;
  firstError?: string;
  /** JSON bytes of the events' data, estimated from every 16th append. */
  bytes: number;
  generateSeconds: number;
  eventsPerSecond: number;
  processing?: {
    completed: number;
    expected: number;
    timedOut: boolean;
    seconds: number;
    summary: CaseSummary;
    effects: ProcessorStats['effects'];
    injectedFailures: number;
    deadLetters: DeadLetter[];
    /** Intake acknowledged -> case.completed appended, milliseconds (real time). */
    latencyMs: LatencySummary;
    /** The read model rebuilt from position 0 equals the live one (null: not checked, interrupted). */
    replayMatches: boolean | null;
    replaySummary: CaseSummary | null;
  };
}


function latencySummary(h: hdr.Histogram): LatencySummary {
  const ms = (us: number) => Math.round(us / 10) / 100;
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
  };
}

async function appendWithRetry(store: EventStore, a: PlannedAppend): Promise<{ duplicate: boolean }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.appendToStream(a.stream, a.events, { expectedVersion: a.expectedVersion });
    } catch (err) {
      // Same event ids: a retry is idempotent within the store's idempotency window.
      const retryable = err instanceof StoreUnavailableError || err instanceof OutcomeUnknownError;
      if (!retryable || attempt >= 5) throw err;
      await sleep(50 * 2 ** attempt);
    }
  }
}

/** Longest stretch without giving timers and signal handlers a turn (a memory store never blocks). */
const YIELD_EVERY_MS = 20;

export async function runGenerate(store: EventStore, options: GenerateOptions): Promise<GenerateResult> {
  const workload = workloads[options.workload];
  if (options.process && options.workload !== 'debt-cases') {
    throw new Error(`--process runs the debt-case processors; workload ${options.workload} has none`);
  }
  const signal = options.signal;
  const concurrency = options.concurrency ?? 32;
  const gen = workload.create({ seed: options.seed });
  const latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, bitBucketSize: 64 });
  // With processing: this run's cases not yet completed, and when their intake was acknowledged. Both
  // shrink as cases complete, so they hold the processing backlog, not every case of the run.
  const open = new Map<string, number | undefined>();
  let expected = 0;
  let completed = 0;

  let live: Awaited<ReturnType<typeof startLiveProjection>> | undefined;
  let processors: Awaited<ReturnType<typeof startCaseProcessors>> | undefined;
  if (options.process) {
    // The read model lives in this process's memory, so it must start from position 0 every run: a fresh
    // subscription name per run (a fixed durable name would resume from the last run's checkpoint).
    const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
    live = await startLiveProjection(store, { name: `case-projection-${runId}`, subscription: options.processors?.subscription });
    processors = await startCaseProcessors(store, {
      ...options.processors,
      onEffect: (e) => {
        options.processors?.onEffect?.(e);
        if (e.step !== 'completion' || !open.has(e.caseId)) return;
        const t0 = open.get(e.caseId);
        open.delete(e.caseId);
        completed++;
        if (t0 !== undefined && e.result === 'applied') latency.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
      },
    });
  }

  const result: GenerateResult = {
    workload: options.workload,
    seed: options.seed,
    appends: 0,
    events: 0,
    interrupted: false,
    duplicates: 0,
    failed: 0,
    bytes: 0,
    generateSeconds: 0,
    eventsPerSecond: 0,
  };
  const started = performance.now();
  let phase: GenerateProgress['phase'] = 'generating';
  const progress = () =>
    options.onProgress?.({
      appends: result.appends,
      total: options.count,
      events: result.events,
      elapsedMs: performance.now() - started,
      phase,
      ...(options.process ? { completed } : {}),
    });
  const ticker = options.onProgress ? setInterval(progress, options.progressIntervalMs ?? 250) : undefined;

  try {
    // --- generation ------------------------------------------------------------------------------
    const tails = new Map<string, Promise<void>>();
    // A counting semaphore: O(1) per append (Promise.race over everything in flight would be O(n)).
    let active = 0;
    let wake: (() => void) | undefined;
    let allDone: (() => void) | undefined;
    let simStart: number | undefined;
    let sampledBytes = 0;
    let sampledEvents = 0;
    let lastYield = performance.now();
    for (let i = 0; i < options.count; i++) {
      if (performance.now() - lastYield >= YIELD_EVERY_MS) {
        await new Promise<void>((r) => setImmediate(r));
        lastYield = performance.now();
      }
      if (signal?.aborted) break;
      const a = gen.next();
      if (options.speedup && a.events[0]?.timestamp) {
        const sim = Date.parse(a.events[0].timestamp);
        simStart ??= sim;
        const due = started + (sim - simStart) / options.speedup;
        const wait = due - performance.now();
        if (wait > 1) {
          await sleep(wait, undefined, signal ? { signal } : undefined).catch(() => {});
          if (signal?.aborted) break;
        }
      }
      const caseId = options.process ? (a.events[0]?.data as { case_id?: string }).case_id : undefined;
      if (caseId && !open.has(caseId)) {
        open.set(caseId, undefined);
        expected++;
      }
      // Payload size from every 16th append (serialising everything twice would slow the harness).
      if ((i & 15) === 0) {
        for (const e of a.events) sampledBytes += Buffer.byteLength(JSON.stringify(e.data));
        sampledEvents += a.events.length;
      }
      const previous = tails.get(a.stream);
      active++;
      // eslint-disable-next-line prefer-const
      let p: Promise<void> | undefined;
      p = (async () => {
        if (previous) await previous;
        try {
          const r = await appendWithRetry(store, a);
          if (caseId && open.has(caseId)) open.set(caseId, performance.now());
          result.appends++;
          result.events += a.events.length;
          if (r.duplicate) result.duplicates++;
        } catch (err) {
          result.failed++;
          result.firstError ??= `${a.stream}: ${(err as Error).message}`;
        } finally {
          if (tails.get(a.stream) === p) tails.delete(a.stream);
          active--;
          wake?.();
          if (active === 0) allDone?.();
        }
      })();
      tails.set(a.stream, p);
      while (active >= concurrency) await new Promise<void>((r) => (wake = r));
    }
    if (active > 0) await new Promise<void>((r) => (allDone = r));
    result.interrupted = signal?.aborted ?? false;
    result.bytes = sampledEvents ? Math.round((sampledBytes / sampledEvents) * result.events) : 0;
    result.generateSeconds = (performance.now() - started) / 1000;
    result.eventsPerSecond = result.events / Math.max(result.generateSeconds, 1e-9);

    // --- processing ------------------------------------------------------------------------------
    if (processors && live) {
      phase = 'processing';
      const processStarted = performance.now();
      const deadline = processStarted + (options.processTimeoutMs ?? 120_000);
      let timedOut = false;
      const projection = live.projection;
      // A case whose intake was stored before this run (duplicate) may already be completed: the read model knows.
      const pruneCompleted = () => {
        for (const id of open.keys()) {
          if (!projection.isCompleted(id)) continue;
          open.delete(id);
          completed++;
        }
      };
      for (;;) {
        if (signal?.aborted) break;
        pruneCompleted();
        // Done = every case completed, the read model caught up and no processor has work left
        // (so late decisions that lost to an escalation have been tried and counted).
        if (open.size === 0 && (await live.subscription.lag()) === 0 && (await processors.lag()) === 0) break;
        if (performance.now() > deadline) {
          timedOut = true;
          break;
        }
        await sleep(100, undefined, signal ? { signal } : undefined).catch(() => {});
      }
      pruneCompleted();
      result.interrupted = signal?.aborted ?? false;
      progress();
      const summary = projection.summary();
      const effects = processors.stats.effects;
      const injectedFailures = processors.stats.injectedFailures;
      await processors.close();
      await live.subscription.close();
      const deadLetters = await processors.deadLetters();
      // Replaying everything can take as long as the run did: not after Ctrl-C.
      const replaySummary = result.interrupted ? null : (await replayProjection(store)).summary();
      result.processing = {
        completed: expected - open.size,
        expected,
        timedOut,
        seconds: (performance.now() - processStarted) / 1000,
        summary,
        effects,
        injectedFailures,
        deadLetters,
        latencyMs: latencySummary(latency),
        replayMatches: replaySummary === null ? null : JSON.stringify(summary) === JSON.stringify(replaySummary),
        replaySummary,
      };
    }
    return result;
  } finally {
    if (ticker) clearInterval(ticker);
    await processors?.close();
    await live?.subscription.close();
  }
}
