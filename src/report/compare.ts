/**
 * `eventbench compare a.json b.json`: per backend and metric (throughput, p50, p99, p99.9, errors, bytes
 * per event, CPU per event) the change from a to b and a verdict: better, worse, or within noise. With
 * several runs of a store (`bench --runs N`) its value is the median over the runs and the noise band the
 * runs' spread; otherwise a stated default band (±5 %). A worse change larger than `failOn` is a
 * regression (the CLI exits 1); a raw-driver baseline's change is shown but never a regression (it says
 * the machine or the server changed, not eventbench). Two results of another workload, executor,
 * load shape or named scenario are not comparable (refused); environment differences (server versions,
 * durability, machine) are listed, since they explain a change without making it wrong to compare.
 * docs/reports.md states the rules.
 */
import type { RenderableBackend, RenderableResult } from './result-file.ts';
import { benchBlock, cpuPerEvent, medianOf, storesOf, type Store } from './tables.ts';

export const DEFAULT_NOISE = 0.05;
export const DEFAULT_FAIL_ON = 0.1;
/** The error rate is compared in absolute terms: a change below 0.1 percentage point is noise. */
export const ERROR_RATE_NOISE = 0.001;

export type Verdict = 'better' | 'worse' | 'within noise' | 'n/a';

interface MetricDef {
  key: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  /** Compared as an absolute difference with this band instead of a relative one. */
  absoluteNoise?: number;
  value(b: RenderableBackend): number | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export const METRICS: MetricDef[] = [
  { key: 'throughput', label: 'throughput', unit: 'events/s', better: 'higher', value: (b) => num(b.throughput?.eventsPerSec) },
  { key: 'p50', label: 'append p50', unit: 'ms', better: 'lower', value: (b) => num(b.latency?.p50) },
  { key: 'p99', label: 'append p99', unit: 'ms', better: 'lower', value: (b) => num(b.latency?.p99) },
  { key: 'p999', label: 'append p99.9', unit: 'ms', better: 'lower', value: (b) => num(b.latency?.p999) },
  { key: 'errors', label: 'error rate', unit: '%', better: 'lower', absoluteNoise: ERROR_RATE_NOISE, value: (b) => num(b.errors?.rate) },
  { key: 'bytesPerEvent', label: 'bytes/event', unit: 'bytes', better: 'lower', value: (b) => num(b.storage?.bytesPerEvent) },
  { key: 'serverCpuPerEvent', label: 'server CPU/event', unit: 'µs', better: 'lower', value: (b) => cpuPerEvent(b).servers },
  { key: 'clientCpuPerEvent', label: 'client CPU/event', unit: 'µs', better: 'lower', value: (b) => cpuPerEvent(b).client },
];

export interface MetricComparison {
  backend: string;
  metric: string;
  label: string;
  unit: string;
  a: number | null;
  b: number | null;
  /** Relative change (b - a) / a; for the error rate the absolute change. Null when not measured in both. */
  delta: number | null;
  /** The band within which a change is noise (a fraction; absolute for the error rate). */
  noise: number;
  noiseFrom: 'runs' | 'default';
  verdict: Verdict;
  /** Worse by more than the noise and by more than fail-on (never for a raw-driver baseline). */
  regression: boolean;
  /** Runs behind a and b (the median is compared). */
  runs: [number, number];
  baseline: boolean;
}

export interface Comparison {
  rows: MetricComparison[];
  regressions: MetricComparison[];
  /** Settings that differ but do not make the two incomparable (server versions, durability, machine). */
  environmentDifferences: string[];
  onlyInA: string[];
  onlyInB: string[];
  noise: number;
  failOn: number;
}

export interface CompareOptions {
  /** Fraction: 0.1 = 10 %. */
  failOn?: number;
  /** Default noise band when no result has runs; fraction. */
  noise?: number;
}

/** Spread of a metric over a store's runs: (max - min) / median (absolute for the error rate); null below two runs. */
export function runSpread(store: Store, metric: MetricDef): number | null {
  const values = store.entries.filter((b) => !b.error).map((b) => metric.value(b)).filter((v): v is number => v !== null);
  if (values.length < 2) return null;
  const sorted = [...values].sort((x, y) => x - y);
  const range = sorted[sorted.length - 1]! - sorted[0]!;
  if (metric.absoluteNoise !== undefined) return range;
  const median = medianOf(store.entries.filter((b) => !b.error), metric.value)!;
  return median > 0 ? range / median : null;
}

function compareMetric(metric: MetricDef, sa: Store, sb: Store, opts: Required<CompareOptions>): MetricComparison {
  const ok = (s: Store): RenderableBackend[] => s.entries.filter((b) => !b.error);
  const a = medianOf(ok(sa), metric.value);
  const b = medianOf(ok(sb), metric.value);
  const spreads = [runSpread(sa, metric), runSpread(sb, metric)].filter((x): x is number => x !== null);
  const noiseFrom = spreads.length ? 'runs' : 'default';
  const noise = spreads.length ? Math.max(...spreads) : metric.absoluteNoise ?? opts.noise;
  const baseline = sa.baselineOf !== null;
  const base = { backend: sa.name, metric: metric.key, label: metric.label, unit: metric.unit, a, b, noise, noiseFrom, runs: [ok(sa).length, ok(sb).length] as [number, number], baseline } as const;
  if (a === null || b === null) return { ...base, delta: null, verdict: 'n/a', regression: false };
  const delta = metric.absoluteNoise !== undefined ? b - a : a === 0 ? (b === 0 ? 0 : Number.POSITIVE_INFINITY) : (b - a) / a;
  if (Math.abs(delta) <= noise) return { ...base, delta, verdict: 'within noise', regression: false };
  const improved = metric.better === 'higher' ? delta > 0 : delta < 0;
  // How much worse, relative, to hold against fail-on (the error rate: relative to a, from 0 = infinite).
  const worseBy = metric.absoluteNoise !== undefined ? (a === 0 ? Number.POSITIVE_INFINITY : Math.abs(b - a) / a) : Math.abs(delta);
  return { ...base, delta, verdict: improved ? 'better' : 'worse', regression: !improved && !baseline && worseBy > opts.failOn };
}

const shape = (r: RenderableResult): string => {
  const s = r.scenario;
  switch (s.executor) {
    case 'constant':
      return `constant ${s.rate}/s`;
    case 'ramp':
      return `ramp ${s.rate ?? 0}/s then ${(s.stages ?? []).map((st) => `${st.rate}/s:${st.durationMs / 1000}s`).join(',')}`;
    case 'closed':
      return `closed loop, ${s.writers} writers`;
    default:
      return `max search under ${s.slo}`;
  }
};

/** What makes two results incomparable; empty when they may be compared. */
export function comparabilityProblems(a: RenderableResult, b: RenderableResult): string[] {
  const problems: string[] = [];
  const name = (r: RenderableResult): unknown => (r.scenario as Record<string, unknown>).name ?? null;
  if (name(a) !== name(b)) problems.push(`scenario ${String(name(a))} vs ${String(name(b))}`);
  if (a.scenario.workload !== b.scenario.workload) problems.push(`workload ${a.scenario.workload} vs ${b.scenario.workload}`);
  if (a.scenario.executor !== b.scenario.executor) problems.push(`executor ${a.scenario.executor} vs ${b.scenario.executor}`);
  else if (shape(a) !== shape(b)) problems.push(`load ${shape(a)} vs ${shape(b)}`);
  const names = new Set(b.backends.map((x) => x.backend));
  if (!a.backends.some((x) => names.has(x.backend))) problems.push(`no backend in common (${a.backends.map((x) => x.backend).join(',')} vs ${b.backends.map((x) => x.backend).join(',')})`);
  return problems;
}

/** Settings that differ between the two runs: they may explain a change. */
export function environmentDifferences(a: RenderableResult, b: RenderableResult): string[] {
  const ea = a.environment;
  const eb = b.environment;
  const pairs: [string, unknown, unknown][] = [
    ['PostgreSQL version', ea.postgres?.version, eb.postgres?.version],
    ['PostgreSQL fsync', ea.postgres?.settings.fsync, eb.postgres?.settings.fsync],
    ['PostgreSQL synchronous_commit', ea.postgres?.settings.synchronous_commit, eb.postgres?.settings.synchronous_commit],
    ['PostgreSQL shared_buffers', ea.postgres?.settings.shared_buffers, eb.postgres?.settings.shared_buffers],
    ['nats-server version', ea.nats?.version, eb.nats?.version],
    ['JetStream durability', ea.nats?.jetstream.durability, eb.nats?.jetstream.durability],
    ['durability profile', benchBlock(a)?.durability?.profile, benchBlock(b)?.durability?.profile],
    ['machine', `${ea.machine.cores} cores, ${ea.machine.cpuModel}, ${(ea.machine.memoryBytes / 2 ** 30).toFixed(0)} GiB`, `${eb.machine.cores} cores, ${eb.machine.cpuModel}, ${(eb.machine.memoryBytes / 2 ** 30).toFixed(0)} GiB`],
    ['host', ea.machine.hostname, eb.machine.hostname],
    ['Node', ea.node.version, eb.node.version],
    ['eventbench', ea.eventbench.version, eb.eventbench.version],
    ['drivers', JSON.stringify(ea.drivers), JSON.stringify(eb.drivers)],
    ['git revision', ea.git.revision?.slice(0, 12), eb.git.revision?.slice(0, 12)],
    ['duration', `${a.scenario.durationMs / 1000}s`, `${b.scenario.durationMs / 1000}s`],
    ['workers', a.scenario.workers, b.scenario.workers],
    ['streams', a.scenario.streams, b.scenario.streams],
    ['max in flight', a.scenario.maxInFlight, b.scenario.maxInFlight],
    ['consumer', a.scenario.consumer, b.scenario.consumer],
  ];
  return pairs.filter(([, x, y]) => (x ?? null) !== (y ?? null)).map(([what, x, y]) => `${what}: ${String(x ?? 'n/a')} vs ${String(y ?? 'n/a')}`);
}

/** Compares two comparable results (check `comparabilityProblems` first). */
export function compareResults(a: RenderableResult, b: RenderableResult, options: CompareOptions = {}): Comparison {
  const opts = { failOn: options.failOn ?? DEFAULT_FAIL_ON, noise: options.noise ?? DEFAULT_NOISE };
  const rows: MetricComparison[] = [];
  const storesB = storesOf(b);
  for (const sa of storesOf(a)) {
    const sb = storesB.find((x) => x.name === sa.name);
    if (!sb || sa.entries.every((e) => e.error) || sb.entries.every((e) => e.error)) continue;
    for (const metric of METRICS) rows.push(compareMetric(metric, sa, sb, opts));
  }
  const namesA = storesOf(a).map((x) => x.name);
  const namesB = storesB.map((x) => x.name);
  return {
    rows,
    regressions: rows.filter((r) => r.regression),
    environmentDifferences: environmentDifferences(a, b),
    onlyInA: namesA.filter((n) => !namesB.includes(n)),
    onlyInB: namesB.filter((n) => !namesA.includes(n)),
    noise: opts.noise,
    failOn: opts.failOn,
  };
}

const fmtValue = (v: number | null, unit: string): string => {
  if (v === null) return 'n/a';
  if (unit === '%') return `${(v * 100).toFixed(2)}%`;
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : String(Number(v.toPrecision(3)));
};

export function fmtDelta(r: MetricComparison): string {
  if (r.delta === null) return 'n/a';
  if (r.metric === 'errors') return `${r.delta >= 0 ? '+' : ''}${(r.delta * 100).toFixed(2)} pp`;
  if (!Number.isFinite(r.delta)) return 'new';
  return `${r.delta >= 0 ? '+' : ''}${(r.delta * 100).toFixed(1)}%`;
}

const fmtBand = (r: MetricComparison): string => (r.metric === 'errors' ? `±${(r.noise * 100).toFixed(2)} pp` : `±${(r.noise * 100).toFixed(1)}%`);

/** The comparison for a terminal (or a Markdown file: the table is Markdown). */
export function formatComparison(c: Comparison, nameA: string, nameB: string): string {
  const runs = (i: 0 | 1): number => Math.max(0, ...c.rows.map((r) => r.runs[i]));
  const lines: string[] = [`a: ${nameA}${runs(0) > 1 ? ` (median of ${runs(0)} runs)` : ''}`, `b: ${nameB}${runs(1) > 1 ? ` (median of ${runs(1)} runs)` : ''}`, ''];
  lines.push('| backend | metric | a | b | change | noise | verdict |', '|---|---|---|---|---|---|---|');
  for (const r of c.rows) {
    lines.push(`| ${r.backend}${r.baseline ? ' (baseline)' : ''} | ${r.label} (${r.unit}) | ${fmtValue(r.a, r.unit)} | ${fmtValue(r.b, r.unit)} | ${fmtDelta(r)} | ${fmtBand(r)}${r.noiseFrom === 'runs' ? ' (runs)' : ''} | ${r.regression ? '**REGRESSION**' : r.verdict} |`);
  }
  if (c.onlyInA.length) lines.push('', `only in a: ${c.onlyInA.join(', ')}`);
  if (c.onlyInB.length) lines.push('', `only in b: ${c.onlyInB.join(', ')}`);
  lines.push('', c.environmentDifferences.length ? 'environment differences:' : 'environment: the same server versions, durability settings and machine');
  for (const d of c.environmentDifferences) lines.push(`  ${d}`);
  lines.push(
    '',
    c.regressions.length
      ? `${c.regressions.length} regression(s) beyond noise and --fail-on ${(c.failOn * 100).toFixed(0)}%: ${c.regressions.map((r) => `${r.backend} ${r.label} ${fmtDelta(r)}`).join('; ')}`
      : `no regression beyond noise and --fail-on ${(c.failOn * 100).toFixed(0)}%`,
  );
  return lines.join('\n');
}
