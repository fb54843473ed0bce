/**
 * The tables of a load / bench result as data (a header row and rows of text), so report.html and a
 * Markdown summary show the same numbers: the side-by-side table, the capabilities with "what an ack
 * means", costs per event, and the environment. Renderers only lay them out (`markdownTable` here,
 * html/sections.ts for HTML).
 */
import type { RenderableBackend, RenderableResult } from './result-file.ts';
import type { Environment } from '../core/environment.ts';
import { fmtCount, formatRate } from './format.ts';

export interface Table {
  title: string;
  header: string[];
  rows: string[][];
  /** One line under the table: what the numbers are. */
  note?: string;
}

/** ms for people: 3 significant-ish digits (0.61, 12.3, 250). */
export const fmtMs = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const fmtPct = (v: number): string => `${(v * 100).toFixed(v < 0.001 && v > 0 ? 3 : 2)}%`;
const orNa = <T>(v: T | null | undefined, f: (x: T) => string): string => (v === null || v === undefined ? 'n/a' : f(v));

/** Which run of `--runs` a backend entry is (schema version 3; earlier results have one run). */
export function runOf(b: RenderableBackend): number {
  const run = (b as Record<string, unknown>).run;
  return typeof run === 'number' ? run : 1;
}

/** The adapter a raw-driver baseline entry did the work of, or null for an adapter (schema version 3). */
export function baselineOf(b: RenderableBackend): string | null {
  const of = (b as Record<string, unknown>).baselineOf;
  return typeof of === 'string' ? of : null;
}

/** One store of a result (an adapter or a raw-driver baseline) with its entries, one per run. */
export interface Store {
  name: string;
  baselineOf: string | null;
  entries: RenderableBackend[];
}

/** The result's stores in the order they first ran. */
export function storesOf(result: RenderableResult): Store[] {
  const stores = new Map<string, Store>();
  for (const b of result.backends) {
    const s = stores.get(b.backend) ?? { name: b.backend, baselineOf: baselineOf(b), entries: [] };
    s.entries.push(b);
    stores.set(b.backend, s);
  }
  return [...stores.values()];
}

export function runCount(result: RenderableResult): number {
  return Math.max(1, ...result.backends.map(runOf));
}

/** The median of the entries' values (null when none has one). */
export function medianOf(entries: RenderableBackend[], f: (b: RenderableBackend) => number | null | undefined): number | null {
  const values = entries.map(f).filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((x, y) => x - y);
  if (values.length === 0) return null;
  const mid = Math.floor(values.length / 2);
  return values.length % 2 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

/** A row label: the store, and its run when the result has several. */
export function entryLabel(result: RenderableResult, b: RenderableBackend): string {
  return runCount(result) > 1 ? `${b.backend} (run ${runOf(b)})` : b.backend;
}

/** The `bench` block of schema version 3 (efficiency, runs, durability), loosely typed: null for `load` and older results. */
export interface BenchBlockView {
  runs: number;
  baseline: boolean;
  durability: { profile: string; changes: string[]; sides: { backend: string; ack: string; settings: Record<string, string> }[] } | null;
  efficiency: { backend: string; baseline: string; of: string; definition: string; value: Spread }[];
  metrics: { metric: string; unit: string; better: string; stores: Record<string, Spread>; verdict: string | null }[];
}
interface Spread {
  median: number;
  min: number;
  max: number;
}

export function benchBlock(result: RenderableResult): BenchBlockView | null {
  const b = (result as Record<string, unknown>).bench as Partial<BenchBlockView> | null | undefined;
  if (!b || typeof b !== 'object') return null;
  return { runs: b.runs ?? 1, baseline: b.baseline ?? false, durability: b.durability ?? null, efficiency: b.efficiency ?? [], metrics: b.metrics ?? [] };
}

const fmtSpread = (s: Spread, digits = 3): string => {
  const f = (v: number): string => (Math.abs(v) >= 100 ? fmtCount(v) : String(Number(v.toPrecision(digits))));
  return s.min === s.max ? f(s.median) : `${f(s.median)} [${f(s.min)}-${f(s.max)}]`;
};

/** Over the runs: every metric's median [min-max] per store, and whether backends differ beyond the spread. */
export function runsTable(result: RenderableResult): Table | null {
  const bench = benchBlock(result);
  if (!bench || bench.metrics.length === 0) return null;
  const stores = [...new Set(bench.metrics.flatMap((m) => Object.keys(m.stores)))];
  return {
    title: `Over ${bench.runs} run(s): median [min-max]`,
    header: ['metric', ...stores, 'difference'],
    rows: bench.metrics.map((m) => [`${m.metric} (${m.unit})`, ...stores.map((s) => (m.stores[s] ? fmtSpread(m.stores[s]) : 'n/a')), m.verdict === null ? 'n/a (one run)' : m.verdict === 'noise' ? 'within the spread (noise)' : `${m.verdict} better`]),
    note: 'A difference between backends is noise when their min-max ranges overlap.',
  };
}

/** Adapter / raw driver, measured in the same invocation. */
export function efficiencyTable(result: RenderableResult): Table | null {
  const bench = benchBlock(result);
  if (!bench || bench.efficiency.length === 0) return null;
  return {
    title: 'Efficiency vs the raw driver',
    header: ['backend', 'baseline', 'ratio of', 'median [min-max]', 'what it is'],
    rows: bench.efficiency.map((e) => [e.backend, e.baseline, e.of, fmtSpread(e.value), e.definition]),
    note: '1 means as good as the driver alone; lower is the adapter\'s cost.',
  };
}

/** Which server's acknowledgement a backend's append waits for (by its registry name). */
export type AckSide = 'postgres' | 'jetstream' | 'memory' | 'unknown';

export function ackSide(backend: string): AckSide {
  // The hybrid topology's append is a PostgreSQL commit (the relay to JetStream comes after the ack).
  if (backend.includes('postgres') || backend.includes('hybrid')) return 'postgres';
  if (backend.includes('jetstream') || backend.includes('nats')) return 'jetstream';
  if (backend === 'memory') return 'memory';
  return 'unknown';
}

/** What an acknowledged append means on this backend, from the server settings the run read back. */
export function ackMeaning(result: RenderableResult, backend: string): string {
  // A bench of schema version 3 read the settings back in each store's own session: the best answer.
  const side = benchBlock(result)?.durability?.sides.find((s) => s.backend === backend);
  if (side) return side.ack;
  const env = result.environment;
  switch (ackSide(backend)) {
    case 'postgres':
      if (!env.postgres) return 'a PostgreSQL commit (settings not recorded)';
      return env.postgres.settings.fsync === 'on' && env.postgres.settings.synchronous_commit !== 'off'
        ? `a PostgreSQL ${env.postgres.version} commit, on disk (fsync=on, synchronous_commit=${env.postgres.settings.synchronous_commit ?? '?'})`
        : `a PostgreSQL ${env.postgres.version} commit, not yet on disk (fsync=${env.postgres.settings.fsync ?? '?'}, synchronous_commit=${env.postgres.settings.synchronous_commit ?? '?'})`;
    case 'jetstream':
      return env.nats ? env.nats.jetstream.durability : 'a JetStream publish ack (settings not recorded)';
    case 'memory':
      return "in this process's memory (the harness's ceiling, nothing persisted)";
    default:
      return 'not recorded';
  }
}

/**
 * What a reader can ask of the stored events besides the contract's reads (the "queries" row of docs/case-processing.md's comparison table),
 * from where the events live (the server an append is acknowledged by, as `ackSide`) and the backend's
 * `globalOrder` capability: rows of a PostgreSQL table answer any SQL; a JetStream stream answers by
 * subject and sequence only.
 */
export function queriesOf(backend: string, capabilities: Record<string, boolean | number | null> | null | undefined): string {
  const global = capabilities?.globalOrder === true ? 'all streams in one order' : 'one category at a time';
  switch (ackSide(backend)) {
    case 'postgres':
      return `SQL over the events table (any column, jsonb data and metadata, joins), besides by stream and ${global}`;
    case 'jetstream':
      return `by stream (subject) and ${global} from a sequence; nothing by content (a consumer or read model per question)`;
    case 'memory':
      return `by stream and ${global}, in this process only`;
    default:
      return 'n/a';
  }
}

/** CPU microseconds per event stored over the whole run (warm-up and drain included, as the sampler measures). */
export function cpuPerEvent(b: RenderableBackend): { servers: number | null; client: number | null } {
  const events = b.totals.wholeRun.events;
  if (events <= 0) return { servers: null, client: null };
  const server = b.resources.servers.reduce((a, s) => a + s.cpuSeconds, 0);
  return {
    servers: b.resources.servers.length ? (server * 1e6) / events : null,
    client: (b.resources.loadGenerator.cpuSeconds * 1e6) / events,
  };
}

/** A boolean flag block a later schema version may add (e.g. `clientBound: { bound, reason }`). */
export function clientBound(b: RenderableBackend): { bound: boolean; reason: string | null } | null {
  const cb = (b as Record<string, unknown>).clientBound as { bound?: unknown; reason?: unknown } | null | undefined;
  if (!cb || typeof cb.bound !== 'boolean') return null;
  return { bound: cb.bound, reason: typeof cb.reason === 'string' ? cb.reason : null };
}

export function sideBySideTable(result: RenderableResult): Table {
  const anyE2e = result.backends.some((b) => b.endToEnd && b.endToEnd.count > 0);
  const anyBound = result.backends.some((b) => clientBound(b) !== null);
  const header = ['backend', 'events/s', 'target appends/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', ...(anyE2e ? ['e2e p50 ms', 'e2e p99 ms'] : []), 'errors', 'error rate', 'dropped', 'bytes/event', 'server CPU µs/event', 'client CPU µs/event', ...(anyBound ? ['client-bound'] : [])];
  const rows = result.backends.map((b) => {
    const cpu = cpuPerEvent(b);
    const e2e = b.endToEnd && b.endToEnd.count > 0 ? b.endToEnd : null;
    const cb = clientBound(b);
    return [
      entryLabel(result, b),
      b.error ? 'failed' : fmtCount(b.throughput.eventsPerSec),
      b.throughput.targetPerSec === null ? 'closed loop' : `${b.maxSearch && !b.maxSearch.limitFound ? '>= ' : ''}${formatRate(b.throughput.targetPerSec).replace(/\/s$/, '')}`,
      fmtMs(b.latency.p50),
      fmtMs(b.latency.p99),
      fmtMs(b.latency.p999),
      fmtMs(b.latency.max),
      ...(anyE2e ? [orNa(e2e, (x) => fmtMs(x.p50)), orNa(e2e, (x) => fmtMs(x.p99))] : []),
      fmtCount(b.errors.total),
      fmtPct(b.errors.rate),
      fmtCount(b.dropped.count),
      orNa(b.storage?.bytesPerEvent, fmtCount),
      orNa(cpu.servers, fmtCount),
      orNa(cpu.client, fmtCount),
      ...(anyBound ? [cb === null ? 'n/a' : cb.bound ? `yes${cb.reason ? `: ${cb.reason}` : ''}` : 'no'] : []),
    ];
  });
  return {
    title: 'Side by side',
    header,
    rows,
    note: 'Append latency from each append\'s intended send time (open loop: no coordinated omission), ms. CPU per event: CPU seconds of the run (warm-up and drain included) / events stored.',
  };
}

function capabilityText(name: string, value: boolean | number | null | undefined): string {
  if (value === undefined) return 'n/a';
  // The contract: a null idempotency window means ids are remembered forever.
  if (value === null) return name === 'idempotencyWindowMs' ? 'forever' : 'none';
  return String(value);
}

/** Every capability of every backend, and what an acknowledgement means on each: a faster backend that guarantees less is not simply faster. */
export function capabilityTable(result: RenderableResult): Table {
  const stores = storesOf(result).map((s) => s.entries[0]!);
  const names = [...new Set(stores.flatMap((b) => Object.keys(b.capabilities ?? {})))];
  const rows = names.map((name) => [name, ...stores.map((b) => capabilityText(name, b.capabilities?.[name]))]);
  rows.push(['queries', ...stores.map((b) => queriesOf(b.backend, b.capabilities))]);
  rows.push(['what an ack means', ...stores.map((b) => ackMeaning(result, b.backend))]);
  const durability = benchBlock(result)?.durability;
  if (durability) rows.push(['durability profile', ...stores.map(() => `${durability.profile}: ${durability.changes.join('; ')}`)]);
  return { title: 'Capabilities and what an ack means', header: ['capability', ...stores.map((b) => b.backend)], rows };
}

/** The settings a number depends on, one per row. */
export function environmentTable(result: RenderableResult): Table {
  const env = result.environment;
  const s = result.scenario;
  const rows: string[][] = [
    ['measured', result.createdAt],
    ['scenario', `${s.command}, ${s.executor}, workload ${s.workload}, ${s.durationMs / 1000}s after ${s.warmupMs / 1000}s warm-up${s.rate !== null ? `, rate ${formatRate(s.rate)}` : ''}${s.writers !== null ? `, ${s.writers} writers` : ''}${s.stages ? `, stages ${s.stages.map((st) => `${formatRate(st.rate)}:${st.durationMs / 1000}s`).join(',')}` : ''}${s.slo ? `, SLO ${s.slo}` : ''}`],
    ['seed, run id', `${s.seed}, ${s.runId}`],
    ['workers, max in flight, streams', `${s.workers}, ${s.maxInFlight}, ${s.streams ?? 'n/a'}`],
    ['thresholds', s.thresholds.length ? s.thresholds.join(', ') : 'none'],
    ...environmentRows(env),
  ];
  return { title: 'Environment', header: ['what', 'value'], rows };
}

/** Machine, versions, git and servers: the rows every kind of result (load, bench, chaos) shows. */
export function environmentRows(env: Environment): string[][] {
  const rows: string[][] = [
    ['machine', `${env.machine.cores} cores (${env.machine.cpuModel}), ${(env.machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, ${env.machine.os}, load average ${env.machine.loadAverage.join(' ')}`],
    ['Node, eventbench', `${env.node.version}, ${env.eventbench.version}`],
    ['drivers', Object.entries(env.drivers).map(([k, v]) => `${k} ${v}`).join(', ')],
    ['git', `${env.git.revision ?? 'unknown'}${env.git.dirty ? ' (dirty)' : ''}${env.git.branch ? ` on ${env.git.branch}` : ''}`],
  ];
  if (env.postgres) {
    rows.push(['PostgreSQL', `${env.postgres.version} (${env.postgres.managed ? `managed, ${env.postgres.source ?? ''}` : 'external'})`]);
    rows.push(['PostgreSQL settings', Object.entries(env.postgres.settings).map(([k, v]) => `${k}=${v}`).join(', ')]);
  }
  if (env.nats) {
    rows.push(['nats-server', `${env.nats.version} (${env.nats.managed ? `managed, ${env.nats.source ?? ''}` : 'external'})`]);
    rows.push(['JetStream durability', env.nats.jetstream.durability]);
  }
  return rows;
}

/** A GitHub-readable Markdown table ("|" in cells escaped). */
export function markdownTable(t: Table): string {
  const cell = (c: string): string => c.replace(/\|/g, '\\|');
  return [`| ${t.header.map(cell).join(' | ')} |`, `|${t.header.map(() => '---').join('|')}|`, ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

/** A max search's steps (one table per backend entry that searched), as report.html and summary.md show them. */
export function maxSearchTables(result: RenderableResult): Table[] {
  return result.backends
    .filter((b) => b.maxSearch)
    .map((b) => {
      const m = b.maxSearch!;
      return {
        title: `${entryLabel(result, b)} max search`,
        header: [`${entryLabel(result, b)} step`, 'target/s', 'achieved/s', 'p50 ms', 'p99 ms', 'errors', 'dropped', 'in flight', 'lag', 'verdict'],
        rows: m.steps.map((s) => [String(s.step), fmtCount(s.targetRate), fmtCount(s.achievedRate), fmtMs(s.p50), fmtMs(s.p99), fmtCount(s.errors), fmtCount(s.dropped), fmtCount(s.unfinished), s.lag === null ? 'n/a' : fmtCount(s.lag), s.reason]),
        ...(m.hint ? { note: m.hint } : {}),
      };
    });
}

/** A table for the terminal: columns padded, numbers right-aligned, the title above. */
export function textTable(t: Table): string {
  const rows = [t.header, ...t.rows];
  const widths = t.header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [`${t.title}:`, line(t.header), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line), ...(t.note ? [t.note] : [])].join('\n');
}

/** The metrics a sweep charts and tabulates, one table and one chart each (the keys of a sweep point's store). */
export const SWEEP_METRICS = [
  { key: 'eventsPerSec', title: 'Throughput', unit: 'events/s', format: fmtCount },
  { key: 'p99Ms', title: 'Append latency p99', unit: 'ms', format: fmtMs },
  { key: 'bytesPerEvent', title: 'Storage bytes per event', unit: 'bytes', format: fmtCount },
  { key: 'cpuUsPerEvent', title: 'CPU per event (servers + load side)', unit: 'µs', format: fmtCount },
] as const;
export type SweepMetricKey = (typeof SWEEP_METRICS)[number]['key'];

export interface SweepView {
  parameter: string;
  values: number[];
  points: { value: number; stores: Record<string, Partial<Record<SweepMetricKey, number | null>>>; exitCode: number; dir: string | null }[];
}

/** The `sweep` block (`bench --sweep`), loosely read: null for any other result. */
export function sweepOf(result: RenderableResult): SweepView | null {
  const sw = (result as Record<string, unknown>).sweep as SweepView | null | undefined;
  return sw && typeof sw === 'object' && Array.isArray(sw.points) ? sw : null;
}

/** The stores of a sweep in the order they first appear. */
export function sweepStores(sweep: SweepView): string[] {
  return [...new Set(sweep.points.flatMap((p) => Object.keys(p.stores)))];
}

/** One table per metric: a row per value of the swept parameter, a column per store (medians over the runs). */
export function sweepTables(result: RenderableResult): Table[] {
  const sweep = sweepOf(result);
  if (!sweep) return [];
  const stores = sweepStores(sweep);
  return SWEEP_METRICS.map((m) => ({
    title: `Sweep over ${sweep.parameter}: ${m.title} (${m.unit})`,
    header: [sweep.parameter, ...stores],
    rows: sweep.points.map((p) => [fmtCount(p.value), ...stores.map((st) => orNa(p.stores[st]?.[m.key], m.format))]),
  }));
}

/** All tables of a result as Markdown sections: summary.md shows exactly the tables of report.html. */
export function renderTablesMarkdown(result: RenderableResult): string {
  return [sideBySideTable(result), runsTable(result), efficiencyTable(result), ...sweepTables(result), capabilityTable(result), ...maxSearchTables(result), environmentTable(result)]
    .filter((t): t is Table => t !== null)
    .map((t) => `## ${t.title}\n\n${markdownTable(t)}\n${t.note ? `\n${t.note}\n` : ''}`)
    .join('\n');
}
