/**
 * Parsers for the load tester's textual inputs: rates (`100/s`, seed 002's `100/sec`, `6000/min`),
 * durations (`60s`, `500ms`, `1m30s`), ramp stages (`100/s:10s,1000/s:20s`) and k6-style thresholds
 * (`p99<50ms`, `error_rate<0.1%`). Every failure is a ConfigError naming the flag and what is accepted.
 */
import { ConfigError } from '../../core/event-store.ts';

const RATE_UNITS: Record<string, number> = { s: 1, sec: 1, second: 1, m: 1 / 60, min: 1 / 60, minute: 1 / 60 };

/** Appends per second from `100/s`, `100/sec`, `1.5k/s`, `6000/min`. */
export function parseRate(text: string, flag = '--rate'): number {
  const m = /^\s*(\d+(?:\.\d+)?)(k)?\s*\/\s*([a-z]+)\s*$/i.exec(String(text));
  const unit = m ? RATE_UNITS[m[3]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new ConfigError(`${flag} ${JSON.stringify(text)} is not a rate: use e.g. 100/s, 100/sec or 6000/min`);
  }
  const rate = Number(m[1]) * (m[2] ? 1000 : 1) * unit;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new ConfigError(`${flag} ${JSON.stringify(text)} must be greater than 0`);
  return rate;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds from `60s`, `500ms`, `1m30s`, `2h`. A bare number is seconds. */
export function parseDuration(text: string, flag = '--duration', options: { allowZero?: boolean } = {}): number {
  const s = String(text).trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(s)) {
    ms = Number(s) * 1000;
  } else {
    const parts = [...s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== s) {
      throw new ConfigError(`${flag} ${JSON.stringify(text)} is not a duration: use e.g. 60s, 500ms or 1m30s`);
    }
    ms = parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0);
  }
  if (!Number.isFinite(ms) || ms < 0 || (ms === 0 && !options.allowZero)) {
    throw new ConfigError(`${flag} ${JSON.stringify(text)} must be a positive duration (e.g. 10s)`);
  }
  return Math.round(ms);
}

export interface Stage {
  /** Target rate at the end of the stage (appends/s); the rate moves linearly from the previous target, as k6's ramping-arrival-rate. */
  rate: number;
  durationMs: number;
}

/** `100/s:10s,1000/s:20s` -> stages. */
export function parseStages(text: string, flag = '--stages'): Stage[] {
  const items = String(text).split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new ConfigError(`${flag} is empty: use e.g. '100/s:10s,1000/s:20s'`);
  return items.map((item) => {
    const idx = item.lastIndexOf(':');
    if (idx <= 0) throw new ConfigError(`${flag} stage ${JSON.stringify(item)} must be <rate>:<duration>, e.g. 1000/s:20s`);
    return { rate: parseRateOrZero(item.slice(0, idx), flag), durationMs: parseDuration(item.slice(idx + 1), flag) };
  });
}

function parseRateOrZero(text: string, flag: string): number {
  if (/^\s*0(\/[a-z]+)?\s*$/i.test(text)) return 0;
  return parseRate(text, flag);
}

export function parsePositiveInt(text: string, flag: string, max = 1_000_000): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(String(text)) || !Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new ConfigError(`${flag} ${JSON.stringify(text)} must be a whole number from 1 to ${max}`);
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------
// Thresholds (k6: `'p(99)<50'`; here `p99<50ms`)
// ---------------------------------------------------------------------------------------------------

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
    if (!v) throw new ConfigError(`${flag} ${JSON.stringify(text)}: ${JSON.stringify(raw)} is not a ratio (e.g. 0.1% or 0.001)`);
    value = Number(v[1]) / (v[2] ? 100 : 1);
  } else if (kind === 'count') {
    if (!/^\d+$/.test(raw)) throw new ConfigError(`${flag} ${JSON.stringify(text)}: ${JSON.stringify(raw)} is not a count`);
    value = Number(raw);
  } else {
    value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : parseRate(raw, flag);
  }
  return { source: String(text).trim(), metric: metric as ThresholdMetric, op: m[2] as ThresholdOp, value };
}

export interface ThresholdValues {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  e2e_p99: number | null;
  error_rate: number;
  dropped: number;
  dropped_rate: number;
  rate: number;
}

export interface ThresholdOutcome {
  threshold: string;
  metric: ThresholdMetric;
  op: ThresholdOp;
  limit: number;
  actual: number | null;
  passed: boolean;
  /** How far past the limit (actual - limit, in the metric's unit), 0 when passed. */
  by: number;
  unit: string;
}

export function evaluateThresholds(thresholds: Threshold[], values: ThresholdValues): ThresholdOutcome[] {
  return thresholds.map((t) => {
    const actual = values[t.metric];
    const unit = THRESHOLD_METRICS[t.metric];
    if (actual === null || Number.isNaN(actual)) {
      // Not measured (e.g. no consumer): a threshold on it cannot pass silently.
      return { threshold: t.source, metric: t.metric, op: t.op, limit: t.value, actual: null, passed: false, by: Number.NaN, unit };
    }
    const passed = t.op === '<' ? actual < t.value : t.op === '<=' ? actual <= t.value : t.op === '>' ? actual > t.value : actual >= t.value;
    return { threshold: t.source, metric: t.metric, op: t.op, limit: t.value, actual, passed, by: passed ? 0 : Math.abs(actual - t.value), unit };
  });
}

/** "p99<50ms: 812.4ms, over by 762.4ms" */
export function describeOutcome(o: ThresholdOutcome): string {
  const fmt = (v: number): string =>
    o.unit === 'ms' ? `${round(v)}ms` : o.unit === 'ratio' ? `${round(v * 100)}%` : o.unit === 'per_second' ? `${round(v)}/s` : `${round(v)}`;
  if (o.actual === null) return `${o.threshold}: not measured in this run`;
  if (o.passed) return `${o.threshold}: ${fmt(o.actual)} ok`;
  const direction = o.op.startsWith('<') ? 'over' : 'under';
  return `${o.threshold}: ${fmt(o.actual)}, ${direction} by ${fmt(o.by)}`;
}

function round(v: number): number {
  return Math.abs(v) >= 100 ? Math.round(v * 10) / 10 : Math.round(v * 1000) / 1000;
}
