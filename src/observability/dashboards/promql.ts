/**
 * PromQL for the dashboards, built from the metric definitions (src/core/metrics.ts `METRIC_SHAPE`,
 * src/core/server-metrics.ts) instead of typed strings: a panel can name only a metric that exists, a
 * histogram quantile only a histogram, a label filter only a label the metric carries. Ranges are always
 * `$__rate_interval` (Grafana's interval that covers at least four scrapes; dashboard-linter's rule).
 */
import { METRIC, METRIC_SHAPE, type MetricKey } from '../../core/metrics.ts';

export const RATE_INTERVAL = '$__rate_interval';

type Shape = typeof METRIC_SHAPE;
type KeyOfType<T extends string> = { [K in MetricKey]: Shape[K]['type'] extends T ? K : never }[MetricKey];
export type CounterKey = KeyOfType<'counter'>;
export type GaugeKey = KeyOfType<'gauge'>;
export type HistogramKey = KeyOfType<'histogram'>;
type LabelOf<K extends MetricKey> = Shape[K]['labels'][number];

/**
 * The dashboard variables each eventbench series is filtered by, when it carries the label: `backend`,
 * `event_type`, `scenario` (chaos), and `run` (a target label that the scrape config adds, absent in
 * compose's Prometheus: the variable's "All" value `.*` matches a missing label too).
 */
export const HARNESS_FILTERS = { backend: '$backend', event_type: '$event_type', scenario: '$scenario', run: '$run' } as const;

/** Exact label values a query keeps (`{outcome="acknowledged"}`), on labels the series carries. */
export type Where<K extends MetricKey> = Partial<Record<LabelOf<K>, string>>;

function harnessMatchers<K extends MetricKey>(key: K, where: Where<K> = {}): string {
  const labels: readonly string[] = METRIC_SHAPE[key].labels;
  const parts = Object.entries(HARNESS_FILTERS)
    .filter(([label]) => label === 'run' || labels.includes(label))
    .map(([label, variable]) => `${label}=~"${variable}"`);
  for (const [label, value] of Object.entries(where)) parts.push(`${label}="${String(value)}"`);
  return `{${parts.join(', ')}}`;
}

function by<K extends MetricKey>(labels: readonly LabelOf<K>[]): string {
  return labels.length > 0 ? ` by (${labels.join(', ')})` : '';
}

/** `sum by (labels) (rate(counter{filters}[$__rate_interval]))`: per-second rate. */
export function counterRate<K extends CounterKey>(key: K, labels: readonly LabelOf<K>[], where?: Where<K>): string {
  return `sum${by<K>(labels)} (rate(${METRIC[key]}${harnessMatchers(key, where)}[${RATE_INTERVAL}]))`;
}

/** `sum by (labels) (counter{filters})`: the running total (counts since the run started). */
export function counterTotal<K extends CounterKey>(key: K, labels: readonly LabelOf<K>[], where?: Where<K>): string {
  return `sum${by<K>(labels)} (${METRIC[key]}${harnessMatchers(key, where)})`;
}

/** `agg by (labels) (gauge{filters})`. */
export function gauge<K extends GaugeKey>(key: K, labels: readonly LabelOf<K>[], agg: 'sum' | 'max' = 'sum', where?: Where<K>): string {
  return `${agg}${by<K>(labels)} (${METRIC[key]}${harnessMatchers(key, where)})`;
}

/** `histogram_quantile(q, sum by (le, labels) (rate(hist_bucket{filters}[$__rate_interval])))`. */
export function quantile<K extends HistogramKey>(q: number, key: K, labels: readonly LabelOf<K>[], where?: Where<K>): string {
  return `histogram_quantile(${q}, sum by (le${labels.map((l) => `, ${l}`).join('')}) (rate(${METRIC[key]}_bucket${harnessMatchers(key, where)}[${RATE_INTERVAL}])))`;
}

/** For the exporters' series (src/core/server-metrics.ts): `selector` is `name{matchers}`. */
export function serverRate(selector: string, labels: readonly string[]): string {
  return `sum${labels.length ? ` by (${labels.join(', ')})` : ''} (rate(${selector}[${RATE_INTERVAL}]))`;
}

/** Growth per second of a gauge (storage sizes): `deriv`, which fits a line instead of needing a counter. */
export function serverGrowth(selector: string, labels: readonly string[]): string {
  return `sum${labels.length ? ` by (${labels.join(', ')})` : ''} (deriv(${selector}[${RATE_INTERVAL}]))`;
}
