/**
 * The HTML pieces of report.html other than charts: summary cards (k6's: backends, thresholds passed and
 * failed by how much, client-bound flags, errors), tables (from ../tables.ts, the same as summary.md's),
 * bars of cost per event, and blocks a later schema version adds, shown as key/value rows. All text is
 * escaped here; nothing in a result file can inject markup.
 */
import { fmtCount, formatRate } from '../format.ts';
import type { RenderableBackend, RenderableResult } from '../result-file.ts';
import { baselineOf, benchBlock, clientBound, cpuPerEvent, entryLabel, fmtMs, maxSearchTables as maxSearchTableData, medianOf, runCount, runOf, storesOf, type Table } from '../tables.ts';

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function tableHtml(t: Table, cls = ''): string {
  const head = `<tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = t.rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${esc(c)}</th>` : `<td>${esc(c)}</td>`)).join('')}</tr>`).join('\n');
  return `<div class="table-wrap"><table class="${cls}"><thead>${head}</thead><tbody>${body}</tbody></table></div>${t.note ? `<p class="note">${esc(t.note)}</p>` : ''}`;
}

function card(title: string, value: string, detail: string[], state: 'ok' | 'bad' | 'warn' | 'plain' = 'plain'): string {
  return `<div class="card ${state}"><div class="card-title">${esc(title)}</div><div class="card-value">${esc(value)}</div>${detail.map((d) => `<div class="card-detail">${esc(d)}</div>`).join('')}</div>`;
}

/** k6's end-of-test view: one card per backend, one for the thresholds, one for errors. */
export function summaryCards(result: RenderableResult): string {
  const cards: string[] = [];
  const runs = runCount(result);
  const efficiency = benchBlock(result)?.efficiency ?? [];
  // One card per adapter (its first run; raw-driver baselines appear in the tables and charts).
  for (const b of result.backends.filter((x) => runOf(x) === 1 && baselineOf(x) === null)) {
    const cb = clientBound(b);
    const eff = efficiency.find((e) => e.backend === b.backend);
    const detail = b.error
      ? [`failed: ${b.error}`]
      : [
          `append p50 ${fmtMs(b.latency.p50)} ms, p99 ${fmtMs(b.latency.p99)} ms, p99.9 ${fmtMs(b.latency.p999)} ms`,
          b.throughput.targetPerSec === null ? 'closed loop' : `target ${formatRate(b.throughput.targetPerSec)} appends`,
          ...(b.endToEnd && b.endToEnd.count > 0 ? [`end-to-end p99 ${fmtMs(b.endToEnd.p99)} ms`] : []),
          ...(b.maxSearch ? [b.maxSearch.sustainableRate === null ? `max under ${b.maxSearch.slo}: none found` : `max under ${b.maxSearch.slo}: ${b.maxSearch.limitFound ? '' : '>= '}${formatRate(b.maxSearch.sustainableRate)}`] : []),
          ...(cb?.bound ? [`client-bound${cb.reason ? `: ${cb.reason}` : ''}: the load side saturated first, the backend may do more`] : []),
          ...(eff ? [`efficiency vs ${eff.baseline}: ${Number(eff.value.median.toPrecision(3))} (${eff.of})`] : []),
          ...(runs > 1 ? [`run 1 of ${runs}: medians and spreads in the tables`] : []),
          ...(b.interrupted ? ['interrupted: partial results'] : []),
        ];
    cards.push(card(b.backend, b.error ? 'failed' : `${fmtCount(b.throughput.eventsPerSec)} events/s`, detail, b.error ? 'bad' : cb?.bound ? 'warn' : 'plain'));
  }
  const outcomes = result.backends.flatMap((b) => b.thresholds.map((t) => ({ label: entryLabel(result, b), t })));
  if (outcomes.length) {
    const failed = outcomes.filter((o) => !o.t.passed);
    const prefix = (o: (typeof outcomes)[number]): string => (result.backends.length > 1 ? `${o.label}: ` : '');
    cards.push(
      card(
        'thresholds',
        `${outcomes.length - failed.length} passed, ${failed.length} failed`,
        outcomes.map((o) => `${o.t.passed ? '✓' : '✗'} ${prefix(o)}${o.t.description}`),
        failed.length ? 'bad' : 'ok',
      ),
    );
  } else {
    cards.push(card('thresholds', 'none set', ["set --threshold 'p99<50ms' to fail a run (exit 99) as k6 does"]));
  }
  const errors = result.backends.reduce((a, b) => a + b.errors.total, 0);
  const dropped = result.backends.reduce((a, b) => a + b.dropped.count, 0);
  const failedBackends = result.backends.filter((b) => b.error).length;
  cards.push(
    card(
      'errors',
      fmtCount(errors),
      [
        ...result.backends
          .filter((b) => b.errors.total > 0 || b.dropped.count > 0)
          .map((b) => `${entryLabel(result, b)}: ${fmtCount(b.errors.total)} (${(b.errors.rate * 100).toFixed(2)}%), dropped ${fmtCount(b.dropped.count)}`),
        ...(errors === 0 && dropped === 0 ? [`no errors and no dropped sends in ${result.backends.length > 1 ? `any of the ${result.backends.length} rounds` : 'the run'}`] : []),
        ...(failedBackends ? [`${failedBackends} backend(s) failed`] : []),
      ],
      errors > 0 || failedBackends > 0 ? 'bad' : dropped > 0 ? 'warn' : 'ok',
    ),
  );
  return `<div class="cards">${cards.join('\n')}</div>`;
}

function bars(title: string, unit: string, values: { label: string; value: number | null; color: string }[]): string {
  const max = Math.max(0, ...values.map((v) => v.value ?? 0));
  const rows = values
    .map((v) => {
      const width = v.value === null || max === 0 ? 0 : Math.max(0.5, (v.value / max) * 100);
      return `<div class="bar-row"><span class="bar-label">${esc(v.label)}</span><span class="bar-track"><span class="bar" style="width:${width.toFixed(1)}%;background:${esc(v.color)}"></span></span><span class="bar-value">${v.value === null ? 'n/a' : `${esc(fmtCount(v.value))} ${esc(unit)}`}</span></div>`;
    })
    .join('');
  return `<div class="bars"><h3>${esc(title)}</h3>${rows}</div>`;
}

/** Storage bytes per event and CPU per event, one bar per backend. */
export function costBars(result: RenderableResult, colors: Record<string, string>): string {
  // Per store, the median over its runs.
  const per = (f: (b: RenderableBackend) => number | null): { label: string; value: number | null; color: string }[] =>
    storesOf(result).map((s) => ({ label: s.name, value: medianOf(s.entries, f), color: colors[s.name]! }));
  return [
    bars('Storage per event', 'bytes', per((b) => b.storage?.bytesPerEvent ?? null)),
    bars('Server CPU per event', 'µs', per((b) => cpuPerEvent(b).servers)),
    bars('Load generator CPU per event', 'µs', per((b) => cpuPerEvent(b).client)),
  ].join('\n');
}

/** Backend fields of schema version 2; anything else on a backend is a block a later version added. */
// clientBound is shown in the cards and the side-by-side table.
const KNOWN_BACKEND_KEYS = new Set(['backend', 'run', 'baselineOf', 'clientBound', 'capabilities', 'error', 'interrupted', 'measuredSeconds', 'throughput', 'latency', 'serviceTime', 'sendDelay', 'endToEnd', 'processing', 'totals', 'errors', 'dropped', 'late', 'consumer', 'storage', 'resources', 'timeline', 'maxSearch', 'thresholds', 'histograms']);

function flatten(value: unknown, prefix: string, out: [string, string][], depth = 0): void {
  if (out.length >= 60) return;
  if (value !== null && typeof value === 'object' && depth < 3) {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out, depth + 1);
    return;
  }
  const text = typeof value === 'number' ? (Number.isInteger(value) ? fmtCount(value) : String(Number(value.toPrecision(4)))) : typeof value === 'string' ? value : JSON.stringify(value);
  out.push([prefix, text]);
}

/**
 * Blocks of later schema versions that the page has no view of yet (e.g. `pipeline`) as key/value rows:
 * one table per block, one column per backend entry that has it.
 */
export function extraBlocks(result: RenderableResult): string {
  const keys = [...new Set(result.backends.flatMap((b) => Object.keys(b).filter((k) => !KNOWN_BACKEND_KEYS.has(k) && (b as Record<string, unknown>)[k] != null)))];
  return keys
    .map((key) => {
      const having = result.backends.filter((b) => (b as Record<string, unknown>)[key] != null);
      const flat = having.map((b) => {
        const rows: [string, string][] = [];
        flatten((b as Record<string, unknown>)[key], '', rows);
        return new Map(rows);
      });
      const names = [...new Set(flat.flatMap((m) => [...m.keys()]))];
      return tableHtml({ title: key, header: [key, ...having.map((b) => entryLabel(result, b))], rows: names.map((n) => [n || key, ...flat.map((m) => m.get(n) ?? 'n/a')]) }, 'kv');
    })
    .join('\n');
}

/** The max search's steps, when the executor was `max` (tables.ts builds them for summary.md too). */
export function maxSearchTables(result: RenderableResult): string {
  return maxSearchTableData(result)
    .map((t) => tableHtml(t, 'steps'))
    .join('\n');
}
