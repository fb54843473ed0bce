/**
 * report.html's cost for a long run (targets: rendering a report of a 1,000,000-event run takes < 1 s and
 * the file stays < 2 MB; docs/reports.md).
 *
 * Builds a bench result of two backends with --events events each (default 1,000,000) at --rate appends/s
 * (default 1,000/s, so 1,000 timeline rows per backend), each with an HdrHistogram of --events latencies
 * (log-normal around 2 ms with a 1 % tail to 250 ms) for append and end-to-end latency, on the template of
 * the committed bench result test/fixtures/results/bench-ramp-v2.json. Then, --rounds times: `render` is
 * what `load` / `bench` add at the end of a run (the page from the result in memory); `report` is
 * `eventbench report result.json` without the process start (read, validate, render). Prints a Markdown
 * table; writes <timestamp>.json and .md with the environment to --out (default results/report).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Random } from '../src/core/random.ts';
import { captureEnvironment } from '../src/infra/environment.ts';
import { encodeHistogram, newHistogram, recordMs } from '../src/report/histogram.ts';
import { renderHtmlReport } from '../src/report/html/render.ts';
import { parseResult, readResultFile, type RenderableResult } from '../src/report/result-file.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    rate: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '5' },
    out: { type: 'string', default: 'results/report' },
  },
});

function positiveInt(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) {
    process.stderr.write(`--${name} ${value}: expected an integer >= 1\n`);
    process.exit(2);
  }
  return n;
}
const EVENTS = positiveInt('events', args.events);
const RATE = positiveInt('rate', args.rate);
const ROUNDS = positiveInt('rounds', args.rounds);
const TARGET_MS = 1000;
const TARGET_BYTES = 2 * 1024 * 1024;

const TEMPLATE = new URL('../test/fixtures/results/bench-ramp-v2.json', import.meta.url);

/** A latency distribution with a body around `medianMs` and a 1 % tail up to 250 ms. */
function histogramOf(rng: Random, count: number, medianMs: number): string {
  const h = newHistogram();
  for (let i = 0; i < count; i++) recordMs(h, rng.chance(0.01) ? rng.uniform(medianMs * 5, 250) : rng.logNormal(Math.log(medianMs), 0.5));
  return encodeHistogram(h);
}

function syntheticResult(): RenderableResult {
  const template = parseResult(JSON.parse(readFileSync(TEMPLATE, 'utf8')), TEMPLATE.pathname);
  const rng = new Random(1);
  const seconds = Math.ceil(EVENTS / RATE);
  const backends = template.backends.map((b, i) => {
    const latency = histogramOf(rng.fork(`${b.backend}-append`), EVENTS, 1.5 + i);
    const endToEnd = histogramOf(rng.fork(`${b.backend}-e2e`), EVENTS, 5 + i);
    return {
      ...b,
      measuredSeconds: seconds,
      throughput: { eventsPerSec: RATE, appendsPerSec: RATE, targetPerSec: RATE },
      totals: { ...b.totals, sent: EVENTS, appends: EVENTS, events: EVENTS, wholeRun: { ...b.totals.wholeRun, sent: EVENTS, appends: EVENTS, events: EVENTS } },
      timeline: Array.from({ length: seconds }, (_, s) => ({
        second: s,
        targetRate: RATE,
        appends: RATE - (s % 7),
        events: RATE - (s % 7),
        errors: s % 97 === 0 ? 1 : 0,
        dropped: 0,
        p50: 1.5 + i + (s % 10) / 10,
        p99: 9 + i * 3 + (s % 13),
        max: 30 + (s % 50),
        lag: s % 20,
      })),
      histograms: { unit: 'microseconds' as const, latency, endToEnd },
    };
  });
  return { ...template, scenario: { ...template.scenario, executor: 'constant', rate: RATE, stages: null, durationMs: seconds * 1000 }, backends };
}

const built0 = performance.now();
const result = syntheticResult();
const buildMs = performance.now() - built0;
const rawJson = `${JSON.stringify(result, null, 2)}\n`;
const scratch = mkdtempSync(join(tmpdir(), 'eventbench-report-render-'));
try {
  const file = join(scratch, 'result.json');
  writeFileSync(file, rawJson);
  const render: number[] = [];
  const report: number[] = [];
  let size = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    const html = renderHtmlReport(result, { rawJson });
    render.push(performance.now() - t);
    size = Buffer.byteLength(html);
    t = performance.now();
    const read = readResultFile(file);
    renderHtmlReport(read.result, { rawJson: read.text });
    report.push(performance.now() - t);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const env = await captureEnvironment();
  const createdAt = new Date().toISOString();
  const rows = [
    { what: 'render (end of a load / bench run)', firstMs: render[0]!, medianMs: median(render), maxMs: Math.max(...render) },
    { what: 'eventbench report (read + validate + render)', firstMs: report[0]!, medianMs: median(report), maxMs: Math.max(...report) },
  ].map((r) => ({ ...r, firstMs: Math.round(r.firstMs), medianMs: Math.round(r.medianMs), maxMs: Math.round(r.maxMs), withinTarget: r.maxMs < TARGET_MS }));
  const out = {
    benchmark: 'report-render',
    createdAt,
    environment: env,
    settings: { eventsPerBackend: EVENTS, backends: result.backends.length, rate: RATE, timelineRows: result.backends[0]!.timeline.length, rounds: ROUNDS, targetMs: TARGET_MS, targetBytes: TARGET_BYTES, buildMs: Math.round(buildMs) },
    results: { rows, reportBytes: size, resultJsonBytes: Buffer.byteLength(rawJson), sizeWithinTarget: size < TARGET_BYTES },
    note: `load average (1, 5, 15 min) at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
  };
  const md = [
    `# report-render: report.html of a ${EVENTS.toLocaleString('en-US')}-event run per backend (${createdAt})`,
    '',
    `Machine: ${env.machine.cores} cores ${env.machine.cpuModel}, load average at start ${env.machine.loadAverage.join(' ')}, node ${env.node.version}, git ${env.git.revision?.slice(0, 12) ?? '-'}${env.git.dirty ? ' (dirty)' : ''}. ${result.backends.length} backends, ${out.settings.timelineRows.toLocaleString('en-US')} timeline rows each, ${ROUNDS} rounds.`,
    '',
    '| what | first ms | median ms | max ms | < 1 s |',
    '|---|---:|---:|---:|:-:|',
    ...rows.map((r) => `| ${r.what} | ${r.firstMs} | ${r.medianMs} | ${r.maxMs} | ${r.withinTarget ? 'yes' : 'NO'} |`),
    '',
    `report.html: ${(size / 1024).toFixed(0)} kB (< 2 MB: ${size < TARGET_BYTES ? 'yes' : 'NO'}); result.json embedded in it: ${(out.results.resultJsonBytes / 1024).toFixed(0)} kB.`,
    '',
  ].join('\n');
  mkdirSync(args.out, { recursive: true });
  const stamp = createdAt.replace(/[:.]/g, '-');
  writeFileSync(join(args.out, `${stamp}.json`), `${JSON.stringify(out, null, 2)}\n`);
  writeFileSync(join(args.out, `${stamp}.md`), `${md}\n`);
  process.stdout.write(`${md}\nwritten: ${join(args.out, stamp)}.json, .md\n`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
