/**
 * The human side of a load / bench result: a side-by-side table for the terminal, and summary.md, whose
 * tables are report.html's (tables.ts renderTablesMarkdown) followed by each backend's details.
 * Every number says what it is; thresholds say which broke and by how much; capabilities that differ
 * between backends are listed, because a faster backend that guarantees less is not simply faster.
 */
import { ERROR_KINDS } from '../core/metrics.ts';
import { formatSnapshotDelta } from '../infra/server-snapshots.ts';
import { formatRate } from './format.ts';
import type { BackendResult, LoadResult, Spread } from './load-result.ts';
import { queriesOf, renderTablesMarkdown } from './tables.ts';
import { verdictLine } from './verdict.ts';

const fmtMs = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const fmtInt = (v: number): string => Math.round(v).toLocaleString('en-US');
/** A rate without its unit: whole above 100, else 3 significant digits (1.67, not 2). */
const fmtRateNumber = (v: number): string => formatRate(v).replace(/\/s$/, '');
const fmtPct = (v: number): string => `${(v * 100).toFixed(v < 0.001 && v > 0 ? 3 : 2)}%`;
const fmtBytes = (v: number | null | undefined): string => (v === null || v === undefined ? 'n/a' : `${fmtInt(v)}`);

/** `0`, or `12 (conflict 10, unavailable 2)`: the count and, when there are any, their kinds. */
export function formatErrors(errors: BackendResult['errors']): string {
  if (errors.total === 0) return '0';
  const kinds = ERROR_KINDS.filter((k) => errors[k] > 0).map((k) => `${k} ${fmtInt(errors[k])}`);
  return `${fmtInt(errors.total)} (${kinds.join(', ')})`;
}

/** The max search's verdict: a limit, a lower bound (no step failed), or none. */
export function formatMaxSearch(m: NonNullable<BackendResult['maxSearch']>): string {
  if (m.sustainableRate === null) return `max sustainable rate under ${m.slo}: none found (every step failed)`;
  if (!m.limitFound) return `max sustainable rate under ${m.slo}: at least ${formatRate(m.sustainableRate)} (${m.hint ?? 'no step failed, so this is a lower bound'})`;
  return `max sustainable rate under ${m.slo}: ${formatRate(m.sustainableRate)}`;
}

interface Column {
  header: string;
  value: (b: BackendResult) => string;
}

const COLUMNS: Column[] = [
  { header: 'backend', value: (b) => b.backend },
  { header: 'events/s', value: (b) => (b.error ? 'failed' : fmtInt(b.throughput.eventsPerSec)) },
  { header: 'appends/s', value: (b) => (b.error ? 'failed' : fmtInt(b.throughput.appendsPerSec)) },
  { header: 'target appends/s', value: (b) => (b.throughput.targetPerSec === null ? 'closed' : `${b.maxSearch && !b.maxSearch.limitFound ? '>= ' : ''}${fmtRateNumber(b.throughput.targetPerSec)}`) },
  { header: 'p50 ms', value: (b) => fmtMs(b.latency.p50) },
  { header: 'p90 ms', value: (b) => fmtMs(b.latency.p90) },
  { header: 'p99 ms', value: (b) => fmtMs(b.latency.p99) },
  { header: 'p99.9 ms', value: (b) => fmtMs(b.latency.p999) },
  { header: 'max ms', value: (b) => fmtMs(b.latency.max) },
  { header: 'e2e p99 ms', value: (b) => (b.endToEnd && b.endToEnd.count > 0 ? fmtMs(b.endToEnd.p99) : 'n/a') },
  { header: 'errors', value: (b) => formatErrors(b.errors) },
  { header: 'error rate', value: (b) => fmtPct(b.errors.rate) },
  { header: 'dropped', value: (b) => fmtInt(b.dropped.count) },
  { header: 'bytes/event', value: (b) => fmtBytes(b.storage?.bytesPerEvent) },
  // The load side, not the backend, was the limit (rule and reason: b.clientBound, resources.ts).
  { header: 'client-bound', value: (b) => (b.clientBound ? (b.clientBound.bound ? 'YES' : 'no') : '-') },
];

function table(rows: string[][], markdown: boolean): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string =>
    markdown ? `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |` : r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(rows[0]!)];
  out.push(markdown ? `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|` : widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) out.push(line(r));
  return out.join('\n');
}

function capabilityText(name: string, value: boolean | number | null | undefined): string {
  if (value === undefined) return 'n/a';
  // The contract: a null idempotency window means ids are remembered forever.
  if (value === null) return name === 'idempotencyWindowMs' ? 'forever' : 'none';
  return String(value);
}

/** Capabilities whose values differ between the backends of a result (all of them for a single backend). */
export function capabilityDifferences(all: BackendResult[]): { name: string; values: Record<string, string> }[] {
  // A raw-driver baseline offers less by design (no subscriptions): it is not a choice to compare.
  const backends = all.filter((b) => b.baselineOf === null);
  const names = new Set(backends.flatMap((b) => Object.keys(b.capabilities ?? {})));
  const out: { name: string; values: Record<string, string> }[] = [];
  for (const name of names) {
    const values = Object.fromEntries(backends.map((b) => [b.backend, capabilityText(name, b.capabilities?.[name])]));
    if (backends.length === 1 || new Set(Object.values(values)).size > 1) out.push({ name, values });
  }
  return out;
}

export function formatComparisonTable(result: LoadResult, markdown = false): string {
  const runs = result.bench?.runs ?? 1;
  const efficiency = result.bench?.efficiency ?? [];
  const label = (b: BackendResult): string => `${b.backend}${runs > 1 ? ` #${b.run}` : ''}${b.latencyAt ? ` @${Math.round(b.latencyAt.fraction * 100)}% of max` : ''}`;
  const columns: Column[] = [{ header: 'backend', value: label }, ...COLUMNS.slice(1)];
  if (efficiency.length > 0) {
    // Of what the ratio is depends on the executor: the header says it (load-result.ts, efficiencySchema).
    const of = efficiency[0]!.of;
    columns.push({
      header: of === 'throughput' ? 'efficiency (events/s vs raw)' : 'efficiency (raw p99 / p99)',
      value: (b) => {
        if (b.baselineOf !== null) return 'baseline';
        if (b.latencyAt) return '-';
        const e = efficiency.find((x) => x.backend === b.backend);
        const v = e?.value.values[b.run - 1];
        return v === undefined ? 'n/a' : v.toFixed(2);
      },
    });
  }
  if (result.backends.some((b) => b.pipeline)) {
    // The case pipeline (--processors): cases completed per second of the window, intake -> completed p99.
    columns.push({ header: 'cases/s', value: (b) => (b.pipeline ? fmtInt(b.pipeline.casesPerSec) : 'n/a') });
    columns.push({ header: 'case p99 ms', value: (b) => (b.pipeline && b.pipeline.latency.count > 0 ? fmtMs(b.pipeline.latency.p99) : 'n/a') });
  }
  if (result.backends.some((b) => b.retries)) {
    // The closed loop's retry policy (--retries): what retrying conflicts cost per successful append.
    columns.push({ header: 'retries/append', value: (b) => (b.retries ? b.retries.retriesPerSuccess.toFixed(2) : 'n/a') });
    columns.push({ header: 'retried', value: (b) => (b.retries ? `${(100 * b.retries.retriedShare).toFixed(1)}%` : 'n/a') });
    columns.push({ header: 'retried p99 ms', value: (b) => (b.retries && b.retries.retriedLatency.count > 0 ? fmtMs(b.retries.retriedLatency.p99) : 'n/a') });
    columns.push({ header: 'given up', value: (b) => (b.retries ? fmtInt(b.retries.abandoned) : 'n/a') });
  }
  const rows = [columns.map((c) => c.header), ...result.backends.map((b) => columns.map((c) => c.value(b)))];
  return table(rows, markdown);
}

/** One line on the case pipeline of a round (--processors). */
export function formatPipeline(p: NonNullable<BackendResult['pipeline']>): string {
  const steps = (['analysis', 'decision', 'escalation', 'completion'] as const)
    .map((k) => `${k} ${fmtInt(p.steps[k].applied)}${p.steps[k].duplicate ? ` (+${fmtInt(p.steps[k].duplicate)} dup)` : ''}${p.steps[k].superseded ? ` (${fmtInt(p.steps[k].superseded)} superseded)` : ''}`)
    .join(', ');
  return (
    `case pipeline (${p.instances} x ${p.concurrency} per processor): ${fmtInt(p.casesCompleted)} of ${fmtInt(p.casesStarted)} cases completed` +
    `${p.caughtUp ? '' : ' (NOT caught up)'}, ${fmtInt(p.casesPerSec)} cases/s in the window, intake -> completed p50 ${fmtMs(p.latency.p50)} ms p99 ${fmtMs(p.latency.p99)} ms; ${steps}`
  );
}

/** Digits a metric is shown with: whole events/s and bytes, 4 for fractions, 2 for the rest. */
const metricDigits = (unit: string): number => (unit === 'fraction' ? 4 : unit === 'events/s' || unit === 'bytes' ? 0 : 2);

/**
 * The side-by-side table of a bench, one column per backend (baselines are in the efficiency row): the
 * measured rows as median [min-max] over the runs with the verdict (noise where the ranges overlap), then
 * the semantic rows, filled from each backend's capabilities and the settings its server reported.
 */
export function formatSideBySide(result: LoadResult, markdown = false): string | null {
  const b = result.bench;
  if (!b) return null;
  const adapters = [...new Set(result.backends.filter((r) => r.baselineOf === null).map((r) => r.backend))];
  if (adapters.length === 0) return null;
  const judged = b.runs > 1;
  const header = ['', ...adapters, ...(judged ? ['verdict'] : [])];
  const rows: string[][] = [header];
  const at = describeScenarioLoad(result);
  for (const m of b.metrics) {
    const label = ['p50', 'p99', 'p99.9'].includes(m.metric) ? `${m.metric} (${m.unit}) at ${at}` : `${m.metric} (${m.unit})`;
    rows.push([
      label,
      ...adapters.map((a) => (m.stores[a] ? fmtSpread(m.stores[a], metricDigits(m.unit)) : 'n/a')),
      ...(judged ? [m.verdict === null ? '-' : m.verdict === 'noise' ? 'noise' : `${m.verdict} better`] : []),
    ]);
  }
  for (const at of b.latencyAt) {
    for (const [key, name] of [['p50', 'p50'], ['p99', 'p99'], ['p999', 'p99.9']] as const) {
      rows.push([
        `${name} (ms) at ${Math.round(at.fraction * 100)}% of max`,
        ...adapters.map((a) => {
          const s = at.stores[a];
          return s ? `${fmtSpread(s[key])} at ${fmtInt(s.rate.median)}/s` : 'n/a';
        }),
        ...(judged ? [''] : []),
      ]);
    }
  }
  const errorsOf = (a: string): string => {
    const rs = result.backends.filter((r) => r.backend === a);
    const sum = Object.fromEntries(ERROR_KINDS.map((k) => [k, rs.reduce((n, r) => n + r.errors[k], 0)]));
    const kinds = ERROR_KINDS.filter((k) => sum[k]! > 0).map((k) => `${k} ${fmtInt(sum[k]!)}`);
    return kinds.length ? kinds.join(', ') : 'none';
  };
  const semantic = (label: string, value: (a: string) => string): void => {
    rows.push([label, ...adapters.map(value), ...(judged ? [''] : [])]);
  };
  semantic(`errors by kind (${b.runs > 1 ? `${b.runs} runs` : 'the run'})`, errorsOf);
  semantic('efficiency vs raw driver', (a) => {
    const e = b.efficiency.find((x) => x.backend === a);
    return e ? `${fmtSpread(e.value)} (${e.of})` : 'n/a';
  });
  const caps = (a: string) => result.backends.find((r) => r.backend === a && r.capabilities)?.capabilities ?? null;
  semantic('transactions', (a) => {
    const c = caps(a);
    return c === null ? 'n/a' : c.atomicMultiAppend ? 'a multi-event append is atomic' : 'events of one append stored one by one';
  });
  semantic('ordering', (a) => {
    const c = caps(a);
    return c === null ? 'n/a' : c.globalOrder ? 'one total order over all streams' : 'per stream only';
  });
  semantic('idempotency window', (a) => {
    const c = caps(a);
    if (c === null) return 'n/a';
    const w = c.idempotencyWindowMs;
    return w === null ? 'forever' : typeof w === 'number' ? `${w / 1000} s` : String(w);
  });
  semantic('queries', (a) => queriesOf(a, caps(a)));
  // The clause after "means" (the whole line, with the settings behind it, is printed above the table).
  semantic('an ack means', (a) => {
    const ack = b.durability.sides.find((x) => x.backend === a)?.ack;
    return ack === undefined ? 'n/a' : (/\bmeans (.*)$/.exec(ack)?.[1] ?? ack);
  });
  return [`side by side${judged ? `, median [min-max] of ${b.runs} runs; verdict "noise" where the ranges overlap` : ''}:`, table(rows, markdown)].join('\n');
}

/** The load latency is quoted at, from the scenario ("500/s", "10 closed-loop writers", "max ..."). */
function describeScenarioLoad(result: LoadResult): string {
  const s = result.scenario;
  if (s.executor === 'constant') return formatRate(s.rate ?? 0);
  if (s.executor === 'closed') return `${s.writers} closed-loop writers`;
  if (s.executor === 'max') return `the max search's steps (${s.slo})`;
  return 'the ramp';
}

const fmtSpread = (s: Spread, digits = 2): string => (s.values.length > 1 ? `${s.median.toFixed(digits)} [${s.min.toFixed(digits)}-${s.max.toFixed(digits)}]` : s.median.toFixed(digits));

/**
 * A bench's own lines: efficiency against the raw driver (what it is a ratio of, at what load), what an
 * ack means on each side (the durability profile, from settings read back), and with `--runs` > 1 every
 * metric's median [min-max] per store with the verdict between backends (noise when the ranges overlap).
 */
export function formatBenchLines(result: LoadResult, markdown = false): string[] {
  const b = result.bench;
  if (!b) return [];
  const lines: string[] = [];
  if (b.efficiency.length > 0) {
    lines.push(`efficiency vs the raw driver, same invocation (1 = as good as the driver alone${b.runs > 1 ? `; median [min-max] of ${b.runs} runs` : ''}):`);
    for (const e of b.efficiency) {
      const parts = [
        e.of === 'latency' && e.p50 ? `p50 ${fmtSpread(e.p50)}` : null,
        e.of === 'latency' && e.throughput ? `throughput ${fmtSpread(e.throughput)}` : null,
        e.cpuPerEvent ? `CPU/event ${fmtSpread(e.cpuPerEvent)}` : null,
        e.replay ? `replay ${fmtSpread(e.replay)}` : null,
      ].filter((x): x is string => x !== null);
      lines.push(`  ${e.backend}: ${fmtSpread(e.value)} = ${e.definition}${parts.length ? `; ${parts.join(', ')}` : ''}`);
    }
  } else if (!b.baseline) {
    lines.push('efficiency: not measured (--no-baseline)');
  }
  if (result.backends.some((r) => r.baselineOf !== null && r.endToEnd && r.endToEnd.count > 0)) {
    lines.push("baseline rounds: a raw driver has no subscriptions, so the adapter's consumer reads what it wrote; raw-postgres sends no commit notification, so its end-to-end latency includes the subscription's poll");
  }
  lines.push(`durability profile ${b.durability.profile}: ${b.durability.changes.join('; ')}`);
  for (const side of b.durability.sides) lines.push(`  ack on ${side.backend}: ${side.ack}`);
  const side = formatSideBySide(result, markdown);
  if (side) lines.push('', side);
  return lines;
}

function scenarioLine(result: LoadResult): string {
  const s = result.scenario;
  const load =
    s.executor === 'constant'
      ? `constant ${formatRate(s.rate ?? 0)}`
      : s.executor === 'ramp'
        ? `ramp ${s.rate ? `from ${formatRate(s.rate)} ` : ''}${(s.stages ?? []).map((st) => `${formatRate(st.rate)}:${st.durationMs / 1000}s`).join(',')}`
        : s.executor === 'closed'
          ? `closed loop, ${s.writers} writers`
          : `max search from ${formatRate(s.rate ?? 0)} under ${s.slo}`;
  return `${s.workload} workload, ${load}, ${s.durationMs / 1000}s measured after ${s.warmupMs / 1000}s warm-up, seed ${s.seed}, ${s.workers} worker(s), max ${s.maxInFlight} in flight`;
}

/** What an acknowledgement means on each server measured: the numbers are not comparable without it. */
function serverLines(result: LoadResult): string[] {
  const env = result.environment;
  const lines: string[] = [];
  if (env.postgres) {
    lines.push(`PostgreSQL ${env.postgres.version} (fsync=${env.postgres.settings.fsync ?? '?'}, synchronous_commit=${env.postgres.settings.synchronous_commit ?? '?'})`);
  }
  if (env.nats) {
    const d = env.nats.jetstream.durability;
    lines.push(d.startsWith('nats-server') ? d : `nats-server ${env.nats.version}: ${d}`);
  }
  return lines;
}

/** The terminal summary (also the top of summary.md). */
export function formatTerminalSummary(result: LoadResult): string {
  const bench = formatBenchLines(result);
  const lines = [scenarioLine(result), ...serverLines(result).map((l) => `  ${l}`), '', formatComparisonTable(result), '', ...(bench.length ? [...bench, ''] : [])];
  for (const b of result.backends) {
    if (b.error) lines.push(`${b.backend}: FAILED: ${b.error}`);
    const extra: string[] = [];
    if (b.interrupted) extra.push('interrupted (partial results)');
    if (b.late.count > 0) extra.push(`${fmtInt(b.late.count)} sends left > ${b.late.thresholdMs} ms late (send delay p99 ${fmtMs(b.sendDelay.p99)} ms)`);
    if (b.totals.unfinished > 0) extra.push(`${fmtInt(b.totals.unfinished)} appends still in flight at the end`);
    if (b.consumer && !b.consumer.caughtUp) extra.push(`consumer did not catch up (lag ${b.consumer.lagEnd})`);
    if (b.maxSearch) extra.push(formatMaxSearch(b.maxSearch));
    if (b.clientBound?.bound) extra.push(`CLIENT-BOUND, the numbers are the load side's limit, not the backend's: ${b.clientBound.reason}`);
    if (b.replay) extra.push(`${b.replay.kind}: ${fmtInt(b.replay.events)} events read back from position 0 in ${b.replay.seconds} s (${fmtInt(b.replay.eventsPerSec)} events/s, page p99 ${fmtMs(b.replay.pageLatency.p99)} ms${b.replay.cases !== null ? `, ${fmtInt(b.replay.cases)} cases in the read model` : ''}${b.replay.complete ? '' : `; INCOMPLETE: ${fmtInt(b.replay.expected)} stored`})`);
    if (b.pipeline) extra.push(formatPipeline(b.pipeline));
    if (b.pregenerated) extra.push(`${fmtInt(b.pregenerated.appends)} appends pregenerated in ${fmtInt(b.pregenerated.ms)} ms${b.pregenerated.generatedLive > 0 ? ` (${fmtInt(b.pregenerated.generatedLive)} more generated live)` : ''}`);
    if (extra.length) lines.push(`${b.backend}: ${extra.join('; ')}`);
  }
  const diffs = capabilityDifferences(result.backends);
  if (diffs.length && result.backends.length > 1) {
    lines.push('', 'capabilities that differ:');
    for (const d of diffs) lines.push(`  ${d.name}: ${Object.entries(d.values).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  }
  const outcomes = result.backends.flatMap((b) => b.thresholds.map((t) => ({ b: b.backend, t })));
  if (outcomes.length) {
    lines.push('', 'thresholds:');
    for (const { b, t } of outcomes) lines.push(`  ${t.passed ? 'PASS' : 'FAIL'} ${result.backends.length > 1 ? `${b} ` : ''}${t.description}`);
  }
  return lines.join('\n');
}

/** The backend's own breakdown (relation sizes, WAL written, stream bytes), per event where it helps. */
function storageDetail(storage: NonNullable<BackendResult['storage']>): string {
  const parts = Object.entries(storage.detail).map(([k, v]) =>
    storage.events > 0 ? `${k} ${fmtInt(v)} (${fmtBytes(v / storage.events)}/event)` : `${k} ${fmtInt(v)}`,
  );
  return parts.length ? `; ${parts.join(', ')}` : '';
}

export function renderSummaryMarkdown(result: LoadResult): string {
  const env = result.environment;
  const out: string[] = [];
  // Each backend once: a bench's runs and raw-driver baselines are rows of the tables below.
  const named = [...new Set(result.backends.filter((b) => b.baselineOf === null).map((b) => b.backend))];
  out.push(`# eventbench ${result.scenario.command}: ${named.join(' vs ')}`, '');
  out.push(`${scenarioLine(result)}.`, '');
  out.push(
    `Measured ${result.createdAt} on ${env.machine.cores} cores (${env.machine.cpuModel}), ${(env.machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, ` +
      `Node ${env.node.version}, git ${env.git.revision?.slice(0, 12) ?? 'unknown'}${env.git.dirty ? ' (dirty)' : ''}` +
      serverLines(result).map((l) => `; ${l}`).join('') +
      '.',
    '',
  );
  if (result.scenario.command === 'bench') out.push(`**${verdictLine(result)}**`, '');
  // The report's own tables (tables.ts), so summary.md and report.html show the same numbers.
  out.push(renderTablesMarkdown(result), '');
  for (const b of result.backends) {
    out.push(`## ${b.backend}`, '');
    if (b.error) out.push(`**Failed:** ${b.error}`, '');
    out.push(
      `- throughput: ${fmtInt(b.throughput.eventsPerSec)} events/s (${fmtInt(b.throughput.appendsPerSec)} appends/s, target ${b.throughput.targetPerSec === null ? 'closed loop' : `${fmtInt(b.throughput.targetPerSec)} appends/s`}) over ${b.measuredSeconds}s${b.interrupted ? ' (interrupted)' : ''}`,
      `- append latency from intended send: p50 ${fmtMs(b.latency.p50)}, p99 ${fmtMs(b.latency.p99)}, p99.9 ${fmtMs(b.latency.p999)}, max ${fmtMs(b.latency.max)} ms; the client's own view (send -> ack): p99 ${fmtMs(b.serviceTime.p99)} ms`,
      `- end-to-end (intended send -> consumer): ${b.endToEnd && b.endToEnd.count > 0 ? `p50 ${fmtMs(b.endToEnd.p50)}, p99 ${fmtMs(b.endToEnd.p99)}, max ${fmtMs(b.endToEnd.max)} ms` : 'not measured'}`,
      `- errors: ${formatErrors(b.errors)} (${fmtPct(b.errors.rate)} of appends sent); dropped ${b.dropped.count}; late sends ${b.late.count}; unfinished ${b.totals.unfinished}`,
      `- consumer: ${b.consumer ? `${fmtInt(b.consumer.processed)} processed, ${b.consumer.failed} failed, lag max ${b.consumer.lagMax}, end ${b.consumer.lagEnd}` : 'off'}`,
      `- storage: ${b.storage ? `${fmtInt(b.storage.events)} events, ${fmtInt(b.storage.bytes)} bytes, ${fmtBytes(b.storage.bytesPerEvent)} bytes/event${storageDetail(b.storage)}` : 'n/a'}`,
      `- CPU / memory: load generator ${b.resources.loadGenerator.cpuPercent}% CPU, ${fmtInt(b.resources.loadGenerator.rssMaxBytes / 2 ** 20)} MiB${b.resources.servers.map((s) => `; ${s.name} ${s.cpuPercent}% CPU, ${fmtInt(s.rssMaxBytes / 2 ** 20)} MiB`).join('')}`,
      // The servers' own counters between the start and the end of the load (result.json: serverSnapshots).
      ...(b.serverSnapshots ?? []).map((e) => `- server counters, end - start: ${formatSnapshotDelta(e)}`),
      '',
    );
    if (b.thresholds.length) {
      out.push('| threshold | result |', '|---|---|', ...b.thresholds.map((t) => `| \`${t.threshold}\` | ${t.passed ? 'pass' : '**FAIL**'}: ${t.description} |`), '');
    }
    if (b.maxSearch) out.push(`Max search: **${formatMaxSearch(b.maxSearch)}** (its steps: the max search table above)`, '');
    if (b.timeline.length) {
      out.push('<details><summary>per-second timeline</summary>', '', '| s | target/s | events | errors | dropped | p50 | p99 | max | lag |', '|---|---|---|---|---|---|---|---|---|');
      for (const t of b.timeline) out.push(`| ${t.second} | ${t.targetRate ?? '-'} | ${t.events} | ${t.errors} | ${t.dropped} | ${fmtMs(t.p50)} | ${fmtMs(t.p99)} | ${fmtMs(t.max)} | ${t.lag ?? '-'} |`);
      out.push('', '</details>', '');
    }
  }
  if (result.notes.length) out.push('## Notes', '', ...result.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}
