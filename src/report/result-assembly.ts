/**
 * Result assembly: what a load run measured (the measured window, the whole-run totals, the consumer,
 * storage and resource figures) turned into one `BackendResult` of the results schema; the
 * `BackendResult` of a backend that failed before it measured anything; and the whole `LoadResult` of a
 * `load` or `bench` command.
 */
import type { Environment } from '../core/environment.ts';
import { ERROR_KINDS, type ErrorKind } from '../core/metrics.ts';
import { decodeHistogram, encodeHistogram, summarize, type Histogram } from './histogram.ts';
import { LOAD_RESULT_SCHEMA_VERSION, type BackendResult, type BenchBlock, type ExecutorName, type LoadResult, type TimelineEntry } from './load-result.ts';

/**
 * What the load side recorded in one window (the runner's `WindowResult` extends this): plain data that
 * crosses worker threads, histograms encoded (histogram.ts).
 */
export interface MeasuredWindow {
  /** Appends sent (acknowledged + failed + unfinished). */
  sent: number;
  appends: number;
  events: number;
  /** Events acknowledged inside the window (by ack time): the throughput numerator. */
  eventsAckedInWindow: number;
  errors: Record<ErrorKind, number>;
  dropped: number;
  late: number;
  /** Sent but neither acknowledged nor failed when the window was closed (backlog). */
  unfinished: number;
  latency: string;
  serviceTime: string;
  sendDelay: string;
  timeline: { second: number; appends: number; events: number; errors: number; dropped: number; latency: string }[];
  /**
   * The closed loop's retry policy (`--retries N`): conflicts answered by re-reading the stream version and
   * retrying, appends that needed any, appends given up after N, and the latency (first send -> final ack)
   * of the retried ones. Absent without a retry policy.
   */
  retries?: { limit: number; retries: number; retriedAppends: number; abandoned: number; retriedLatency: string };
}

/** The measured window's target schedule (open loop): the rate at an offset, and its mean. */
export interface TargetSchedule {
  rateAt(offsetMs: number): number;
  meanPerSec: number;
}

export interface MeasuredRun {
  backend: string;
  capabilities: BackendResult['capabilities'];
  interrupted: boolean;
  /** The measured window and how long it actually lasted (ms). */
  measured: MeasuredWindow;
  measuredMs: number;
  /** Null for closed loop. */
  target: TargetSchedule | null;
  wholeRun: BackendResult['totals']['wholeRun'];
  lateThresholdMs: number;
  /** Per-second consumer lag of the measured window. */
  lagSamples: Map<number, number>;
  /** Per-second end-to-end p50 / p99 (ms) of the measured window (consumer.ts); absent without a consumer. */
  endToEndBySecond?: Map<number, { p50: number; p99: number }>;
  consumer: (NonNullable<BackendResult['consumer']> & { endToEnd: Histogram; processing: Histogram }) | null;
  storage: BackendResult['storage'];
  resources: BackendResult['resources'];
  maxSearch: BackendResult['maxSearch'];
}

const round1 = (v: number): number => Math.round(v * 10) / 10;
const e2eOf = (v: { p50: number; p99: number } | undefined): { e2eP50?: number; e2eP99?: number } => (v ? { e2eP50: v.p50, e2eP99: v.p99 } : {});

export function assembleBackendResult(run: MeasuredRun): BackendResult {
  const { measured, measuredMs, target } = run;
  const seconds = measuredMs / 1000;
  const errorsTotal = ERROR_KINDS.reduce((sum, k) => sum + measured.errors[k], 0);
  const attempted = measured.sent + measured.dropped;
  // Every second of the window has a row, also one in which nothing was acknowledged (a stalled server
  // in a closed loop): a missing row would hide exactly the second that matters.
  const recorded = new Map(measured.timeline.map((t) => [t.second, t]));
  const windowSeconds = Math.max(1, Math.ceil(measuredMs / 1000));
  const timeline: TimelineEntry[] = Array.from({ length: windowSeconds }, (_, second) => {
    const t = recorded.get(second);
    const s = t ? summarize(decodeHistogram(t.latency)) : null;
    return {
      second,
      targetRate: target ? round1(target.rateAt(second * 1000 + 500)) : null,
      appends: t?.appends ?? 0,
      events: t?.events ?? 0,
      errors: t?.errors ?? 0,
      dropped: t?.dropped ?? 0,
      p50: s?.p50 ?? 0,
      p99: s?.p99 ?? 0,
      max: s?.max ?? 0,
      lag: run.lagSamples.get(second) ?? null,
      ...e2eOf(run.endToEndBySecond?.get(second)),
    };
  });
  const targetPerSec = target ? target.meanPerSec : null;
  const consumer = run.consumer;
  return {
    backend: run.backend,
    run: 1,
    baselineOf: null,
    latencyAt: null,
    capabilities: run.capabilities,
    error: null,
    interrupted: run.interrupted,
    measuredSeconds: Math.round(seconds * 100) / 100,
    throughput: {
      eventsPerSec: seconds > 0 ? round1(measured.eventsAckedInWindow / seconds) : 0,
      appendsPerSec: seconds > 0 ? round1((measured.eventsAckedInWindow / Math.max(1, measured.events)) * (measured.appends / seconds)) : 0,
      targetPerSec: targetPerSec === null ? null : round1(targetPerSec),
    },
    latency: summarize(decodeHistogram(measured.latency)),
    serviceTime: summarize(decodeHistogram(measured.serviceTime)),
    sendDelay: summarize(decodeHistogram(measured.sendDelay)),
    endToEnd: consumer ? summarize(consumer.endToEnd) : null,
    processing: consumer ? summarize(consumer.processing) : null,
    totals: { sent: measured.sent, appends: measured.appends, events: measured.events, unfinished: measured.unfinished, wholeRun: run.wholeRun },
    errors: { ...measured.errors, total: errorsTotal, rate: measured.sent > 0 ? errorsTotal / measured.sent : 0 },
    dropped: { count: measured.dropped, rate: attempted > 0 ? measured.dropped / attempted : 0 },
    late: { count: measured.late, thresholdMs: run.lateThresholdMs },
    consumer: consumer ? { processed: consumer.processed, failed: consumer.failed, lagEnd: consumer.lagEnd, lagMax: consumer.lagMax, caughtUp: consumer.caughtUp, ...(consumer.settings !== undefined ? { settings: consumer.settings } : {}) } : null,
    storage: run.storage,
    resources: run.resources,
    timeline,
    maxSearch: run.maxSearch,
    ...(measured.retries ? { retries: retriesBlock(measured.retries, measured.appends) } : {}),
    thresholds: [],
    histograms: { unit: 'microseconds', latency: measured.latency, endToEnd: consumer ? encodeHistogram(consumer.endToEnd) : null },
  };
}

/** What the retries cost, per successful append (`retries` of the result). */
function retriesBlock(r: NonNullable<MeasuredWindow['retries']>, appends: number): NonNullable<BackendResult['retries']> {
  return {
    limit: r.limit,
    retries: r.retries,
    retriedAppends: r.retriedAppends,
    abandoned: r.abandoned,
    retriesPerSuccess: appends > 0 ? Math.round((r.retries / appends) * 10_000) / 10_000 : 0,
    retriedShare: appends > 0 ? Math.round((r.retriedAppends / appends) * 10_000) / 10_000 : 0,
    retriedLatency: summarize(decodeHistogram(r.retriedLatency)),
  };
}

/** The result of a backend whose run failed (bench continues with the next backend). */
export function failedBackendResult(backend: string, err: Error, loadGeneratorPid: number): BackendResult {
  const zero = { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  const errors = Object.fromEntries(ERROR_KINDS.map((k) => [k, 0])) as Record<ErrorKind, number>;
  return {
    backend,
    run: 1,
    baselineOf: null,
    latencyAt: null,
    capabilities: null,
    error: err.message,
    interrupted: false,
    measuredSeconds: 0,
    throughput: { eventsPerSec: 0, appendsPerSec: 0, targetPerSec: null },
    latency: zero,
    serviceTime: zero,
    sendDelay: zero,
    endToEnd: null,
    processing: null,
    totals: { sent: 0, appends: 0, events: 0, unfinished: 0, wholeRun: { sent: 0, appends: 0, events: 0, errors: 0, dropped: 0 } },
    errors: { ...errors, total: 0, rate: 0 },
    dropped: { count: 0, rate: 0 },
    late: { count: 0, thresholdMs: 0 },
    consumer: null,
    storage: null,
    resources: { loadGenerator: { name: 'load generator', pid: loadGeneratorPid, cpuPercent: 0, cpuSeconds: 0, rssMaxBytes: 0, rssEndBytes: 0 }, servers: [] },
    timeline: [],
    maxSearch: null,
    thresholds: [],
    histograms: { unit: 'microseconds', latency: '', endToEnd: null },
  };
}

/** The run's parameters as the runner holds them (src/runners/load/scenario.ts's `LoadScenario` extends this). */
export interface ScenarioInput {
  executor: ExecutorName;
  workload: string;
  seed: number;
  /** Prefix of stream names / event ids, so runs never collide in one namespace. */
  runId: string;
  /** constant: the rate; max: the first rate tried; ramp: the start rate (default 0). Appends/s. */
  rate?: number;
  stages?: { rate: number; durationMs: number }[];
  writers?: number;
  /** Measured duration (max: the whole search), excluding warm-up. */
  durationMs: number;
  warmupMs: number;
  maxInFlight: number;
  workers: number;
  streams?: number;
  /** max: the latency objective (a latency threshold such as p99<50ms). */
  slo?: { source: string };
  /** max: length of one step. */
  stepDurationMs?: number;
  /** After the schedule: how long at most to wait for appends in flight and for the consumer. */
  drainTimeoutMs: number;
  consumer: boolean;
  metrics: boolean;
}

export interface LoadRunRecord {
  command: 'load' | 'bench';
  scenario: ScenarioInput;
  namespace: string;
  /** The thresholds as the user wrote them. */
  thresholds: string[];
  backends: string[];
  infra: string | null;
  environment: Environment;
  results: BackendResult[];
  interrupted: boolean;
  /** `bench` only: baselines, efficiency, runs, durability. */
  bench?: BenchBlock;
}

export function assembleLoadResult(run: LoadRunRecord): LoadResult {
  const { scenario, environment } = run;
  const load = environment.machine.loadAverage;
  return {
    schemaVersion: LOAD_RESULT_SCHEMA_VERSION,
    tool: 'eventbench',
    createdAt: new Date().toISOString(),
    environment,
    scenario: {
      command: run.command,
      executor: scenario.executor,
      workload: scenario.workload,
      seed: scenario.seed,
      runId: scenario.runId,
      namespace: run.namespace,
      rate: scenario.rate ?? null,
      stages: scenario.stages ?? null,
      writers: scenario.writers ?? null,
      durationMs: scenario.durationMs,
      warmupMs: scenario.warmupMs,
      maxInFlight: scenario.maxInFlight,
      workers: scenario.workers,
      streams: scenario.streams ?? null,
      slo: scenario.slo?.source ?? null,
      stepDurationMs: scenario.stepDurationMs ?? null,
      drainTimeoutMs: scenario.drainTimeoutMs,
      consumer: scenario.consumer,
      metrics: scenario.metrics,
      thresholds: run.thresholds,
      backends: run.backends,
      infra: run.infra,
    },
    backends: run.results,
    thresholdsPassed: run.results.every((r) => r.thresholds.every((t) => t.passed)),
    bench: run.bench ?? null,
    sweep: null,
    notes: [
      `${environment.machine.cores} cores shared by the load generator and the servers${load.length ? ` (load average at start ${load.map((l) => l.toFixed(2)).join(' ')})` : ''}; compare backends measured in the same run.`,
      ...(run.interrupted ? ['interrupted by a signal: partial results'] : []),
    ],
  };
}

/** The measured values thresholds are judged on; null where the run did not measure it (no consumer). */
export function thresholdValues(result: BackendResult): Record<'p50' | 'p90' | 'p99' | 'p999' | 'max' | 'e2e_p99' | 'error_rate' | 'dropped' | 'dropped_rate' | 'rate', number | null> {
  return {
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    p999: result.latency.p999,
    max: result.latency.max,
    e2e_p99: result.endToEnd && result.endToEnd.count > 0 ? result.endToEnd.p99 : null,
    error_rate: result.errors.rate,
    dropped: result.dropped.count,
    dropped_rate: result.dropped.rate,
    rate: result.throughput.eventsPerSec,
  };
}
