/**
 * The human side of a load / bench result: a side-by-side table for the terminal and summary.md.
 * Every number says what it is; thresholds say which broke and by how much; capabilities that differ
 * between backends are listed, because a faster backend that guarantees less is not simply faster.
 */
import { ERROR_KINDS } from '../core/metrics.ts';
import { formatRate } from './format.ts';
import type { BackendResult, LoadResult } from './load-result.ts';

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
export function capabilityDifferences(backends: BackendResult[]): { name: string; values: Record<string, string> }[] {
  const names = new Set(backends.flatMap((b) => Object.keys(b.capabilities ?? {})));
  const out: { name: string; values: Record<string, string> }[] = [];
  for (const name of names) {
    const values = Object.fromEntries(backends.map((b) => [b.backend, capabilityText(name, b.capabilities?.[name])]));
    if (backends.length === 1 || new Set(Object.values(values)).size > 1) out.push({ name, values });
  }
  return out;
}

export function formatComparisonTable(result: LoadResult, markdown = false): string {
  const rows = [COLUMNS.map((c) => c.header), ...result.backends.map((b) => COLUMNS.map((c) => c.value(b)))];
  return table(rows, markdown);
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
  const lines = [scenarioLine(result), ...serverLines(result).map((l) => `  ${l}`), '', formatComparisonTable(result), ''];
  for (const b of result.backends) {
    if (b.error) lines.push(`${b.backend}: FAILED: ${b.error}`);
    const extra: string[] = [];
    if (b.interrupted) extra.push('interrupted (partial results)');
    if (b.late.count > 0) extra.push(`${fmtInt(b.late.count)} sends left > ${b.late.thresholdMs} ms late (send delay p99 ${fmtMs(b.sendDelay.p99)} ms)`);
    if (b.totals.unfinished > 0) extra.push(`${fmtInt(b.totals.unfinished)} appends still in flight at the end`);
    if (b.consumer && !b.consumer.caughtUp) extra.push(`consumer did not catch up (lag ${b.consumer.lagEnd})`);
    if (b.maxSearch) extra.push(formatMaxSearch(b.maxSearch));
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
  out.push(`# eventbench ${result.scenario.command}: ${result.backends.map((b) => b.backend).join(' vs ')}`, '');
  out.push(`${scenarioLine(result)}.`, '');
  out.push(
    `Measured ${result.createdAt} on ${env.machine.cores} cores (${env.machine.cpuModel}), ${(env.machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, ` +
      `Node ${env.node.version}, git ${env.git.revision?.slice(0, 12) ?? 'unknown'}${env.git.dirty ? ' (dirty)' : ''}` +
      serverLines(result).map((l) => `; ${l}`).join('') +
      '.',
    '',
  );
  out.push('Latency is measured from each append\'s intended send time (open loop, no coordinated omission); ms.', '');
  out.push(formatComparisonTable(result, true), '');
  const diffs = capabilityDifferences(result.backends);
  if (diffs.length) {
    out.push('## Capabilities', '', table([['capability', ...result.backends.map((b) => b.backend)], ...diffs.map((d) => [d.name, ...result.backends.map((b) => d.values[b.backend] ?? 'n/a')])], true), '');
  }
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
      '',
    );
    if (b.thresholds.length) {
      out.push('| threshold | result |', '|---|---|', ...b.thresholds.map((t) => `| \`${t.threshold}\` | ${t.passed ? 'pass' : '**FAIL**'}: ${t.description} |`), '');
    }
    if (b.maxSearch) {
      out.push(`Max search: **${formatMaxSearch(b.maxSearch)}**`, '');
      out.push('| step | target/s | achieved/s | p50 | p99 | dropped | in flight | lag | verdict |', '|---|---|---|---|---|---|---|---|---|');
      for (const s of b.maxSearch.steps) out.push(`| ${s.step} | ${fmtInt(s.targetRate)} | ${fmtInt(s.achievedRate)} | ${fmtMs(s.p50)} | ${fmtMs(s.p99)} | ${s.dropped} | ${s.unfinished} | ${s.lag ?? 'n/a'} | ${s.reason} |`);
      out.push('');
    }
    if (b.timeline.length) {
      out.push('<details><summary>per-second timeline</summary>', '', '| s | target/s | events | errors | dropped | p50 | p99 | max | lag |', '|---|---|---|---|---|---|---|---|---|');
      for (const t of b.timeline) out.push(`| ${t.second} | ${t.targetRate ?? '-'} | ${t.events} | ${t.errors} | ${t.dropped} | ${fmtMs(t.p50)} | ${fmtMs(t.p99)} | ${fmtMs(t.max)} | ${t.lag ?? '-'} |`);
      out.push('', '</details>', '');
    }
  }
  if (result.notes.length) out.push('## Notes', '', ...result.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}
