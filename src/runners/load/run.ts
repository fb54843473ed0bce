/**
 * One load run against one backend: validates the scenario with its executor's schema, opens the load
 * sides (this thread, or N worker threads each with its own store connection and rate/N), the consumer
 * and the resource sampler, hands them to the executor (executors/, one module each), drains, and has
 * the result assembled (src/report/result-assembly.ts).
 *
 * Time bound: the executor's schedule ends at its deadline (what was due and not sent is dropped), the
 * sides wait at most the drain timeout for appends in flight, and the consumer gets what is left of that
 * same drain timeout, so a run lasts at most warm-up + duration + drain timeout + start/stop.
 */
import { ConfigError, type EventStore } from '../../core/event-store.ts';
import { aggregateMetrics, createNoopMetrics, createRunMetrics, type ConsumeMetrics, type RunMetrics } from '../../core/metrics.ts';
import { assembleBackendResult } from '../../report/result-assembly.ts';
import { startServerSnapshots } from '../../infra/server-snapshots.ts';
import type { BackendResult } from '../../report/load-result.ts';
import { createStore, storeModule, type BackendName, type BackendOptions, type StoreName } from '../../store/index.ts';
import { workloads } from '../../workloads/index.ts';
import { readerView } from '../../workloads/event-schemas.ts';
import { systemClock, type Clock } from './clock.ts';
import { RunConsumer } from './consumer.ts';
import { assertPipelineWorkload, CasePipeline } from './pipeline.ts';
import type { PhaseResult } from './executor.ts';
import { START_DELAY_MS, type ExecutorContext } from './executors/executor-module.ts';
import { executors } from './executors/index.ts';
import { decodeHistogram, encodeHistogram } from '../../report/histogram.ts';
import { generatorSeed } from './start-at.ts';
import { LocalLoadSide, planPregeneration, WorkerLoadSide, type LoadSide, type LoadSideConfig } from './load-side.ts';
import { LATE_SEND_MS, totalErrors } from './recorder.ts';
import { busiestPhase, judgeClientBound, ResourceSampler } from './resources.ts';
import { checkReplay, measureCatchUp, type ReplayKind } from '../bench/catch-up.ts';
import { measureProjectionRebuild } from '../bench/projection-rebuild.ts';
import { prepareCategory } from '../bench/rounds.ts';
import type { LoadScenario } from './scenario.ts';
import { rateAt, totalDurationMs, type Segment } from './schedule.ts';

export { EXECUTOR_NAMES as EXECUTORS, type ExecutorName, type LoadScenario } from './scenario.ts';

export interface Progress {
  backend: string;
  phase: string;
  elapsedMs: number;
  totalMs: number;
  targetRate: number | null;
  achievedRate: number;
  p99Ms: number;
  errors: number;
  dropped: number;
  inFlight: number;
  lag: number | null;
}

export interface RunLoadOptions {
  scenario: LoadScenario;
  /** A backend, or a raw-driver baseline (`raw-postgres`, ...): the same executor and recorder drive both. */
  backend: StoreName;
  backendOptions: BackendOptions;
  /** Managed server processes to sample CPU / memory of. */
  serverProcesses?: { name: string; pid: number }[];
  /** The monitoring endpoints of the run's NATS servers, for the server snapshots (src/infra/server-snapshots.ts). */
  natsMonitorUrls?: string[];
  clock?: Clock;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** Called once the run's metrics can be scraped: returns Prometheus exposition text. */
  onMetrics?: (scrape: (() => Promise<string>) | null) => void;
  /** Test hook: called when the measured window starts (epoch ms). */
  onMeasureStart?: (atMs: number) => void;
  /** Build every append before the clock starts (`--pregenerate`; constant and ramp only). */
  pregenerate?: boolean;
  /** After the load: time reading it all back from position 0 (runners/bench/catch-up.ts, projection-rebuild.ts). */
  replay?: ReplayKind;
}

const PROGRESS_MS = 1000;

/** A store that exposes gauges of its own on the run's registry (the hybrid's relay lag, src/store/hybrid/). */
interface StoreWithMetrics {
  registerMetrics(registry: RunMetrics['registry']): void;
}

/** Whether the scenario can run on the backend at all; checked before any server starts and again here. */
export function assertScenarioFitsBackend(backend: StoreName, scenario: Pick<LoadScenario, 'workers'>): void {
  if (!storeModule(backend).sharedAcrossThreads && scenario.workers > 1) {
    throw new ConfigError(`--workers > 1 needs a backend shared between threads; the ${backend} backend lives inside one thread (use --workers 1)`);
  }
}

/**
 * One round, with the servers' own counters before it and after it (src/infra/server-snapshots.ts): the
 * end snapshot is taken once the round's connections are closed, because a PostgreSQL session reports
 * its statistics when it ends but may hold them for up to 10 s while idle. Never fails the round: a
 * server that does not answer is recorded as unavailable.
 */
export async function runLoad(options: RunLoadOptions): Promise<BackendResult> {
  const needs = storeModule(options.backend).needs;
  const { pgUrl, natsUrl, namespace } = options.backendOptions;
  const snapshots = await startServerSnapshots({
    ...(needs.postgres && pgUrl ? { pgUrl } : {}),
    ...(needs.nats && natsUrl ? { natsUrl } : {}),
    ...(needs.nats && options.natsMonitorUrls ? { natsMonitorUrls: options.natsMonitorUrls } : {}),
    namespace: namespace ?? 'eventbench',
  });
  const result = await runRound(options);
  const serverSnapshots = await snapshots.finish();
  return serverSnapshots.length ? { ...result, serverSnapshots } : result;
}

async function runRound(options: RunLoadOptions): Promise<BackendResult> {
  const { scenario, backend } = options;
  const clock = options.clock ?? systemClock;
  const signal = options.signal ?? new AbortController().signal;
  assertScenarioFitsBackend(backend, scenario);
  const executor = executors[scenario.executor];
  executor.validate(scenario);
  if (scenario.processors) assertPipelineWorkload(scenario.workload);
  const workload = workloads[scenario.workload];
  const pregeneration = options.pregenerate ? planPregeneration(scenario) : null;
  checkReplay(options.replay, scenario.workload);
  // A raw-driver baseline writes into its adapter's tables / streams and has no subscriptions: the
  // adapter of the same namespace (opened first, so its init creates what the baseline writes into)
  // runs the consumer and reports storage, so both rounds have the same consumer work and figures.
  const adapterName = storeModule(backend).baselineOf as BackendName | undefined;
  const companion = adapterName ? await createStore(adapterName, options.backendOptions) : null;
  let store: EventStore;
  try {
    store = await createStore(backend, options.backendOptions);
  } catch (err) {
    await companion?.close().catch(() => {});
    throw err;
  }
  const adapterStore = companion ?? store;
  // Without a consumer nothing of the adapter's has touched the round's namespace yet (rounds.ts). The
  // category is made here, once, also before several workers start: each would otherwise create it on
  // its first append, all at the same moment, and concurrent creates of one stream can crash nats-server
  // 2.9.10 (src/store/jetstream/README.md; test/load/load-workers.int.test.ts).
  if ((companion || scenario.workers > 1) && !scenario.consumer && !scenario.processors) {
    try {
      await prepareCategory(adapterStore, workload.category, scenario.runId);
    } catch (err) {
      await closeQuietly(store);
      if (companion) await closeQuietly(companion);
      throw err;
    }
  }
  const mainMetrics: RunMetrics | null = scenario.metrics ? createRunMetrics(backend) : null;
  // A store with gauges of its own (the hybrid's relay lag: outbox rows waiting, the oldest's age) adds them.
  if (mainMetrics) (adapterStore as Partial<StoreWithMetrics>).registerMetrics?.(mainMetrics.registry);
  const consumeMetrics: ConsumeMetrics = mainMetrics ?? createNoopMetrics();
  const sides: LoadSide[] = [];
  let consumer: RunConsumer | null = null;
  let pipeline: CasePipeline | null = null;
  const sampler = new ResourceSampler(options.serverProcesses ?? []);
  let progressTimer: NodeJS.Timeout | null = null;
  const onAbort = (): void => sides.forEach((s) => s.stop());
  signal.addEventListener('abort', onAbort);
  try {
    const base: Omit<LoadSideConfig, 'index' | 'count'> = {
      backend,
      backendOptions: options.backendOptions,
      workload: scenario.workload,
      // `--generator-id`: each generator draws from its own fork of the seed (start-at.ts).
      seed: generatorSeed(scenario.seed, scenario.generatorId),
      runId: scenario.runId,
      metrics: scenario.metrics,
      ...(scenario.streams !== undefined ? { streams: scenario.streams } : {}),
      ...(scenario.batch !== undefined ? { batch: scenario.batch } : {}),
      ...(scenario.eventBytes !== undefined ? { eventBytes: scenario.eventBytes } : {}),
      ...(pregeneration ? { pregenerate: pregeneration.perSide } : {}),
    };
    if (scenario.workers === 1) {
      sides.push(await LocalLoadSide.open({ ...base, index: 0, count: 1 }, clock));
    } else {
      options.onProgress?.({ backend, phase: `starting ${scenario.workers} workers`, elapsedMs: 0, totalMs: 0, targetRate: null, achievedRate: 0, p99Ms: 0, errors: 0, dropped: 0, inFlight: 0, lag: null });
      const opened = await Promise.allSettled(Array.from({ length: scenario.workers }, (_, i) => WorkerLoadSide.open({ ...base, index: i, count: scenario.workers })));
      for (const o of opened) if (o.status === 'fulfilled') sides.push(o.value);
      const failed = opened.find((o) => o.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }
    if (scenario.consumer) {
      // A workload whose schemas evolve is read through its upcasters: the consumer sees current versions only.
      const reader = readerView(workload, adapterStore);
      consumer = new RunConsumer(reader.store, reader.workload, consumeMetrics, clock);
      await consumer.start(`load_${scenario.runId}`.slice(0, 64), scenario.consumerSettings);
    }
    if (scenario.processors) {
      // On the adapter's store (a raw-driver baseline's intakes are processed by the adapter's processors).
      pipeline = new CasePipeline(adapterStore, clock, scenario.runId);
      await pipeline.start();
    }
    options.onMetrics?.(
      scenario.metrics
        ? // The consumer's counts first, the load sides' after: an event is acknowledged to its sender
          // before (or about when) the consumer sees it, so a scrape never shows processed > published.
          async () => aggregateMetrics([await mainMetrics!.snapshot(), ...(await Promise.all(sides.map((s) => s.metricsSnapshot())))])
        : null,
    );
    sampler.start();

    // Live progress + per-second consumer lag for the timeline.
    const lagSamples = new Map<number, number>();
    const live = { phase: 'starting', totalMs: 0, measureStart: Number.POSITIVE_INFINITY, segments: null as Segment[] | null, segmentsStart: 0 };
    let lastAppends = 0;
    let lastTick = clock.now();
    const runStart = clock.now();
    progressTimer = setInterval(() => {
      const now = clock.now();
      const stats = sides.map((s) => s.live());
      const appends = stats.reduce((a, s) => a + s.appends, 0);
      const achieved = ((appends - lastAppends) / Math.max(1, now - lastTick)) * 1000;
      lastAppends = appends;
      lastTick = now;
      void consumer?.pollLag();
      const lag = consumer ? consumer.lag : null;
      if (lag !== null && now >= live.measureStart) lagSamples.set(Math.floor((now - live.measureStart) / 1000), lag);
      const target = live.segments ? rateAt(live.segments, now - live.segmentsStart) : null;
      mainMetrics?.setTargetRate(target ?? 0);
      options.onProgress?.({
        backend,
        phase: live.phase,
        elapsedMs: now - runStart,
        totalMs: live.totalMs,
        targetRate: target,
        achievedRate: achieved,
        p99Ms: Math.max(0, ...stats.map((s) => s.p99Ms)),
        errors: stats.reduce((a, s) => a + s.errors, 0),
        dropped: stats.reduce((a, s) => a + s.dropped, 0),
        inFlight: stats.reduce((a, s) => a + s.inFlight, 0),
        lag,
      });
    }, PROGRESS_MS);
    progressTimer.unref();

    const wholeRun = { sent: 0, appends: 0, events: 0, errors: 0, dropped: 0 };
    const ctx: ExecutorContext = {
      scenario,
      clock,
      signal,
      sides: sides.length,
      runPhase: (spec) => {
        const running = Promise.all(sides.map((s, i) => s.runPhase(spec(i))));
        // Interrupted while the sides were starting (or between phases): the phase ends at once.
        if (signal.aborted) sides.forEach((s) => s.stop());
        return running;
      },
      consumer,
      setPhase: (name) => (live.phase = name),
      setSchedule: (segments, startAt) => {
        live.segments = segments;
        live.segmentsStart = startAt;
      },
      setMeasureStart: (at) => {
        live.measureStart = at;
        pipeline?.measureWindow(at, at + scenario.durationMs);
        options.onMeasureStart?.(at);
      },
      setTotalMs: (ms) => (live.totalMs = ms + (clock.now() - runStart)),
      lagSamples,
      countWholeRun: (rs: PhaseResult[]) => {
        for (const r of rs)
          for (const w of Object.values(r)) {
            wholeRun.sent += w.sent;
            wholeRun.appends += w.appends;
            wholeRun.events += w.events;
            wholeRun.errors += totalErrors(w.errors);
            wholeRun.dropped += w.dropped;
          }
      },
      waitIdle: async (timeoutMs) => {
        const until = clock.now() + timeoutMs;
        const idle = (): boolean => sides.every((s) => s.live().inFlight === 0) && (!consumer || consumer.processed + consumer.failed >= wholeRun.events);
        while (!idle() && !signal.aborted && clock.now() < until) await clock.sleep(Math.min(20, until - clock.now()), signal);
        return idle();
      },
    };

    const executorStart = clock.now();
    const outcome = await executor.run(ctx);
    const scheduleEnd = clock.now();
    pipeline?.closeWindow(scheduleEnd);
    // One drain timeout for the whole run: what the sides used of it waiting for appends in flight is not the consumer's.
    const drainUntil = Math.max(executorStart + START_DELAY_MS, scenario.startAtMs ?? 0) + scenario.warmupMs + scenario.durationMs + scenario.drainTimeoutMs;
    const interrupted = signal.aborted;
    const measuredMs = Math.max(0, Math.min(outcome.windowMs, scheduleEnd - outcome.measureStart));
    live.phase = 'draining consumer';
    let caughtUp = false;
    if (consumer) {
      // The sides already waited for their appends in flight: the consumer gets what is left of the same drain timeout.
      caughtUp = interrupted ? consumer.processed + consumer.failed >= wholeRun.events : await consumer.drain(wholeRun.events, Math.max(0, drainUntil - clock.now()));
    }
    // The pipeline gets the same drain timeout: every case started (one intake per append) completed.
    let pipelineCaughtUp = false;
    if (pipeline) {
      live.phase = 'draining case processors';
      pipelineCaughtUp = await pipeline.drain(wholeRun.appends, interrupted ? 0 : Math.max(0, drainUntil - clock.now()), signal);
    }
    // `--replay`: after the load and its drain, so nothing else competes; through this round's own store
    // (a raw-driver baseline reads with its driver alone).
    let replay: BackendResult['replay'] = null;
    if (options.replay && !interrupted) {
      live.phase = options.replay;
      const measure = options.replay === 'catch-up' ? measureCatchUp : measureProjectionRebuild;
      replay = await measure(store, { category: workload.category, expected: wholeRun.events, clock, signal });
    }
    let storage: BackendResult['storage'] = null;
    try {
      const stats = await adapterStore.storageStats();
      storage = { events: stats.events, bytes: stats.bytes, bytesPerEvent: stats.events > 0 ? Math.round((stats.bytes / stats.events) * 10) / 10 : null, detail: stats.detail };
    } catch {
      storage = null;
    }
    const resources = sampler.stop();
    const e2e = outcome.consumerHistograms;
    const result = assembleBackendResult({
      backend,
      capabilities: { ...store.capabilities },
      interrupted,
      measured: outcome.measured,
      measuredMs,
      target: outcome.targetSegments ? targetSchedule(outcome.targetSegments) : null,
      wholeRun,
      lateThresholdMs: LATE_SEND_MS,
      lagSamples,
      ...(consumer ? { endToEndBySecond: consumer.endToEndBySecond(outcome.measureStart) } : {}),
      consumer: consumer
        ? {
            processed: consumer.processed,
            failed: consumer.failed,
            lagEnd: consumer.lag,
            lagMax: consumer.lagMax,
            caughtUp,
            settings: consumer.settings,
            endToEnd: e2e ? decodeHistogram(e2e.endToEnd) : consumer.endToEnd,
            processing: e2e ? decodeHistogram(e2e.processing) : consumer.processing,
          }
        : null,
      storage,
      resources,
      maxSearch: outcome.maxSearch,
    });
    // The histograms `eventbench merge` adds exactly (the latency and end-to-end ones are in `result` already).
    result.histograms = {
      ...result.histograms,
      serviceTime: outcome.measured.serviceTime,
      sendDelay: outcome.measured.sendDelay,
      processing: consumer ? encodeHistogram(e2e ? decodeHistogram(e2e.processing) : consumer.processing) : null,
    };
    result.start = scheduleStart(sides, outcome.measureStart, scenario.warmupMs);
    return { ...result, clientBound: loadSideVerdict(scenario, sides, result), pregenerated: pregeneratedTotals(sides), replay, pipeline: pipeline ? pipeline.result(wholeRun.appends, pipelineCaughtUp) : null };
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (progressTimer) clearInterval(progressTimer);
    sampler.stop();
    options.onMetrics?.(null);
    await consumer?.stop().catch(() => {});
    await pipeline?.stop().catch(() => {});
    await Promise.allSettled(sides.map((s) => s.close()));
    await closeQuietly(store);
    if (companion) await closeQuietly(companion);
  }
}

/** The client-bound verdict (rule: resources.ts `judgeClientBound`) from each side's busiest phase. */
function loadSideVerdict(scenario: LoadScenario, sides: LoadSide[], result: BackendResult): NonNullable<BackendResult['clientBound']> {
  const perWorker = sides.flatMap((s, i) => {
    const u = busiestPhase(s.phaseUsage());
    return u ? [{ ...u, worker: i, thread: scenario.workers > 1 ? ('worker' as const) : ('main' as const) }] : [];
  });
  return judgeClientBound({
    executor: scenario.executor,
    perWorker,
    targetPerSec: result.throughput.targetPerSec,
    appendsPerSec: result.throughput.appendsPerSec,
    dropped: result.dropped.count,
    sendDelayP99Ms: result.sendDelay.p99,
    lateThresholdMs: LATE_SEND_MS,
  });
}

/** When the schedule began and the first append left (epoch ms): what `--start-at` generators are aligned by. */
function scheduleStart(sides: LoadSide[], measureStartMs: number, warmupMs: number): NonNullable<BackendResult['start']> {
  const first = sides.map((s) => s.live().firstSend).filter((f) => f !== null).sort((a, b) => a.sent - b.sent)[0];
  return {
    scheduleStartMs: measureStartMs - warmupMs,
    measureStartMs,
    firstSendMs: first ? first.sent : null,
    firstSendLateMs: first ? Math.round((first.sent - first.intended) * 1000) / 1000 : null,
  };
}

/** What the sides built before the clock started, added up; null when nothing was pregenerated. */
function pregeneratedTotals(sides: LoadSide[]): NonNullable<BackendResult['pregenerated']> | null {
  const all = sides.map((s) => s.pregeneration()).filter((p) => p !== null);
  if (all.length === 0) return null;
  return {
    appends: all.reduce((a, p) => a + p.appends, 0),
    events: all.reduce((a, p) => a + p.events, 0),
    bytes: all.reduce((a, p) => a + p.bytes, 0),
    ms: Math.max(...all.map((p) => p.ms)),
    generatedLive: all.reduce((a, p) => a + p.generatedLive, 0),
  };
}

function targetSchedule(segments: Segment[]): { rateAt(offsetMs: number): number; meanPerSec: number } {
  const mean = segments.reduce((a, s) => a + ((s.fromRate + s.toRate) / 2) * s.durationMs, 0) / Math.max(1, totalDurationMs(segments));
  return { rateAt: (offsetMs) => rateAt(segments, offsetMs), meanPerSec: mean };
}

async function closeQuietly(store: EventStore): Promise<void> {
  try {
    await store.close();
  } catch {
    // closing after a failed run: the original error matters more
  }
}
