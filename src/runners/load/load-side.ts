/**
 * Where the load side runs: in this thread (`LocalLoadSide`) or in a worker thread with its own store
 * connection (`WorkerLoadSide`, for rates one Node thread cannot drive: ~22-25k JetStream publishes/s
 * here). Both speak the same small protocol: run a phase, report live stats and a metrics snapshot.
 * Each side also measures its own thread over every phase (event-loop utilisation, the thread's CPU),
 * from which the run is judged client-bound or not (resources.ts), and can build its appends before the
 * clock starts (`pregenerate`), so that generating them costs nothing while measuring.
 */
import { totalmem } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ConfigError, StoreUnavailableError, type EventStore } from '../../core/event-store.ts';
import { createNoopMetrics, createRunMetrics, type MetricsSnapshot, type RunMetrics } from '../../core/metrics.ts';
import { Random } from '../../core/random.ts';
import { createStore, type BackendOptions, type StoreName } from '../../store/index.ts';
import { workloads, type WorkloadName } from '../../workloads/index.ts';
import type { WorkloadOptions } from '../../workloads/workload.ts';
import { systemClock, type Clock } from './clock.ts';
import { LoadExecutor, type AppendOutcome, type LiveStats, type ObservingGenerator, type PhaseResult, type PhaseSpec } from './executor.ts';
import { ThreadMeter, type ThreadUsage } from './resources.ts';
import { fmtCount, formatRate } from '../../report/format.ts';
import { formatDuration } from './parse.ts';
import type { LoadScenario } from './scenario.ts';
import type { PlannedAppend } from '../../workloads/workload.ts';

export interface LoadSideConfig {
  backend: StoreName;
  backendOptions: BackendOptions;
  workload: WorkloadName;
  seed: number;
  streams?: number;
  /** Events per append (`--batch`, synthetic workload). */
  batch?: number;
  /** Bytes of each event's data (`--event-size`, synthetic workload). */
  eventBytes?: number;
  runId: string;
  metrics: boolean;
  /** This side's index and the number of sides: seeds and stream names differ per side. */
  index: number;
  count: number;
  /** Appends this side builds before the run starts (`--pregenerate`); absent: generated as sent. */
  pregenerate?: number;
}

/** What a side built before the clock started, and how many appends it still had to generate live. */
export interface Pregeneration {
  appends: number;
  events: number;
  /** JSON bytes of the events' data and metadata (what the limit was estimated from). */
  bytes: number;
  ms: number;
  /** Appends sent after the pregenerated ones ran out (generated live; 0 when the estimate held). */
  generatedLive: number;
}

export interface LoadSide {
  runPhase(spec: PhaseSpec): Promise<PhaseResult>;
  live(): LiveStats;
  metricsSnapshot(): Promise<MetricsSnapshot>;
  /** Aborts the phase in progress (it still returns what it recorded). */
  stop(): void;
  close(): Promise<void>;
  /** This side's thread over each phase run so far, in order. */
  phaseUsage(): ThreadUsage[];
  /** What was built before the clock started; null without `pregenerate`. */
  pregeneration(): Pregeneration | null;
}

/** Seed of side `index`: side 0 uses the run's seed, so one worker reproduces an in-process run. */
export function sideSeed(seed: number, index: number): number {
  return index === 0 ? seed : new Random(seed).fork(`load-side-${index}`).seed;
}

export function createGenerator(config: Pick<LoadSideConfig, 'workload' | 'seed' | 'runId' | 'streams' | 'batch' | 'eventBytes' | 'index' | 'count'>): ObservingGenerator {
  const options: WorkloadOptions & { runId: string; batch?: number; eventBytes?: number } = {
    seed: sideSeed(config.seed, config.index),
    runId: config.count > 1 ? `${config.runId}w${config.index}` : config.runId,
    ...(config.streams !== undefined ? { streams: config.streams } : {}),
    ...(config.batch !== undefined ? { batch: config.batch } : {}),
    ...(config.eventBytes !== undefined ? { eventBytes: config.eventBytes } : {}),
  };
  return workloads[config.workload].create(options);
}

/**
 * Serves `count` appends built up front, then (should the estimate fall short) the live generator's next
 * ones, counted. The expected versions were planned as if every append succeeds, as the live generator
 * plans them; only its resynchronisation after a conflict comes too late for appends already built, so a
 * run with conflicts should not be pregenerated. Each served append is released for the GC at once.
 */
export class PregeneratedGenerator implements ObservingGenerator {
  private readonly planned: (PlannedAppend | undefined)[];
  private served = 0;
  readonly info: Pregeneration;

  constructor(
    private readonly live: ObservingGenerator,
    count: number,
  ) {
    const t0 = performance.now();
    this.planned = new Array<PlannedAppend | undefined>(count);
    let events = 0;
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const p = live.next();
      this.planned[i] = p;
      events += p.events.length;
      for (const e of p.events) bytes += JSON.stringify(e.data).length + (e.metadata ? JSON.stringify(e.metadata).length : 0);
    }
    this.info = { appends: count, events, bytes, ms: Math.round(performance.now() - t0), generatedLive: 0 };
  }

  next(): PlannedAppend {
    if (this.served < this.planned.length) {
      const p = this.planned[this.served]!;
      this.planned[this.served++] = undefined;
      return p;
    }
    this.info.generatedLive += 1;
    return this.live.next();
  }

  observe(planned: PlannedAppend, outcome: AppendOutcome): void {
    this.live.observe?.(planned, outcome);
  }
}

/** How long a scrape waits for a worker's own counters before using its latest periodic copy. */
export const SCRAPE_TIMEOUT_MS = 1000;

const EMPTY_LIVE: LiveStats = { sent: 0, appends: 0, events: 0, errors: 0, dropped: 0, inFlight: 0, p99Ms: 0, window: '', firstSend: null };

export class LocalLoadSide implements LoadSide {
  private abort = new AbortController();
  private readonly phases: ThreadUsage[] = [];
  private constructor(
    private readonly store: EventStore,
    private readonly executor: LoadExecutor,
    private readonly metrics: RunMetrics | null,
    private readonly pregenerated: PregeneratedGenerator | null,
  ) {}

  static async open(config: LoadSideConfig, clock: Clock = systemClock, store?: EventStore): Promise<LocalLoadSide> {
    // Built before the store connects: a side that cannot hold its appends fails before any connection.
    const live = createGenerator(config);
    const pregenerated = config.pregenerate !== undefined ? new PregeneratedGenerator(live, config.pregenerate) : null;
    const s = store ?? (await createStore(config.backend, config.backendOptions));
    const metrics = config.metrics ? createRunMetrics(config.backend) : null;
    const executor = new LoadExecutor(s, pregenerated ?? live, metrics ?? createNoopMetrics(), clock);
    return new LocalLoadSide(s, executor, metrics, pregenerated);
  }

  async runPhase(spec: PhaseSpec): Promise<PhaseResult> {
    if (this.abort.signal.aborted) this.abort = new AbortController();
    const meter = new ThreadMeter();
    try {
      return await this.executor.runPhase(spec, this.abort.signal);
    } finally {
      this.phases.push(meter.stop());
    }
  }

  phaseUsage(): ThreadUsage[] {
    return [...this.phases];
  }

  pregeneration(): Pregeneration | null {
    return this.pregenerated ? { ...this.pregenerated.info } : null;
  }

  live(): LiveStats {
    return this.executor.live();
  }

  async metricsSnapshot(): Promise<MetricsSnapshot> {
    if (!this.metrics) return [];
    this.metrics.setInFlight(this.executor.live().inFlight);
    return this.metrics.snapshot();
  }

  stop(): void {
    this.abort.abort();
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.store.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// Worker threads
// ---------------------------------------------------------------------------------------------------

export type ToWorker = { type: 'phase'; id: number; spec: PhaseSpec } | { type: 'metrics'; id: number } | { type: 'stop' } | { type: 'close' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'metrics'; id: number; metrics: MetricsSnapshot }
  | { type: 'live'; live: LiveStats; metrics: MetricsSnapshot }
  | { type: 'phaseResult'; id: number; result: PhaseResult; usage: ThreadUsage[]; pregeneration: Pregeneration | null }
  | { type: 'error'; id?: number; name: string; message: string }
  | { type: 'closed' };

/** Rebuilds the error classes the CLI maps to exit code 2. */
function reviveError(name: string, message: string): Error {
  if (name === 'StoreUnavailableError') return new StoreUnavailableError(message);
  if (name === 'ConfigError' || name === 'CapabilityError') return new ConfigError(message);
  const e = new Error(message);
  e.name = name;
  return e;
}

export class WorkerLoadSide implements LoadSide {
  private latest: LiveStats = EMPTY_LIVE;
  private metrics: MetricsSnapshot = [];
  private nextId = 1;
  private readonly scrapes = new Map<number, (m: MetricsSnapshot) => void>();
  private readonly waiting = new Map<number, { resolve: (r: PhaseResult) => void; reject: (e: Error) => void }>();
  private closed: Promise<void> | null = null;
  private exited = false;
  private usage: ThreadUsage[] = [];
  private pregen: Pregeneration | null = null;

  private constructor(private readonly worker: Worker) {}

  static open(config: LoadSideConfig): Promise<WorkerLoadSide> {
    const worker = new Worker(new URL('./worker.mjs', import.meta.url), { workerData: config });
    const side = new WorkerLoadSide(worker);
    return new Promise((resolve, reject) => {
      const fail = (e: Error): void => {
        void worker.terminate();
        reject(e);
      };
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') resolve(side);
        else if (msg.type === 'error' && msg.id === undefined) fail(reviveError(msg.name, msg.message));
        else side.onMessage(msg);
      });
      worker.on('error', (e) => {
        fail(e);
        side.failAll(e);
      });
      worker.on('exit', (code) => {
        side.exited = true;
        const e = new Error(`load worker ${config.index} exited with code ${code}`);
        reject(e);
        side.failAll(e);
      });
    });
  }

  private onMessage(msg: FromWorker): void {
    if (msg.type === 'live') {
      this.latest = msg.live;
      this.metrics = msg.metrics;
    } else if (msg.type === 'metrics') {
      this.metrics = msg.metrics;
      this.scrapes.get(msg.id)?.(msg.metrics);
      this.scrapes.delete(msg.id);
    } else if (msg.type === 'phaseResult') {
      this.usage = msg.usage;
      this.pregen = msg.pregeneration;
      this.waiting.get(msg.id)?.resolve(msg.result);
      this.waiting.delete(msg.id);
    } else if (msg.type === 'error' && msg.id !== undefined) {
      this.waiting.get(msg.id)?.reject(reviveError(msg.name, msg.message));
      this.waiting.delete(msg.id);
    }
  }

  private failAll(e: Error): void {
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }

  runPhase(spec: PhaseSpec): Promise<PhaseResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'phase', id, spec } satisfies ToWorker);
    });
  }

  live(): LiveStats {
    return this.latest;
  }

  phaseUsage(): ThreadUsage[] {
    return [...this.usage];
  }

  pregeneration(): Pregeneration | null {
    return this.pregen;
  }

  /**
   * The worker's counters as of now, asked for at scrape time: the periodic live message alone let
   * /metrics show up to half a second old published counts next to the consumer's current processed
   * counts (published 432 < processed 515 with 2 workers). A busy worker answers late: after
   * SCRAPE_TIMEOUT_MS the latest copy is used.
   */
  metricsSnapshot(): Promise<MetricsSnapshot> {
    if (this.exited) return Promise.resolve(this.metrics);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.scrapes.delete(id);
        resolve(this.metrics);
      }, SCRAPE_TIMEOUT_MS);
      this.scrapes.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.worker.postMessage({ type: 'metrics', id } satisfies ToWorker);
    });
  }

  stop(): void {
    if (!this.exited) this.worker.postMessage({ type: 'stop' } satisfies ToWorker);
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      if (this.exited) return;
      const done = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
      this.worker.postMessage({ type: 'close' } satisfies ToWorker);
      const timer = setTimeout(() => void this.worker.terminate(), 10_000);
      await done;
      clearTimeout(timer);
    })();
    return this.closed;
  }
}

// ---------------------------------------------------------------------------------------------------
// Pregeneration: how many appends to build, and whether they fit
// ---------------------------------------------------------------------------------------------------

/**
 * The most JSON a run may pregenerate, all sides together: 256 MiB, and at most 1/16 of this machine's
 * memory. The events live as JS objects, several times their JSON size, next to the servers of the run.
 */
export function pregenerationLimitBytes(): number {
  return Math.min(256 * 1024 * 1024, Math.floor(totalmem() / 16));
}

/** Appends sampled to estimate a workload's bytes per append. */
const SIZE_SAMPLE = 200;

export interface PregenerationPlan {
  /** Appends each side builds. */
  perSide: number;
  estimatedBytes: number;
}

/**
 * How many appends `--pregenerate` builds for a scenario: the highest rate of the schedule over warm-up +
 * duration (an upper bound for a ramp), plus 2 % and 64 per side for sends the schedule catches up on.
 * Only open-loop schedules have a known count; a closed loop or a max search sends as many as the backend
 * takes. Refused (ConfigError, one line with the limit) when the estimate does not fit in memory.
 */
export function planPregeneration(
  scenario: Pick<LoadScenario, 'executor' | 'workload' | 'seed' | 'streams' | 'batch' | 'eventBytes' | 'rate' | 'stages' | 'warmupMs' | 'durationMs' | 'workers' | 'runId'>,
): PregenerationPlan {
  if (scenario.executor !== 'constant' && scenario.executor !== 'ramp') {
    throw new ConfigError(`--pregenerate needs an arrival schedule with a known number of appends (--executor constant or ramp); --executor ${scenario.executor} sends as many as the backend takes`);
  }
  const peak = Math.max(scenario.rate ?? 0, ...(scenario.stages ?? []).map((s) => s.rate));
  const total = Math.ceil((peak * (scenario.warmupMs + scenario.durationMs)) / 1000);
  const perSide = Math.ceil((total * 1.02) / scenario.workers) + 64;
  const sample = createGenerator({ workload: scenario.workload, seed: scenario.seed, runId: scenario.runId, index: 0, count: 1, ...(scenario.streams !== undefined ? { streams: scenario.streams } : {}), ...(scenario.batch !== undefined ? { batch: scenario.batch } : {}), ...(scenario.eventBytes !== undefined ? { eventBytes: scenario.eventBytes } : {}) });
  let bytes = 0;
  for (let i = 0; i < SIZE_SAMPLE; i++) for (const e of sample.next().events) bytes += JSON.stringify(e.data).length + (e.metadata ? JSON.stringify(e.metadata).length : 0);
  const perAppend = bytes / SIZE_SAMPLE;
  const estimatedBytes = Math.round(perAppend * perSide * scenario.workers);
  const limit = pregenerationLimitBytes();
  if (estimatedBytes > limit) {
    const mb = (b: number): string => `${fmtCount(Math.round(b / (1024 * 1024)))} MiB`;
    throw new ConfigError(
      `--pregenerate: ${fmtCount(perSide * scenario.workers)} appends of ~${fmtCount(Math.round(perAppend))} bytes (${formatRate(peak)} for ${formatDuration(scenario.warmupMs + scenario.durationMs)} incl. warm-up) are ~${mb(estimatedBytes)}, above the limit of ${mb(limit)}: lower --rate or --duration, or leave out --pregenerate`,
    );
  }
  return { perSide, estimatedBytes };
}
