/**
 * report.html: one self-contained page per result that opens without a network (uPlot, the page's script
 * and styles inlined; no CDN, no web fonts), with summary cards, charts, the percentile distribution,
 * cost bars, capability rows, the environment, and the raw result JSON embedded (compressed) and downloadable.
 * Size stays small for any run length: charts carry per-second points and percentile curves computed
 * here from the encoded histograms at a bounded number of points, never raw samples. docs/reports.md
 * describes the page.
 */
import type { RenderableResult } from '../result-file.ts';
import { capabilityTable, efficiencyTable, environmentTable, runsTable, sideBySideTable, storesOf, sweepOf, sweepTables } from '../tables.ts';
import { htmlPage } from './page.ts';
import { backendColors, buildCharts, buildSweepCharts, type Charts } from './charts.ts';
import { costBars, esc, extraBlocks, maxSearchTables, summaryCards, tableHtml } from './sections.ts';

export interface RenderOptions {
  /** The result as it was written (embedded as is, so the download is the original file); default: re-serialized. */
  rawJson?: string;
  /** Shown in the page, e.g. "read from schema version 1". */
  sourceNote?: string;
}

/** The side-by-side numbers; for a bench of schema version 3 the runs' medians and spreads and efficiency vs the raw driver first. */
function sideBySide(result: RenderableResult): string {
  const runs = runsTable(result);
  const efficiency = efficiencyTable(result);
  const rounds = tableHtml(sideBySideTable(result), 'numbers');
  return [
    runs ? `<h3>${esc(runs.title)}</h3>${tableHtml(runs, 'numbers')}` : '',
    efficiency ? `<h3>${esc(efficiency.title)}</h3>${tableHtml(efficiency)}` : '',
    // With several runs every round is a row: folded under the medians.
    runs ? `<details class="rounds"><summary>Every round (${result.backends.length})</summary>${rounds}</details>` : rounds,
  ].join('\n');
}

/** `bench --sweep`: a chart and a table per metric, x the swept parameter (docs/reports.md). */
function sweepSection(result: RenderableResult, sweepCharts: Charts): string {
  const sweep = sweepOf(result);
  if (!sweep) return '';
  const figures = sweepCharts.charts.map((c) => `<figure class="chart" id="${esc(c.id)}" data-chart="${esc(c.id)}"></figure>`).join('\n');
  const tables = sweepTables(result).map((t) => `<h3>${esc(t.title)}</h3>${tableHtml(t, 'numbers')}`).join('\n');
  return `<section id="sweep">
<h2>Sweep over ${esc(sweep.parameter)}: ${esc(sweep.values.join(', '))}</h2>
<p class="note">One bench per value, each with its own run id and namespace (and its own managed servers unless servers were given); medians over the runs. The sections below show the last point (${esc(sweep.parameter)}=${esc(String(sweep.points.at(-1)?.value ?? ''))}).</p>
<div class="chart-grid">
${figures}
</div>
${sweepCharts.omitted.length ? `<ul class="omitted">${sweepCharts.omitted.map((o) => `<li>${esc(o)}</li>`).join('')}</ul>` : ''}
${tables}
</section>`;
}

export function renderHtmlReport(result: RenderableResult, options: RenderOptions = {}): string {
  const over = buildCharts(result);
  const sweepCharts = buildSweepCharts(result);
  const charts = [...over.charts, ...sweepCharts.charts];
  const omitted = over.omitted;
  const colors = backendColors(storesOf(result).map((st) => st.name));
  const title = `eventbench ${result.scenario.command}: ${storesOf(result).map((st) => st.name).join(' vs ')}`;
  const s = result.scenario;
  const subtitle = `${s.workload} workload, ${s.executor} executor, ${s.durationMs / 1000}s measured after ${s.warmupMs / 1000}s warm-up, seed ${s.seed}; ${result.createdAt}`;
  const chartDivs = charts
    .filter((c) => !c.percentileAxis && !c.sweep)
    .map((c) => `<figure class="chart" id="${esc(c.id)}" data-chart="${esc(c.id)}"></figure>`)
    .join('\n');
  const percentile = charts.find((c) => c.percentileAxis);
  const raw = options.rawJson ?? `${JSON.stringify(result, null, 2)}\n`;
  const fileName = `eventbench-${s.command}-${result.createdAt.replace(/[:.]/g, '-')}.json`;

  return htmlPage({
    title,
    subtitle,
    ...(options.sourceNote ? { sourceNote: options.sourceNote } : {}),
    charts,
    raw,
    fileName,
    rawNote: `schema version ${result.schemaVersion}`,
    body: `<section id="summary">
${summaryCards(result)}
</section>
${sweepSection(result, sweepCharts)}
<section id="table">
<h2>Side by side</h2>
${sideBySide(result)}
</section>
<section id="charts">
<h2>Over time</h2>
<div class="chart-grid">
${chartDivs}
</div>
${omitted.length ? `<ul class="omitted">${omitted.map((o) => `<li>${esc(o)}</li>`).join('')}</ul>` : ''}
</section>
${
  percentile
    ? `<section id="percentiles">
<h2>Latency by percentile</h2>
<figure class="chart wide" id="${esc(percentile.id)}" data-chart="${esc(percentile.id)}"></figure>
<p class="note">Append latency (solid) and end-to-end latency (dashed) from the recorded HdrHistograms, measured from each append's intended send time; x is 1/(1-p) on a log axis, up to 99.999 %. A curve ends where the run has too few samples to tell a higher percentile from its maximum.</p>
</section>`
    : ''
}
<section id="costs">
<h2>Cost per event</h2>
<div class="bar-grid">${costBars(result, colors)}</div>
</section>
<section id="capabilities">
<h2>Capabilities and what an ack means</h2>
${tableHtml(capabilityTable(result), 'caps')}
</section>
${maxSearchTables(result) ? `<section id="max-search"><h2>Max search</h2>${maxSearchTables(result)}</section>` : ''}
${extraBlocks(result) ? `<section id="more"><h2>More from this result</h2>${extraBlocks(result)}</section>` : ''}
<section id="environment">
<h2>Environment</h2>
${tableHtml(environmentTable(result), 'kv')}
${result.notes.length ? `<ul class="notes">${result.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
</section>
`,
  });
}
