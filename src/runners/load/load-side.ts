/**
 * Where the load side runs: in this thread (`LocalLoadSide`) or in a worker thread with its own store
 * connection (`WorkerLoadSide`, for rates one Node thread cannot drive: ~22-25k JetStream publishes/s
 * here). Both speak the same small protocol: run a phase, report live stats and a metrics snapshot.
 */
import { Worker } from 'node:worker_threads';
import { ConfigError, StoreUnavailableError, type EventStore } from '../../core/event-store.ts';
import { createNoopMetrics, createRunMetrics, type MetricsSnapshot, type RunMetrics } from '../../core/metrics.ts';
import { Random } from '../../core/random.ts';
import { createStore, type BackendName, type BackendOptions } from '../../store/index.ts';
import { workloads, type WorkloadName } from '../../workloads/index.ts';
import type { WorkloadOptions } from '../../workloads/workload.ts';
import { systemClock, type Clock } from './clock.ts';
import { LoadExecutor, type LiveStats, type ObservingGenerator, type PhaseResult, type PhaseSpec } from './executor.ts';

export interface LoadSideConfig {
  backend: BackendName;
  backendOptions: BackendOptions;
  workload: WorkloadName;
  seed: number;
  streams?: number;
  runId: string;
  metrics: boolean;
  /** This side's index and the number of sides: seeds and stream names differ per side. */
  index: number;
  count: number;
}

export interface LoadSide {
  runPhase(spec: PhaseSpec): Promise<PhaseResult>;
  live(): LiveStats;
  metricsSnapshot(): Promise<MetricsSnapshot>;
  /** Aborts the phase in progress (it still returns what it recorded). */
  stop(): void;
  close(): Promise<void>;
}

/** Seed of side `index`: side 0 uses the run's seed, so one worker reproduces an in-process run. */
export function sideSeed(seed: number, index: number): number {
  return index === 0 ? seed : new Random(seed).fork(`load-side-${index}`).seed;
}

export function createGenerator(config: LoadSideConfig): ObservingGenerator {
  const options: WorkloadOptions & { runId: string } = {
    seed: sideSeed(config.seed, config.index),
    runId: config.count > 1 ? `${config.runId}w${config.index}` : config.runId,
    ...(config.streams !== undefined ? { streams: config.streams } : {}),
  };
  return workloads[config.workload].create(options);
}

/** How long a scrape waits for a worker's own counters before using its latest periodic copy. */
const SCRAPE_TIMEOUT_MS = 1000;

const EMPTY_LIVE: LiveStats = { sent: 0, appends: 0, events: 0, errors: 0, dropped: 0, inFlight: 0, p99Ms: 0, window: '' };

export class LocalLoadSide implements LoadSide {
  private abort = new AbortController();
  private constructor(
    private readonly store: EventStore,
    private readonly executor: LoadExecutor,
    private readonly metrics: RunMetrics | null,
  ) {}

  static async open(config: LoadSideConfig, clock: Clock = systemClock, store?: EventStore): Promise<LocalLoadSide> {
    const s = store ?? (await createStore(config.backend, config.backendOptions));
    const metrics = config.metrics ? createRunMetrics(config.backend) : null;
    const executor = new LoadExecutor(s, createGenerator(config), metrics ?? createNoopMetrics(), clock);
    return new LocalLoadSide(s, executor, metrics);
  }

  async runPhase(spec: PhaseSpec): Promise<PhaseResult> {
    if (this.abort.signal.aborted) this.abort = new AbortController();
    return this.executor.runPhase(spec, this.abort.signal);
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
  | { type: 'phaseResult'; id: number; result: PhaseResult }
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
