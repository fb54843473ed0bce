/**
 * One load run against one backend: opens the load sides (this thread, or N worker threads each with
 * its own store connection and rate/N), the consumer and the resource sampler, drives the executor
 * (`constant`, `ramp`, `closed`, `max`), and turns what was recorded into a `BackendResult`.
 *
 * The `max` executor searches the highest sustainable rate the way OMB's rate controller does: raise the
 * rate while the backlog stays bounded (nothing dropped or left in flight, the consumer keeps up) and the
 * latency objective holds, then bisect between the last good and the first bad rate.
 */
import { ConfigError, type EventStore } from '../../core/event-store.ts';
import { aggregateMetrics, createNoopMetrics, createRunMetrics, type ConsumeMetrics, type RunMetrics } from '../../core/metrics.ts';
import { createStore, type BackendName, type BackendOptions } from '../../store/index.ts';
import { workloads, type WorkloadName } from '../../workloads/index.ts';
import type { BackendResult, MaxStep, TimelineEntry } from '../../report/load-result.ts';
import { systemClock, type Clock } from './clock.ts';
import type { PhaseResult, PhaseSpec, PhaseWindow } from './executor.ts';
import { encodeHistogram, decodeHistogram, summarize, type LatencySummary } from './histogram.ts';
import { LocalLoadSide, WorkerLoadSide, type LoadSide, type LoadSideConfig } from './load-side.ts';
import { RunConsumer } from './consumer.ts';
import { LATE_SEND_MS, mergeWindowResults, totalErrors, type WindowResult } from './recorder.ts';
import { ResourceSampler } from './resources.ts';
import { constantSegments, rampSegments, rateAt, totalDurationMs, type Segment } from './schedule.ts';
import type { Stage, Threshold } from './parse.ts';

export const EXECUTORS = ['constant', 'ramp', 'closed', 'max'] as const;
export type ExecutorName = (typeof EXECUTORS)[number];

export interface LoadScenario {
  executor: ExecutorName;
  workload: WorkloadName;
  seed: number;
  /** Prefix of stream names / event ids, so runs never collide in one namespace. */
  runId: string;
  /** constant: the rate; max: the first rate tried; ramp: the start rate (default 0). Appends/s. */
  rate?: number;
  stages?: Stage[];
  writers?: number;
  /** Measured duration (max: the whole search), excluding warm-up. */
  durationMs: number;
  warmupMs: number;
  maxInFlight: number;
  workers: number;
  streams?: number;
  /** max: the latency objective (a latency threshold such as p99<50ms). */
  slo?: Threshold;
  /** max: length of one step. */
  stepDurationMs?: number;
  drainTimeoutMs: number;
  consumer: boolean;
  metrics: boolean;
}

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
  backend: BackendName;
  backendOptions: BackendOptions;
  /** Managed server processes to sample CPU / memory of. */
  serverProcesses?: { name: string; pid: number }[];
  clock?: Clock;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** Called once the run's metrics can be scraped: returns Prometheus exposition text. */
  onMetrics?: (scrape: (() => Promise<string>) | null) => void;
  /** Test hook: called when the measured window starts (epoch ms). */
  onMeasureStart?: (atMs: number) => void;
}

const START_DELAY_MS = 50;
const PROGRESS_MS = 1000;

export async function runLoad(options: RunLoadOptions): Promise<BackendResult> {
  const { scenario, backend } = options;
  const clock = options.clock ?? systemClock;
  const signal = options.signal ?? new AbortController().signal;
  if (backend === 'memory' && scenario.workers > 1) {
    throw new ConfigError('--workers > 1 needs a backend shared between threads; the memory backend lives inside one thread (use --workers 1)');
  }
  const workload = workloads[scenario.workload];
  const store = await createStore(backend, options.backendOptions);
  const mainMetrics: RunMetrics | null = scenario.metrics ? createRunMetrics(backend) : null;
  const consumeMetrics: ConsumeMetrics = mainMetrics ?? createNoopMetrics();
  const sides: LoadSide[] = [];
  let consumer: RunConsumer | null = null;
  const sampler = new ResourceSampler(options.serverProcesses ?? []);
  let progressTimer: NodeJS.Timeout | null = null;
  const onAbort = (): void => sides.forEach((s) => s.stop());
  signal.addEventListener('abort', onAbort);
  try {
    const base: Omit<LoadSideConfig, 'index' | 'count'> = {
      backend,
      backendOptions: options.backendOptions,
      workload: scenario.workload,
      seed: scenario.seed,
      runId: scenario.runId,
      metrics: scenario.metrics,
      ...(scenario.streams !== undefined ? { streams: scenario.streams } : {}),
    };
    if (scenario.workers === 1) {
      sides.push(await LocalLoadSide.open({ ...base, index: 0, count: 1 }, clock));
    } else {
      const opened = await Promise.allSettled(Array.from({ length: scenario.workers }, (_, i) => WorkerLoadSide.open({ ...base, index: i, count: scenario.workers })));
      for (const o of opened) if (o.status === 'fulfilled') sides.push(o.value);
      const failed = opened.find((o) => o.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }
    if (scenario.consumer) {
      consumer = new RunConsumer(store, workload, consumeMetrics, clock);
      await consumer.start(`load_${scenario.runId}`.slice(0, 64));
    }
    options.onMetrics?.(
      scenario.metrics
        ? async () => aggregateMetrics([await mainMetrics!.snapshot(), ...(await Promise.all(sides.map((s) => s.metricsSnapshot())))])
        : null,
    );
    sampler.start();

    // Live progress + per-second consumer lag for the timeline.
    const lagBySecond = new Map<number, number>();
    const live = { phase: 'starting', phaseStart: clock.now(), totalMs: 0, measureStart: Number.POSITIVE_INFINITY, segments: null as Segment[] | null, segmentsStart: 0 };
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
      if (lag !== null && now >= live.measureStart) lagBySecond.set(Math.floor((now - live.measureStart) / 1000), lag);
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

    const n = sides.length;
    const runAll = async (spec: (i: number) => PhaseSpec): Promise<PhaseResult[]> => Promise.all(sides.map((s, i) => s.runPhase(spec(i))));
    const share = (segments: Segment[]): Segment[] => segments.map((s) => ({ fromRate: s.fromRate / n, toRate: s.toRate / n, durationMs: s.durationMs }));
    /** Side i starts i/n of an arrival interval later, so N workers interleave instead of sending in bursts of N. */
    const stagger = (segments: Segment[], i: number): number => (segments[0] && segments[0].fromRate > 0 ? (i * 1000) / segments[0].fromRate : 0);
    const windows = (warmupMs: number): PhaseWindow[] =>
      warmupMs > 0 ? [{ name: 'warmup', endOffsetMs: warmupMs }, { name: 'measure', endOffsetMs: Number.MAX_SAFE_INTEGER }] : [{ name: 'measure', endOffsetMs: Number.MAX_SAFE_INTEGER }];

    let measured: WindowResult;
    let measureStart: number;
    let measuredSegments: Segment[] | null = null;
    let maxSearch: BackendResult['maxSearch'] = null;
    let e2eFromStep: { endToEnd: string; processing: string } | null = null;
    const wholeRun = { sent: 0, appends: 0, events: 0, errors: 0, dropped: 0 };
    const addWhole = (rs: PhaseResult[]): void => {
      for (const r of rs)
        for (const w of Object.values(r)) {
          wholeRun.sent += w.sent;
          wholeRun.appends += w.appends;
          wholeRun.events += w.events;
          wholeRun.errors += totalErrors(w.errors);
          wholeRun.dropped += w.dropped;
        }
    };

    if (scenario.executor === 'max') {
      const out = await runMaxSearch();
      measured = out.measured;
      measureStart = out.measureStart;
      measuredSegments = constantSegments(out.rate, scenario.stepDurationMs!);
      maxSearch = out.search;
      e2eFromStep = out.e2e;
    } else {
      const startAt = clock.now() + START_DELAY_MS;
      measureStart = startAt + scenario.warmupMs;
      const endAt = measureStart + scenario.durationMs;
      consumer?.measureWindow(measureStart, endAt);
      live.measureStart = measureStart;
      live.totalMs = scenario.warmupMs + scenario.durationMs + (startAt - runStart);
      live.phase = scenario.warmupMs > 0 ? 'warmup' : 'measure';
      const phaseTimer = scenario.warmupMs > 0 ? setTimeout(() => (live.phase = 'measure'), scenario.warmupMs + START_DELAY_MS) : null;
      phaseTimer?.unref();
      options.onMeasureStart?.(measureStart);
      let results: PhaseResult[];
      if (scenario.executor === 'closed') {
        const writers = scenario.writers ?? 1;
        results = await runAll((i) => ({
          kind: 'closed',
          startAt,
          durationMs: scenario.warmupMs + scenario.durationMs,
          writers: Math.floor(writers / n) + (i < writers % n ? 1 : 0),
          windows: windows(scenario.warmupMs),
          maxInFlight: Number.MAX_SAFE_INTEGER,
          drainTimeoutMs: scenario.drainTimeoutMs,
        }));
      } else {
        let segments: Segment[];
        if (scenario.executor === 'constant') {
          segments = constantSegments(scenario.rate!, scenario.warmupMs + scenario.durationMs);
          measuredSegments = constantSegments(scenario.rate!, scenario.durationMs);
        } else {
          const stages = scenario.stages!;
          const ramp = rampSegments(scenario.rate ?? 0, stages);
          measuredSegments = ramp;
          segments = scenario.warmupMs > 0 ? [...constantSegments(scenario.rate ?? stages[0]!.rate, scenario.warmupMs), ...ramp] : ramp;
        }
        live.segments = segments;
        live.segmentsStart = startAt;
        results = await runAll((i) => ({
          kind: 'open',
          startAt: startAt + stagger(segments, i),
          durationMs: totalDurationMs(segments),
          segments: share(segments),
          windows: windows(scenario.warmupMs),
          maxInFlight: Math.max(1, Math.floor(scenario.maxInFlight / n)),
          drainTimeoutMs: scenario.drainTimeoutMs,
        }));
      }
      if (phaseTimer) clearTimeout(phaseTimer);
      addWhole(results);
      measured = mergeWindowResults(results.map((r) => r.measure!).filter(Boolean));
    }

    const interrupted = signal.aborted;
    const windowMs = scenario.executor === 'max' ? scenario.stepDurationMs! : scenario.durationMs;
    const measuredMs = Math.max(0, Math.min(windowMs, clock.now() - measureStart));
    live.phase = 'draining consumer';
    let caughtUp = false;
    if (consumer) caughtUp = interrupted ? consumer.processed + consumer.failed >= wholeRun.events : await consumer.drain(wholeRun.events, scenario.drainTimeoutMs);
    let storage: BackendResult['storage'] = null;
    try {
      const stats = await store.storageStats();
      storage = { events: stats.events, bytes: stats.bytes, bytesPerEvent: stats.events > 0 ? Math.round((stats.bytes / stats.events) * 10) / 10 : null, detail: stats.detail };
    } catch {
      storage = null;
    }
    const resources = sampler.stop();

    const seconds = measuredMs / 1000;
    const latency = decodeHistogram(measured.latency);
    const errorsTotal = totalErrors(measured.errors);
    const attempted = measured.sent + measured.dropped;
    const timeline: TimelineEntry[] = measured.timeline
      .filter((t) => t.second * 1000 < Math.max(measuredMs, 1))
      .map((t) => {
        const s = summarize(decodeHistogram(t.latency));
        return {
          second: t.second,
          targetRate: measuredSegments ? Math.round(rateAt(measuredSegments, t.second * 1000 + 500) * 10) / 10 : null,
          appends: t.appends,
          events: t.events,
          errors: t.errors,
          dropped: t.dropped,
          p50: s.p50,
          p99: s.p99,
          max: s.max,
          lag: lagBySecond.get(t.second) ?? null,
        };
      });
    const targetPerSec = measuredSegments
      ? measuredSegments.reduce((a, s) => a + ((s.fromRate + s.toRate) / 2) * s.durationMs, 0) / Math.max(1, totalDurationMs(measuredSegments))
      : null;
    const round1 = (v: number): number => Math.round(v * 10) / 10;
    const e2e = e2eFromStep ? decodeHistogram(e2eFromStep.endToEnd) : consumer?.endToEnd;
    const processing = e2eFromStep ? decodeHistogram(e2eFromStep.processing) : consumer?.processing;
    return {
      backend,
      capabilities: { ...store.capabilities },
      error: null,
      interrupted,
      measuredSeconds: Math.round(seconds * 100) / 100,
      throughput: {
        eventsPerSec: seconds > 0 ? round1(measured.eventsAckedInWindow / seconds) : 0,
        appendsPerSec: seconds > 0 ? round1((measured.eventsAckedInWindow / Math.max(1, measured.events)) * (measured.appends / seconds)) : 0,
        targetPerSec: targetPerSec === null ? null : round1(targetPerSec),
      },
      latency: summarize(latency),
      serviceTime: summarize(decodeHistogram(measured.serviceTime)),
      sendDelay: summarize(decodeHistogram(measured.sendDelay)),
      endToEnd: consumer && e2e ? summarize(e2e) : null,
      processing: consumer && processing ? summarize(processing) : null,
      totals: { sent: measured.sent, appends: measured.appends, events: measured.events, unfinished: measured.unfinished, wholeRun },
      errors: { ...measured.errors, total: errorsTotal, rate: measured.sent > 0 ? errorsTotal / measured.sent : 0 },
      dropped: { count: measured.dropped, rate: attempted > 0 ? measured.dropped / attempted : 0 },
      late: { count: measured.late, thresholdMs: LATE_SEND_MS },
      consumer: consumer ? { processed: consumer.processed, failed: consumer.failed, lagEnd: consumer.lag, lagMax: consumer.lagMax, caughtUp } : null,
      storage,
      resources,
      timeline,
      maxSearch,
      thresholds: [],
      histograms: { unit: 'microseconds', latency: measured.latency, endToEnd: consumer && e2e ? encodeHistogram(e2e) : null },
    };

    /** OMB-style search for the highest rate that meets the SLO with a bounded backlog. */
    async function runMaxSearch(): Promise<{ measured: WindowResult; measureStart: number; rate: number; search: NonNullable<BackendResult['maxSearch']>; e2e: { endToEnd: string; processing: string } | null }> {
      const slo = scenario.slo!;
      const stepMs = scenario.stepDurationMs!;
      let rate = scenario.rate ?? 1000;
      let good = 0;
      let bad = Number.POSITIVE_INFINITY;
      const steps: MaxStep[] = [];
      type StepOutcome = { measured: WindowResult; start: number; rate: number; e2e: { endToEnd: string; processing: string } | null; lag: Map<number, number> };
      let best: StepOutcome | null = null as StepOutcome | null;
      let last: StepOutcome | null = null as StepOutcome | null;
      live.totalMs = scenario.warmupMs + scenario.durationMs;
      if (scenario.warmupMs > 0) {
        live.phase = 'warmup';
        const startAt = clock.now() + START_DELAY_MS;
        live.segments = constantSegments(rate, scenario.warmupMs);
        live.segmentsStart = startAt;
        addWhole(await runAll(() => ({ kind: 'open', startAt, durationMs: scenario.warmupMs, segments: share(constantSegments(rate, scenario.warmupMs)), windows: [{ name: 'measure', endOffsetMs: Number.MAX_SAFE_INTEGER }], maxInFlight: Math.max(1, Math.floor(scenario.maxInFlight / n)), drainTimeoutMs: scenario.drainTimeoutMs })));
      }
      const deadline = clock.now() + scenario.durationMs;
      for (let step = 1; step <= 30 && !signal.aborted && clock.now() + stepMs <= deadline + 1000; step++) {
        live.phase = `step ${step} @ ${Math.round(rate)}/s`;
        const startAt = clock.now() + START_DELAY_MS;
        const segments = constantSegments(rate, stepMs);
        live.segments = segments;
        live.segmentsStart = startAt;
        live.measureStart = startAt;
        lagBySecond.clear();
        consumer?.resetHistograms();
        consumer?.measureWindow(startAt, startAt + stepMs);
        const rs = await runAll((i) => ({ kind: 'open', startAt: startAt + stagger(segments, i), durationMs: stepMs, segments: share(segments), windows: [{ name: 'measure', endOffsetMs: Number.MAX_SAFE_INTEGER }], maxInFlight: Math.max(1, Math.floor(scenario.maxInFlight / n)), drainTimeoutMs: Math.min(stepMs, 2000) }));
        addWhole(rs);
        const m = mergeWindowResults(rs.map((r) => r.measure!));
        const lat = summarize(decodeHistogram(m.latency));
        const lag = consumer ? await consumer.pollLag() : null;
        const achieved = m.eventsAckedInWindow / (stepMs / 1000);
        const errs = totalErrors(m.errors);
        const reasons: string[] = [];
        const sloActual = latencyValue(lat, slo);
        if (!compare(sloActual, slo)) reasons.push(`${slo.metric} ${sloActual}ms breaks ${slo.source}`);
        if (m.dropped > 0) reasons.push(`${m.dropped} dropped`);
        if (m.unfinished > 0) reasons.push(`${m.unfinished} still in flight`);
        if (achieved < rate * 0.95) reasons.push(`achieved ${Math.round(achieved)}/s < 95% of target`);
        if (errs > m.sent * 0.01) reasons.push(`${errs} errors`);
        // Bounded backlog: the consumer may trail by at most one second of production.
        if (lag !== null && lag > rate) reasons.push(`consumer lag ${lag} > 1 s of production`);
        const passed = reasons.length === 0 && !signal.aborted;
        steps.push({ step, targetRate: Math.round(rate * 10) / 10, achievedRate: Math.round(achieved * 10) / 10, p50: lat.p50, p99: lat.p99, errors: errs, dropped: m.dropped, unfinished: m.unfinished, lag, passed, reason: passed ? 'ok' : reasons.join('; ') || 'interrupted' });
        const e2e = consumer ? { endToEnd: encodeHistogram(consumer.endToEnd), processing: encodeHistogram(consumer.processing) } : null;
        last = { measured: m, start: startAt, rate, e2e, lag: new Map(lagBySecond) };
        if (passed) {
          good = rate;
          best = last;
        } else {
          bad = rate;
        }
        if (Number.isFinite(bad) && good > 0 && bad / good <= 1.1) break;
        rate = Number.isFinite(bad) ? (good > 0 ? (good + bad) / 2 : rate / 2) : rate * 2;
        if (rate < 1) break;
      }
      const chosen = best ?? last;
      if (chosen) {
        // The timeline shows the chosen step: its own per-second lag samples.
        lagBySecond.clear();
        for (const [k, v] of chosen.lag) lagBySecond.set(k, v);
      }
      if (!chosen) throw new ConfigError(`--duration is shorter than one --step-duration (${stepMs} ms): the max search needs at least one step`);
      return {
        measured: chosen.measured,
        measureStart: chosen.start,
        rate: chosen.rate,
        search: { slo: slo.source, sustainableRate: best ? Math.round(best.rate * 10) / 10 : null, steps },
        e2e: chosen.e2e,
      };
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (progressTimer) clearInterval(progressTimer);
    sampler.stop();
    options.onMetrics?.(null);
    await consumer?.stop().catch(() => {});
    await Promise.allSettled(sides.map((s) => s.close()));
    await closeQuietly(store);
  }
}

function latencyValue(s: LatencySummary, t: Threshold): number {
  const key = t.metric as keyof LatencySummary;
  return key in s ? s[key] : s.p99;
}

function compare(actual: number, t: Threshold): boolean {
  return t.op === '<' ? actual < t.value : t.op === '<=' ? actual <= t.value : t.op === '>' ? actual > t.value : actual >= t.value;
}

async function closeQuietly(store: EventStore): Promise<void> {
  try {
    await store.close();
  } catch {
    // closing after a failed run: the original error matters more
  }
}
