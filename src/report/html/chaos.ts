/**
 * The report page of one chaos run (a backend's `verdict.json`): the verdict and what broke, acknowledged
 * events lost (prefix / middle / postfix), duplicates, unknown and recovered outcomes with the event ids
 * behind each count, time to recover per fault, availability per second with the fault windows, the
 * scenario, what the faults cannot show, and the environment. The run's file is validated by the caller
 * (the chaos runner's schema); this module only reads the fields named in ChaosRunView.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Environment } from '../../core/environment.ts';
import { fmtCount } from '../format.ts';
import { environmentRows } from '../tables.ts';
import type { ChartSpec } from './charts.ts';
import { htmlPage } from './page.ts';
import { esc, tableHtml } from './sections.ts';

interface EvidenceView {
  count: number;
  ids?: string[];
  gaps?: unknown[];
  violations?: unknown[];
  events?: unknown[];
}

/** The fields of a chaos run's verdict.json this page reads. */
export interface ChaosRunView {
  backend: string;
  scenario: { name: string; description?: string; timeline?: { at: number; duration?: number; fault: { kind: string; target?: string } }[] };
  runId: string;
  interrupted: boolean;
  loadMs: number;
  drained: boolean | null;
  writers: { ok: number; fail: number; info: number; unsettled: number };
  verdict: {
    attempted: number;
    acked: number;
    read: number;
    faults: { fault: string; startNs: number; stopNs: number | null; timeToRecoverNs: number | null }[];
    maxTimeToRecoverNs: number | null;
    neverRecovered: number;
    availabilityBucketNs: number;
    availability: { startNs: number; attempted: number; ok: number }[];
    deliveries: number;
    effects: number;
  } & Record<string, unknown>;
  broken: { expectation: string; limit: number; actual: number; message: string }[];
  limitations?: string;
  faultError?: string;
  environment?: Environment | null;
}

/** The counts of a verdict, in the order a reader asks about them. */
const COUNTS: [string, string][] = [
  ['lost', 'acknowledged, never read back'],
  ['lostPrefix', 'lost before the writer\'s first event read'],
  ['lostMiddle', 'lost between two events of the writer that were read'],
  ['lostPostfix', 'lost after the writer\'s last event read'],
  ['unknown', 'outcome unknown and not read'],
  ['recovered', 'failed or unknown, and read anyway'],
  ['failedButStored', 'told "failed", and stored'],
  ['unexpected', 'read, never attempted'],
  ['duplicates', 'one event id stored more than once'],
  ['duplicateEffects', 'an effect applied twice by the consumers'],
  ['unprocessed', 'stored and never handled by the consumers'],
  ['versionGaps', 'versions missing in a stream'],
  ['orderViolations', 'read out of version order'],
  ['wrongVersions', 'read at another version than acknowledged'],
];

const ms = (ns: number | null): string => (ns === null ? 'n/a' : `${fmtCount(ns / 1e6)} ms`);

function evidenceText(e: EvidenceView): string {
  const items = e.ids ?? e.gaps ?? e.violations ?? e.events ?? [];
  if (e.count === 0 || items.length === 0) return '';
  const shown = items.slice(0, 10).map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
  return `${shown.join(', ')}${e.count > shown.length ? `, ... (${fmtCount(e.count - shown.length)} more)` : ''}`;
}

function availabilityChart(run: ChaosRunView): ChartSpec | null {
  const v = run.verdict;
  if (v.availability.length === 0) return null;
  const bucketS = v.availabilityBucketNs / 1e9;
  const x = v.availability.map((a) => Number((a.startNs / 1e9).toPrecision(6)));
  const top = Math.max(1, ...v.availability.map((a) => a.attempted));
  // A flat line at the top of the chart while a fault is active (its window overlaps the bucket).
  const during = v.availability.map((a) =>
    v.faults.some((f) => f.startNs < a.startNs + v.availabilityBucketNs && (f.stopNs ?? Number.POSITIVE_INFINITY) > a.startNs) ? top : null,
  );
  return {
    id: 'chart-availability',
    title: 'Appends per second: attempted and acknowledged, with the fault windows',
    xLabel: `second since the run started (${bucketS} s a point)`,
    yLabel: 'appends',
    x,
    series: [
      { label: 'attempted', color: '#888888', values: v.availability.map((a) => a.attempted) },
      { label: 'acknowledged', color: '#1f77b4', values: v.availability.map((a) => a.ok) },
      { label: 'fault active', color: '#d62728', dash: true, values: during },
    ],
  };
}

export function renderChaosReport(run: ChaosRunView, rawJson: string): string {
  const v = run.verdict;
  const count = (name: string): EvidenceView => (v[name] as EvidenceView | undefined) ?? { count: 0 };
  const passed = run.broken.length === 0 && !run.faultError;
  const lost = count('lost');
  const cards = [
    `<div class="card ${passed ? 'ok' : 'bad'}"><div class="card-title">verdict</div><div class="card-value">${passed ? 'PASS' : 'FAIL'}</div>${run.broken.map((b) => `<div class="card-detail">✗ ${esc(b.message)}</div>`).join('')}${run.faultError ? `<div class="card-detail">fault error: ${esc(run.faultError)}</div>` : ''}${passed ? '<div class="card-detail">every expectation of the scenario held</div>' : ''}</div>`,
    `<div class="card ${lost.count > 0 ? 'bad' : 'ok'}"><div class="card-title">acknowledged events lost</div><div class="card-value">${fmtCount(lost.count)}</div><div class="card-detail">of ${fmtCount(v.acked)} acknowledged (${fmtCount(v.attempted)} attempted, ${fmtCount(v.read)} read back)</div><div class="card-detail">prefix ${fmtCount(count('lostPrefix').count)}, middle ${fmtCount(count('lostMiddle').count)}, postfix ${fmtCount(count('lostPostfix').count)}</div></div>`,
    `<div class="card ${count('duplicates').count > 0 ? 'warn' : 'plain'}"><div class="card-title">duplicates, unknown, recovered</div><div class="card-value">${fmtCount(count('duplicates').count)} / ${fmtCount(count('unknown').count)} / ${fmtCount(count('recovered').count)}</div><div class="card-detail">writers: ${fmtCount(run.writers.ok)} ok, ${fmtCount(run.writers.fail)} fail, ${fmtCount(run.writers.info)} info (unknown), ${fmtCount(run.writers.unsettled)} unsettled</div></div>`,
    `<div class="card ${v.neverRecovered > 0 ? 'bad' : 'plain'}"><div class="card-title">time to recover</div><div class="card-value">${ms(v.maxTimeToRecoverNs)}</div><div class="card-detail">the longest over ${v.faults.length} fault(s); never recovered: ${v.neverRecovered}</div><div class="card-detail">consumer drained: ${run.drained === null ? 'n/a' : run.drained ? 'yes' : 'no'}</div></div>`,
  ];
  const chart = availabilityChart(run);
  const body = `<section id="summary"><div class="cards">${cards.join('\n')}</div></section>
${chart ? `<section id="charts"><h2>Availability</h2><figure class="chart wide" id="${chart.id}" data-chart="${chart.id}"></figure></section>` : ''}
<section id="counts">
<h2>What the checker found</h2>
${tableHtml({ title: 'counts', header: ['count', 'what it is', 'n', 'the first events behind it'], rows: COUNTS.map(([name, what]) => [name, what, fmtCount(count(name).count), evidenceText(count(name))]) }, 'kv')}
</section>
<section id="faults">
<h2>Faults</h2>
${tableHtml({ title: 'faults', header: ['fault', 'from', 'to', 'time to recover'], rows: v.faults.map((f) => [f.fault, `${(f.startNs / 1e9).toFixed(2)} s`, f.stopNs === null ? 'did not end' : `${(f.stopNs / 1e9).toFixed(2)} s`, f.timeToRecoverNs === null ? 'never' : ms(f.timeToRecoverNs)]) }, 'kv')}
<p class="note">Planned: ${esc((run.scenario.timeline ?? []).map((t) => `${t.fault.kind}${t.fault.target ? ` of ${t.fault.target}` : ''} at ${t.at / 1000} s${t.duration ? ` for ${t.duration / 1000} s` : ''}`).join('; ') || 'no faults')}. Load ${run.loadMs / 1000} s${run.interrupted ? ', interrupted' : ''}.</p>
</section>
${run.limitations ? `<section id="limitations"><h2>What these faults cannot show</h2><p>${esc(run.limitations)}</p></section>` : ''}
<section id="environment">
<h2>Environment</h2>
${tableHtml({ title: 'environment', header: ['what', 'value'], rows: [['scenario', `${run.scenario.name}${run.scenario.description ? `: ${run.scenario.description}` : ''}`], ['run id', run.runId], ...(run.environment ? environmentRows(run.environment) : [])] }, 'kv')}
</section>`;
  return htmlPage({
    title: `eventbench chaos: ${run.scenario.name} on ${run.backend}`,
    subtitle: `${passed ? 'PASS' : 'FAIL'}: ${fmtCount(v.acked)} appends acknowledged, ${fmtCount(lost.count)} lost, ${fmtCount(count('duplicates').count)} duplicates; recovery ${ms(v.maxTimeToRecoverNs)}`,
    body,
    charts: chart ? [chart] : [],
    raw: rawJson,
    fileName: `eventbench-chaos-${run.scenario.name}-${run.backend}-${run.runId}.json`,
    rawNote: 'verdict.json',
  });
}

/**
 * Writes `report.html` next to the `verdict.json` a chaos run just wrote into `dir` (the runner's own file,
 * validated before it was written; embedded as written).
 */
export function writeChaosReport(dir: string): string {
  const text = readFileSync(join(dir, 'verdict.json'), 'utf8');
  const path = join(dir, 'report.html');
  writeFileSync(path, renderChaosReport(JSON.parse(text) as ChaosRunView, text));
  return path;
}
