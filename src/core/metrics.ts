/**
 * The Prometheus metrics registry of a run. Names and labels of the first four follow seed 002 exactly
 * (`event_published_total`, `event_processed_total`, `event_processing_duration_seconds`,
 * `event_queue_depth`); the rest are what a dashboard needs, named by Prometheus conventions.
 *
 * Hot path: label children are resolved once per (backend, event type) and cached, so recording is a
 * counter increment and one histogram observe. Load workers each own a registry and ship
 * `getMetricsAsJSON()` snapshots; `aggregateMetrics` merges them (prom-client's AggregatorRegistry).
 */
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

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
} as const;

/** Error kinds counted separately (label `kind` of `eventbench_append_errors_total`). */
export const ERROR_KINDS = ['conflict', 'unavailable', 'unknown_outcome', 'duplicate', 'other'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** Seconds; from 0.5 ms (an in-memory append) to 10 s (a paused server). */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** What the load side records per append. */
export interface PublishMetrics {
  published(eventType: string, count: number, appendSeconds: number): void;
  appendError(kind: ErrorKind): void;
  dropped(): void;
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

/** A registry with every eventbench series for one backend. */
export function createRunMetrics(backend: string): RunMetrics {
  const registry = new Registry();
  const published = new Counter({
    name: METRIC.published,
    help: 'Events appended and acknowledged by the store',
    labelNames: ['backend', 'event_type'] as const,
    registers: [registry],
  });
  const processed = new Counter({
    name: METRIC.processed,
    help: 'Events handled by the run consumer, by outcome',
    labelNames: ['backend', 'event_type', 'status'] as const,
    registers: [registry],
  });
  const processing = new Histogram({
    name: METRIC.processingDuration,
    help: 'Time the consumer handler spent on one event (validation of its data)',
    labelNames: ['backend', 'event_type'] as const,
    buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1],
    registers: [registry],
  });
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
  const append = new Histogram({
    name: METRIC.appendDuration,
    help: 'Append latency from the intended send time to the acknowledgement (no coordinated omission)',
    labelNames: ['backend'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const endToEnd = new Histogram({
    name: METRIC.endToEndDuration,
    help: 'From the intended send time of an append to the consumer handler receiving the event',
    labelNames: ['backend', 'event_type'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const errors = new Counter({
    name: METRIC.appendErrors,
    help: 'Failed appends by kind (conflict, unavailable, unknown_outcome, duplicate, other)',
    labelNames: ['backend', 'kind'] as const,
    registers: [registry],
  });
  const dropped = new Counter({
    name: METRIC.droppedSends,
    help: 'Scheduled appends not sent because the in-flight limit was reached (k6: dropped iterations)',
    labelNames: ['backend'] as const,
    registers: [registry],
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

  // Resolve label children once: the hot path then costs an increment and an observe.
  const appendChild = append.labels(backend);
  const droppedChild = dropped.labels(backend);
  const inFlightChild = inFlight.labels(backend);
  const errorChildren = new Map(ERROR_KINDS.map((k) => [k, errors.labels(backend, k)]));
  const publishedChildren = new Map<string, ReturnType<typeof published.labels>>();
  const processedChildren = new Map<string, ReturnType<typeof processed.labels>>();
  const processingChildren = new Map<string, ReturnType<typeof processing.labels>>();
  const endToEndChildren = new Map<string, ReturnType<typeof endToEnd.labels>>();
  const cached = <T>(map: Map<string, T>, key: string, make: () => T): T => {
    let child = map.get(key);
    if (child === undefined) {
      child = make();
      map.set(key, child);
    }
    return child;
  };
  // Make the series visible from the first scrape, before any event (a dashboard shows 0, not "no data").
  queueDepth.labels(backend).set(0);
  for (const child of errorChildren.values()) child.inc(0);
  droppedChild.inc(0);

  return {
    registry,
    published(eventType, count, appendSeconds) {
      cached(publishedChildren, eventType, () => published.labels(backend, eventType)).inc(count);
      appendChild.observe(appendSeconds);
    },
    appendError(kind) {
      errorChildren.get(kind)!.inc();
    },
    dropped() {
      droppedChild.inc();
    },
    setInFlight(n) {
      inFlightChild.set(n);
    },
    processed(eventType, status, processingSeconds, endToEndSeconds) {
      cached(processedChildren, `${eventType}\u0000${status}`, () => processed.labels(backend, eventType, status)).inc();
      cached(processingChildren, eventType, () => processing.labels(backend, eventType)).observe(processingSeconds);
      if (endToEndSeconds !== undefined) {
        cached(endToEndChildren, eventType, () => endToEnd.labels(backend, eventType)).observe(endToEndSeconds);
      }
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
