/**
 * The Prometheus metrics registry of a run. Names and labels of the first four follow docs/metrics.md exactly
 * (`event_published_total`, `event_processed_total`, `event_processing_duration_seconds`,
 * `event_queue_depth`); the rest are what a dashboard needs, named by Prometheus conventions.
 *
 * Hot path: see "Hot-path recording" below: recording is plain arithmetic on cached cells. Load workers each own a registry and ship
 * `getMetricsAsJSON()` snapshots; `aggregateMetrics` merges them (prom-client's AggregatorRegistry).
 */
import { AggregatorRegistry, Counter, Gauge, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** One source of truth for metric names (dashboards and tests import these). */
export const METRIC = {
  published: 'event_published_total',
  processed: 'event_processed_total',
  processingDuration: 'event_processing_duration_seconds',
  queueDepth: 'event_queue_depth',
  appendDuration: 'eventbench_append_duration_seconds',
  endToEndDuration: 'eventbench_end_to_end_duration_seconds',
  appendErrors: 'eventbench_append_errors_total',
  droppedSends: 'eventbench_dropped_sends_total',
  consumerLag: 'eventbench_consumer_lag_events',
  inFlight: 'eventbench_appends_in_flight',
  targetRate: 'eventbench_target_rate_per_second',
  /** Hybrid topology: outbox rows waiting for the relay, and the age of the oldest (docs/hybrid.md). */
  outboxPending: 'eventbench_outbox_pending_events',
  outboxOldestAge: 'eventbench_outbox_oldest_age_seconds',
  /**
   * Chaos runs (`eventbench chaos --metrics-port`; src/runners/chaos/metrics.ts): the faults on the
   * timeline, what the writers were told, and what the checker found at the end.
   */
  chaosFaultActive: 'eventbench_chaos_fault_active',
  chaosFaults: 'eventbench_chaos_faults_total',
  chaosAttempts: 'eventbench_chaos_append_attempts_total',
  chaosAppends: 'eventbench_chaos_appends_total',
  chaosAckedEvents: 'eventbench_chaos_acknowledged_events_total',
  chaosAppendDuration: 'eventbench_chaos_append_duration_seconds',
  chaosChecked: 'eventbench_chaos_checked_events',
} as const;

export type MetricKey = keyof typeof METRIC;
export type MetricName = (typeof METRIC)[MetricKey];

/**
 * What each series is and which labels it carries: the dashboards (src/observability/dashboards) build
 * their queries from this, so a panel cannot name a metric or a label the registry below does not define
 * (test/observability/dashboard-lint.unit.test.ts checks the registry against it).
 */
export const METRIC_SHAPE = {
  published: { type: 'counter', labels: ['backend', 'event_type'] },
  processed: { type: 'counter', labels: ['backend', 'event_type', 'status'] },
  processingDuration: { type: 'histogram', labels: ['backend', 'event_type'] },
  queueDepth: { type: 'gauge', labels: ['backend'] },
  appendDuration: { type: 'histogram', labels: ['backend'] },
  endToEndDuration: { type: 'histogram', labels: ['backend', 'event_type'] },
  appendErrors: { type: 'counter', labels: ['backend', 'kind'] },
  droppedSends: { type: 'counter', labels: ['backend'] },
  consumerLag: { type: 'gauge', labels: ['backend', 'subscription'] },
  inFlight: { type: 'gauge', labels: ['backend'] },
  targetRate: { type: 'gauge', labels: ['backend'] },
  outboxPending: { type: 'gauge', labels: ['backend'] },
  outboxOldestAge: { type: 'gauge', labels: ['backend'] },
  chaosFaultActive: { type: 'gauge', labels: ['backend', 'scenario', 'fault', 'target'] },
  chaosFaults: { type: 'counter', labels: ['backend', 'scenario', 'fault', 'target', 'phase'] },
  chaosAttempts: { type: 'counter', labels: ['backend', 'scenario'] },
  chaosAppends: { type: 'counter', labels: ['backend', 'scenario', 'outcome'] },
  chaosAckedEvents: { type: 'counter', labels: ['backend', 'scenario'] },
  chaosAppendDuration: { type: 'histogram', labels: ['backend', 'scenario', 'outcome'] },
  chaosChecked: { type: 'gauge', labels: ['backend', 'scenario', 'result'] },
} as const satisfies Record<MetricKey, { type: 'counter' | 'gauge' | 'histogram'; labels: readonly string[] }>;

/** Error kinds counted separately (label `kind` of `eventbench_append_errors_total`). */
export const ERROR_KINDS = ['conflict', 'unavailable', 'unknown_outcome', 'duplicate', 'other'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** A chaos append's outcome as the writer was told (label `outcome`): Jepsen's ok, fail and info. */
export const CHAOS_OUTCOMES = ['acknowledged', 'failed', 'unknown'] as const;
export type ChaosOutcome = (typeof CHAOS_OUTCOMES)[number];

/** What the chaos checker counts at the end (label `result` of `eventbench_chaos_checked_events`). */
export const CHAOS_CHECKED = ['acked', 'lost', 'unknown', 'recovered', 'duplicates', 'unexpected'] as const;
export type ChaosChecked = (typeof CHAOS_CHECKED)[number];

/** Seconds; from 0.5 ms (an in-memory append) to 10 s (a paused server). */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** What the load side records per append. */
export interface PublishMetrics {
  published(eventType: string, count: number, appendSeconds: number): void;
  appendError(kind: ErrorKind): void;
  /** `count` (default 1) scheduled sends not made. */
  dropped(count?: number): void;
  setInFlight(n: number): void;
}

/** What the consumer side records per handled event. */
export interface ConsumeMetrics {
  processed(eventType: string, status: 'success' | 'failed', processingSeconds: number, endToEndSeconds: number | undefined): void;
  setQueueDepth(depth: number): void;
  setTargetRate(rate: number): void;
}

export interface RunMetrics extends PublishMetrics, ConsumeMetrics {
  readonly registry: Registry;
  snapshot(): Promise<MetricsSnapshot>;
}

// ---------------------------------------------------------------------------------------------------
// Hot-path recording. prom-client hashes and validates the label set on every `inc` / `observe`, even
// through a `labels()` child (~1 us per call, measured in bench/harness-overhead.ts): at 20k appends/s
// with a consumer that alone costs more than the 5% budget. So counters count into plain numbers that
// a `collect()` hook hands to prom-client at scrape time, and histograms keep their bucket counts here
// and expose them through the registry's metric interface (`get()`), in prom-client's own format, so
// the exposition text and AggregatorRegistry merging are unchanged.
// ---------------------------------------------------------------------------------------------------

interface CounterCell {
  labels: Record<string, string>;
  n: number;
}

/** A prom-client Counter whose hot-path increments are batched until the next scrape. */
class BatchedCounter<L extends string> {
  private readonly cells = new Map<string, CounterCell>();
  readonly counter: Counter<L>;

  constructor(config: { name: string; help: string; labelNames: readonly L[]; registry: Registry }) {
    const cells = this.cells;
    this.counter = new Counter<L>({
      name: config.name,
      help: config.help,
      labelNames: config.labelNames,
      registers: [config.registry],
      collect() {
        for (const c of cells.values()) {
          this.inc(c.labels as Partial<Record<L, string>>, c.n);
          c.n = 0;
        }
      },
    });
  }

  /** The cell for one label set; `cell.n += k` is the hot path. Created series show as 0 from the start. */
  cell(labels: Record<L, string>): CounterCell {
    const key = Object.values(labels).join('\u0000');
    let c = this.cells.get(key);
    if (!c) {
      c = { labels, n: 0 };
      this.cells.set(key, c);
      this.counter.inc(labels as Partial<Record<L, string>>, 0);
    }
    return c;
  }
}

interface HistogramCell {
  labels: Record<string, string>;
  /** Non-cumulative counts per bucket; the last one is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/** A Prometheus histogram with prom-client's exposition, observed without per-call label hashing. */
class BatchedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly cells = new Map<string, HistogramCell>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    // The registry accepts any object with name/help/type/get() (AggregatorRegistry registers such too).
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  cell(labels: Record<string, string>): HistogramCell {
    const key = Object.values(labels).join('\u0000');
    let c = this.cells.get(key);
    if (!c) {
      c = { labels, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      this.cells.set(key, c);
    }
    return c;
  }

  observe(c: HistogramCell, value: number): void {
    const bounds = this.bounds;
    let i = 0;
    // prom-client's rule: a value goes to the first bucket whose upper bound is >= it.
    while (i < bounds.length && value > bounds[i]!) i++;
    c.counts[i]! += 1;
    c.sum += value;
    c.count += 1;
  }

  async get(): Promise<MetricObjectWithValues<MetricValue<string>>> {
    const values: MetricValue<string>[] = [];
    for (const c of this.cells.values()) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += c.counts[i]!;
        values.push({ labels: { le, ...c.labels }, value: acc, metricName: `${this.name}_bucket` } as MetricValue<string>);
      });
      values.push({ labels: { le: '+Inf', ...c.labels }, value: c.count, metricName: `${this.name}_bucket` } as MetricValue<string>);
      values.push({ labels: { ...c.labels }, value: c.sum, metricName: `${this.name}_sum` } as MetricValue<string>);
      values.push({ labels: { ...c.labels }, value: c.count, metricName: `${this.name}_count` } as MetricValue<string>);
    }
    // `collect` is part of prom-client's type but unused by the registry for an object like this one.
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' } as unknown as MetricObjectWithValues<MetricValue<string>>;
  }

  reset(): void {
    this.cells.clear();
  }
}

/** A registry with every eventbench series for one backend. */
export function createRunMetrics(backend: string): RunMetrics {
  const registry = new Registry();
  const published = new BatchedCounter({
    name: METRIC.published,
    help: 'Events appended and acknowledged by the store',
    labelNames: ['backend', 'event_type'] as const,
    registry,
  });
  const processed = new BatchedCounter({
    name: METRIC.processed,
    help: 'Events handled by the run consumer, by outcome',
    labelNames: ['backend', 'event_type', 'status'] as const,
    registry,
  });
  const processing = new BatchedHistogram(
    METRIC.processingDuration,
    'Time the consumer handler spent on one event (validation of its data)',
    [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1],
    registry,
  );
  const queueDepth = new Gauge({
    name: METRIC.queueDepth,
    help: 'Events appended but not yet acknowledged by the run consumer (subscription lag)',
    labelNames: ['backend'] as const,
    registers: [registry],
  });
  const consumerLag = new Gauge({
    name: METRIC.consumerLag,
    help: 'Consumer lag in events, as reported by subscription.lag()',
    labelNames: ['backend', 'subscription'] as const,
    registers: [registry],
  });
  const append = new BatchedHistogram(
    METRIC.appendDuration,
    'Append latency from the intended send time to the acknowledgement (no coordinated omission)',
    LATENCY_BUCKETS,
    registry,
  );
  const endToEnd = new BatchedHistogram(
    METRIC.endToEndDuration,
    'From the intended send time of an append to the consumer handler receiving the event',
    LATENCY_BUCKETS,
    registry,
  );
  const errors = new BatchedCounter({
    name: METRIC.appendErrors,
    help: 'Failed appends by kind (conflict, unavailable, unknown_outcome, duplicate, other)',
    labelNames: ['backend', 'kind'] as const,
    registry,
  });
  const dropped = new BatchedCounter({
    name: METRIC.droppedSends,
    help: 'Scheduled appends not sent because the in-flight limit was reached (k6: dropped iterations)',
    labelNames: ['backend'] as const,
    registry,
  });
  const inFlight = new Gauge({
    name: METRIC.inFlight,
    help: 'Appends sent and not yet acknowledged',
    labelNames: ['backend'] as const,
    registers: [registry],
  });
  const targetRate = new Gauge({
    name: METRIC.targetRate,
    help: 'Target arrival rate of the load generator, appends per second',
    labelNames: ['backend'] as const,
    registers: [registry],
  });

  // Cells are resolved once per label set: the hot path is then plain arithmetic.
  const appendCell = append.cell({ backend });
  const droppedCell = dropped.cell({ backend });
  const errorCells = new Map(ERROR_KINDS.map((kind) => [kind, errors.cell({ backend, kind })]));
  const byType = new Map<string, { published: CounterCell; processed: CounterCell; failed: CounterCell; processing: HistogramCell; endToEnd: HistogramCell }>();
  const cellsFor = (eventType: string) => {
    let c = byType.get(eventType);
    if (!c) {
      c = {
        published: published.cell({ backend, event_type: eventType }),
        processed: processed.cell({ backend, event_type: eventType, status: 'success' }),
        failed: processed.cell({ backend, event_type: eventType, status: 'failed' }),
        processing: processing.cell({ backend, event_type: eventType }),
        endToEnd: endToEnd.cell({ backend, event_type: eventType }),
      };
      byType.set(eventType, c);
    }
    return c;
  };
  // Make the series visible from the first scrape, before any event (a dashboard shows 0, not "no data").
  queueDepth.labels(backend).set(0);

  return {
    registry,
    published(eventType, count, appendSeconds) {
      cellsFor(eventType).published.n += count;
      append.observe(appendCell, appendSeconds);
    },
    appendError(kind) {
      errorCells.get(kind)!.n += 1;
    },
    dropped(count = 1) {
      droppedCell.n += count;
    },
    setInFlight(n) {
      inFlight.labels(backend).set(n);
    },
    processed(eventType, status, processingSeconds, endToEndSeconds) {
      const c = cellsFor(eventType);
      (status === 'success' ? c.processed : c.failed).n += 1;
      processing.observe(c.processing, processingSeconds);
      if (endToEndSeconds !== undefined) endToEnd.observe(c.endToEnd, endToEndSeconds);
    },
    setQueueDepth(depth) {
      queueDepth.labels(backend).set(depth);
      consumerLag.labels(backend, 'load').set(depth);
    },
    setTargetRate(rate) {
      targetRate.labels(backend).set(rate);
    },
    snapshot: () => registry.getMetricsAsJSON(),
  };
}

/** Metrics that record nothing (`--no-metrics`, and the overhead benchmark's baseline). */
export function createNoopMetrics(): PublishMetrics & ConsumeMetrics {
  const noop = (): void => {};
  return { published: noop, appendError: noop, dropped: noop, setInFlight: noop, processed: noop, setQueueDepth: noop, setTargetRate: noop };
}

/** Exposition text of several registries' snapshots summed (counters and histograms add up exactly). */
export async function aggregateMetrics(snapshots: MetricsSnapshot[]): Promise<string> {
  const nonEmpty = snapshots.filter((s) => s.length > 0);
  if (nonEmpty.length === 0) return '';
  return AggregatorRegistry.aggregate(nonEmpty).metrics();
}
