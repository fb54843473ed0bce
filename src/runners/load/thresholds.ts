/**
 * k6-style thresholds (`p99<50ms`, `error_rate<0.1%`, `rate>=990/s`, `dropped<1`) and the one function
 * that compares a measured value with a limit (`holds`): thresholds and the max search's objective both
 * use it.
 */
import { ConfigError } from '../../core/event-store.ts';
import { parseRate } from './parse.ts';

export const THRESHOLD_METRICS = {
  p50: 'ms',
  p90: 'ms',
  p99: 'ms',
  p999: 'ms',
  max: 'ms',
  e2e_p99: 'ms',
  error_rate: 'ratio',
  dropped: 'count',
  dropped_rate: 'ratio',
  rate: 'per_second',
} as const;
export type ThresholdMetric = keyof typeof THRESHOLD_METRICS;
export type ThresholdOp = '<' | '<=' | '>' | '>=';

export interface Threshold {
  /** As the user wrote it, for the summary. */
  source: string;
  metric: ThresholdMetric;
  op: ThresholdOp;
  /** In the metric's unit: ms, a ratio 0..1, a count, or appends per second. */
  value: number;
}

const THRESHOLD_HELP = "use <metric><op><value>, e.g. 'p99<50ms', 'error_rate<0.1%', 'rate>=990/s', 'dropped<1'; metrics: " +
  Object.keys(THRESHOLD_METRICS).join(', ');

/** Whether `actual <op> limit` holds: the only comparison of a measurement with a limit. */
export function holds(actual: number, op: ThresholdOp, limit: number): boolean {
  switch (op) {
    case '<':
      return actual < limit;
    case '<=':
      return actual <= limit;
    case '>':
      return actual > limit;
    case '>=':
      return actual >= limit;
  }
}

export function parseThreshold(text: string, flag = '--threshold'): Threshold {
  const m = /^\s*([a-z_0-9().]+)\s*(<=|>=|<|>)\s*(.+?)\s*$/i.exec(String(text));
  if (!m) throw new ConfigError(`${flag} ${JSON.stringify(text)} is malformed: ${THRESHOLD_HELP}`);
  // Accept k6's spelling p(99) as well.
  const metric = m[1]!.toLowerCase().replace(/^p\((\d+(?:\.\d+)?)\)$/, (_, p: string) => `p${p.replace('.', '')}`);
  if (!Object.hasOwn(THRESHOLD_METRICS, metric)) {
    throw new ConfigError(`${flag} ${JSON.stringify(text)}: unknown metric ${JSON.stringify(m[1])}; ${THRESHOLD_HELP}`);
  }
  const kind = THRESHOLD_METRICS[metric as ThresholdMetric];
  const raw = m[3]!;
  let value: number;
  if (kind === 'ms') {
    const v = /^(\d+(?:\.\d+)?)(us|µs|ms|s)?$/.exec(raw);
    if (!v) throw new ConfigError(`${flag} ${JSON.stringify(text)}: ${JSON.stringify(raw)} is not a time (e.g. 50ms, 1.5s)`);
    value = Number(v[1]) * ({ us: 0.001, µs: 0.001, ms: 1, s: 1000 } as Record<string, number>)[v[2] ?? 'ms']!;
  } else if (kind === 'ratio') {
    const v = /^(\d+(?:\.\d+)?)(%)?$/.exec(raw);
    if (!v) throw new ConfigError(`${flag} ${JSON.stringify(text)}: ${JSON.stringify(raw)} is not a ratio: use a percentage (0.1%) or a fraction from 0 to 1 (0.001)`);
    value = Number(v[1]) / (v[2] ? 100 : 1);
    // `error_rate<5` would mean 500 %, a threshold that can never break: most likely 5 % was meant.
    if (value > 1) {
      throw new ConfigError(`${flag} ${JSON.stringify(text)}: ${JSON.stringify(raw)} is ${v[2] ? 'over 100%' : 'a fraction above 1'}; a ratio is a percentage up to 100% (e.g. ${v[2] ? '5%' : `${raw}%`}) or a fraction from 0 to 1 (e.g. 0.05)`);
    }
  } else if (kind === 'count') {
    if (!/^\d+$/.test(raw)) throw new ConfigError(`${flag} ${JSON.stringify(text)}: ${JSON.stringify(raw)} is not a count (a whole number)`);
    value = Number(raw);
  } else {
    value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : parseRate(raw, flag);
  }
  return { source: String(text).trim(), metric: metric as ThresholdMetric, op: m[2] as ThresholdOp, value };
}

export type ThresholdValues = Record<ThresholdMetric, number | null>;

export interface ThresholdOutcome {
  threshold: string;
  metric: ThresholdMetric;
  op: ThresholdOp;
  limit: number;
  actual: number | null;
  passed: boolean;
  /** How far past the limit (|actual - limit|, in the metric's unit), 0 when passed, null when not measured. */
  by: number | null;
  unit: string;
  description: string;
}

export function evaluateThresholds(thresholds: Threshold[], values: ThresholdValues): ThresholdOutcome[] {
  return thresholds.map((t) => {
    const actual = values[t.metric];
    const unit = THRESHOLD_METRICS[t.metric];
    const base = { threshold: t.source, metric: t.metric, op: t.op, limit: t.value, unit };
    if (actual === null || Number.isNaN(actual)) {
      // Not measured (e.g. no consumer): a threshold on it cannot pass silently.
      const o = { ...base, actual: null, passed: false, by: null };
      return { ...o, description: describeOutcome(o) };
    }
    const passed = holds(actual, t.op, t.value);
    const o = { ...base, actual, passed, by: passed ? 0 : Math.abs(actual - t.value) };
    return { ...o, description: describeOutcome(o) };
  });
}

/** "p99<50ms: 812.4ms, over by 762.4ms" */
export function describeOutcome(o: Omit<ThresholdOutcome, 'description'>): string {
  const fmt = (v: number): string =>
    o.unit === 'ms' ? `${round(v)}ms` : o.unit === 'ratio' ? `${round(v * 100)}%` : o.unit === 'per_second' ? `${round(v)}/s` : `${round(v)}`;
  if (o.actual === null) return `${o.threshold}: not measured in this run`;
  if (o.passed) return `${o.threshold}: ${fmt(o.actual)} ok`;
  const direction = o.op.startsWith('<') ? 'over' : 'under';
  return `${o.threshold}: ${fmt(o.actual)}, ${direction} by ${fmt(o.by ?? 0)}`;
}

function round(v: number): number {
  return Math.abs(v) >= 100 ? Math.round(v * 10) / 10 : Math.round(v * 1000) / 1000;
}
