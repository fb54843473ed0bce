/**
 * The charts of report.html as data (OpenMessaging Benchmark's set, one line per backend): throughput,
 * append latency p50/p99, errors and consumer lag over the measured seconds, target vs achieved rate, and
 * the HdrHistogram percentile distribution on a log axis. A chart without data in this result (no consumer,
 * a closed loop without a target) is left out and named in `omitted`, so every chart drawn has points.
 */
import { decodeHistogram, encodeHistogram, mergeEncoded } from '../histogram.ts';
import type { RenderableBackend, RenderableResult } from '../result-file.ts';
import { runCount, runOf, storesOf, sweepOf, sweepStores, SWEEP_METRICS } from '../tables.ts';

export interface SeriesSpec {
  label: string;
  color: string;
  /** Drawn dashed (p50 under a solid p99, a target under the achieved rate). */
  dash?: boolean;
  values: (number | null)[];
}

export interface ChartSpec {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  /** x = 1/(1-p) on a log axis, labelled as percentiles. */
  percentileAxis?: boolean;
  /** A sweep's chart: x is the swept parameter (log axis when its values span a factor of 10 or more). */
  sweep?: { logX: boolean };
  x: number[];
  series: SeriesSpec[];
}

export interface Charts {
  charts: ChartSpec[];
  /** Charts this result has no data for, with the reason, shown in the page instead. */
  omitted: string[];
}

const PALETTE = ['#1f77b4', '#2ca02c', '#d62728', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
/** Fixed colours for the two backends the question is about, so every report reads the same. */
const KNOWN: Record<string, string> = { postgres: '#336791', jetstream: '#27a844', hybrid: '#9467bd', memory: '#888888', 'raw-postgres': '#7fa7d0', 'raw-jetstream': '#8fd19e' };

export function backendColors(backends: string[]): Record<string, string> {
  let next = 0;
  return Object.fromEntries(backends.map((b) => [b, KNOWN[b] ?? PALETTE[next++ % PALETTE.length]!]));
}

/** Points of the percentile curve per decade of 1/(1-p): 0 %, ..., 99.999 % in 20 steps a decade. */
const STEPS_PER_DECADE = 20;
const DECADES = 5;

/** x positions 1/(1-p) shared by every backend's curve (1 = p0 ... 100,000 = p99.999). */
export function percentileXs(): number[] {
  return Array.from({ length: DECADES * STEPS_PER_DECADE + 1 }, (_, i) => 10 ** (i / STEPS_PER_DECADE));
}

/**
 * The percentile curve of an encoded histogram (µs) in ms at the shared x positions, computed at render time
 * (a bounded number of points, never raw samples). Past 1/(1-p) = count there is no sample to tell the
 * percentile apart from the maximum: those points are null.
 */
export function percentileCurve(encoded: string | null, xs: number[]): (number | null)[] {
  if (!encoded) return xs.map(() => null);
  const h = decodeHistogram(encoded);
  if (h.totalCount === 0) return xs.map(() => null);
  return xs.map((x) => (x > h.totalCount && x > 1 ? null : h.getValueAtPercentile(100 * (1 - 1 / x)) / 1000));
}

function timelineX(backends: RenderableBackend[]): number[] {
  const last = Math.max(-1, ...backends.flatMap((b) => b.timeline.map((t) => t.second)));
  return Array.from({ length: last + 1 }, (_, i) => i);
}

/** Points per over-time line at most: a longer run is drawn in buckets of several seconds. */
export const MAX_TIME_POINTS = 1200;

/** Seconds per point: 1 up to MAX_TIME_POINTS seconds, then as many as keep the line under it. */
function bucketSeconds(xs: number[]): number {
  return Math.max(1, Math.ceil(xs.length / MAX_TIME_POINTS));
}

/** x positions (the first second of each bucket). */
function bucketXs(xs: number[]): number[] {
  const k = bucketSeconds(xs);
  return xs.filter((s) => s % k === 0);
}

/**
 * One value per bucket of the run's seconds: `mean` for rates (events per second stays events per second),
 * `max` for latency, errors and lag (a spike inside a bucket stays visible).
 */
function perSecond(b: RenderableBackend, xs: number[], pick: (t: RenderableBackend['timeline'][number]) => number | null, reduce: 'mean' | 'max' = 'mean'): (number | null)[] {
  const k = bucketSeconds(xs);
  const bySecond = new Map(b.timeline.map((t) => [t.second, t]));
  return bucketXs(xs).map((start) => {
    const values: number[] = [];
    for (let s = start; s < start + k; s++) {
      const t = bySecond.get(s);
      const v = t ? pick(t) : null;
      if (v !== null) values.push(v);
    }
    if (values.length === 0) return null;
    return reduce === 'max' ? Math.max(...values) : values.reduce((a, v) => a + v, 0) / values.length;
  });
}

const hasData = (series: SeriesSpec[]): boolean => series.some((s) => s.values.some((v) => v !== null));

/** 4 significant digits: what a chart can show, and a third of the bytes of a float printed in full. */
const round = (v: number | null): number | null => (v === null ? null : Number(v.toPrecision(4)));

/** Optional per-second end-to-end percentiles a later schema version may carry in the timeline. */
function e2eAt(t: RenderableBackend['timeline'][number], key: 'e2eP50' | 'e2eP99'): number | null {
  const v = (t as Record<string, unknown>)[key];
  return typeof v === 'number' ? v : null;
}

/** One histogram per store: its runs merged (exact: HdrHistograms add). */
function mergedHistogram(entries: RenderableBackend[], pick: (b: RenderableBackend) => string | null): string | null {
  const encoded = entries.map(pick).filter((e): e is string => e !== null);
  if (encoded.length <= 1) return encoded[0] ?? null;
  return encodeHistogram(mergeEncoded(encoded));
}

export function buildCharts(result: RenderableResult): Charts {
  // Over time: the first run of each store (a bench of several runs draws run 1; the tables give all runs).
  const runs = runCount(result);
  const backends = result.backends.filter((b) => runOf(b) === 1 && (!b.error || b.timeline.length > 0));
  const ofRuns = runs > 1 ? ` (run 1 of ${runs})` : '';
  const colors = backendColors(storesOf(result).map((s) => s.name));
  const xs = timelineX(backends);
  const charts: ChartSpec[] = [];
  const omitted: string[] = [];
  const add = (spec: ChartSpec, whyMissing: string): void => {
    if (spec.x.length > 0 && hasData(spec.series)) charts.push({ ...spec, x: spec.x.map((x) => Number(x.toPrecision(6))), series: spec.series.map((s) => ({ ...s, values: s.values.map(round) })) });
    else omitted.push(`${spec.title}: ${whyMissing}`);
  };
  const over = { xLabel: bucketSeconds(xs) > 1 ? `second of the measured window (${bucketSeconds(xs)} s a point)` : 'second of the measured window', x: bucketXs(xs) };

  add(
    { id: 'chart-throughput', title: `Throughput over time${ofRuns}`, yLabel: 'events/s', ...over, series: backends.map((b) => ({ label: b.backend, color: colors[b.backend]!, values: perSecond(b, xs, (t) => t.events) })) },
    'no measured seconds',
  );
  add(
    {
      id: 'chart-rate',
      title: `Target vs achieved rate${ofRuns}`,
      yLabel: 'appends/s',
      ...over,
      series: backends.flatMap((b) => [
        { label: `${b.backend} achieved`, color: colors[b.backend]!, values: perSecond(b, xs, (t) => t.appends) },
        { label: `${b.backend} target`, color: colors[b.backend]!, dash: true, values: perSecond(b, xs, (t) => t.targetRate) },
      ]),
    },
    'no measured seconds',
  );
  add(
    {
      id: 'chart-latency',
      title: `Append latency p50 / p99 over time${ofRuns}`,
      yLabel: 'ms',
      ...over,
      series: backends.flatMap((b) => [
        { label: `${b.backend} p99`, color: colors[b.backend]!, values: perSecond(b, xs, (t) => (t.appends > 0 ? t.p99 : null), 'max') },
        { label: `${b.backend} p50`, color: colors[b.backend]!, dash: true, values: perSecond(b, xs, (t) => (t.appends > 0 ? t.p50 : null)) },
      ]),
    },
    'no acknowledged appends',
  );
  const e2eSeries = backends.flatMap((b) => [
    { label: `${b.backend} p99`, color: colors[b.backend]!, values: perSecond(b, xs, (t) => e2eAt(t, 'e2eP99'), 'max') },
    { label: `${b.backend} p50`, color: colors[b.backend]!, dash: true, values: perSecond(b, xs, (t) => e2eAt(t, 'e2eP50')) },
  ]);
  add(
    { id: 'chart-e2e', title: `End-to-end latency p50 / p99 over time${ofRuns}`, yLabel: 'ms', ...over, series: e2eSeries },
    result.backends.some((b) => b.endToEnd && b.endToEnd.count > 0)
      ? `this result records end-to-end latency for the whole window only (see the percentile distribution and the table), not per second`
      : 'no consumer ran (--no-consumer)',
  );
  add(
    {
      id: 'chart-errors',
      title: `Errors and dropped sends over time${ofRuns}`,
      yLabel: 'per second',
      ...over,
      series: backends.flatMap((b) => [
        { label: `${b.backend} errors`, color: colors[b.backend]!, values: perSecond(b, xs, (t) => t.errors, 'max') },
        { label: `${b.backend} dropped`, color: colors[b.backend]!, dash: true, values: perSecond(b, xs, (t) => t.dropped, 'max') },
      ]),
    },
    'no measured seconds',
  );
  add(
    { id: 'chart-lag', title: `Consumer lag over time${ofRuns}`, yLabel: 'events not yet processed', ...over, series: backends.map((b) => ({ label: b.backend, color: colors[b.backend]!, values: perSecond(b, xs, (t) => t.lag, 'max') })) },
    'no consumer ran (--no-consumer)',
  );
  const pxs = percentileXs();
  add(
    {
      id: 'chart-percentiles',
      title: `Latency by percentile (HdrHistogram${runs > 1 ? `, ${runs} runs merged` : ''})`,
      xLabel: 'percentile',
      yLabel: 'ms',
      percentileAxis: true,
      x: pxs,
      series: storesOf(result).flatMap((store) => {
        const latency = mergedHistogram(store.entries, (b) => b.histograms.latency);
        const endToEnd = mergedHistogram(store.entries, (b) => b.histograms.endToEnd);
        return [
          { label: `${store.name} append`, color: colors[store.name]!, values: percentileCurve(latency, pxs) },
          ...(endToEnd ? [{ label: `${store.name} end-to-end`, color: colors[store.name]!, dash: true, values: percentileCurve(endToEnd, pxs) }] : []),
        ];
      }),
    },
    'no latency was recorded',
  );
  return { charts, omitted };
}

/**
 * A sweep's charts (`bench --sweep`), one per metric: x is the swept parameter, one line per store
 * (a raw-driver baseline dashed), so how each backend's cost grows with it reads off one picture.
 */
export function buildSweepCharts(result: RenderableResult): Charts {
  const sweep = sweepOf(result);
  if (!sweep) return { charts: [], omitted: [] };
  const stores = sweepStores(sweep);
  const colors = backendColors(stores);
  const points = [...sweep.points].sort((a, b) => a.value - b.value);
  const xs = points.map((p) => p.value);
  const logX = xs.length > 1 && xs[0]! > 0 && xs.at(-1)! / xs[0]! >= 10;
  const charts: ChartSpec[] = [];
  const omitted: string[] = [];
  for (const m of SWEEP_METRICS) {
    const series = stores.map((st) => ({
      label: st,
      color: colors[st]!,
      ...(st.startsWith('raw-') ? { dash: true } : {}),
      values: points.map((p) => round(p.stores[st]?.[m.key] ?? null)),
    }));
    const spec: ChartSpec = { id: `chart-sweep-${m.key}`, title: `${m.title} by ${sweep.parameter}`, xLabel: sweep.parameter, yLabel: m.unit, sweep: { logX }, x: xs, series };
    if (hasData(series)) charts.push(spec);
    else omitted.push(`${spec.title}: not measured at any point`);
  }
  return { charts, omitted };
}
