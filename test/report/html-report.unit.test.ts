/**
 * report.html without a browser: self-contained (no external src/href, uPlot inlined), every chart spec
 * has points, the percentile curve comes from the histograms at a bounded number of points, the raw
 * result is embedded as written, and text from a result cannot inject markup.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildCharts, MAX_TIME_POINTS, percentileCurve, percentileXs } from '../../src/report/html/charts.ts';
import { renderHtmlReport } from '../../src/report/html/render.ts';
import { encodeHistogram, newHistogram, recordMs, summarize } from '../../src/report/histogram.ts';
import { readResultFile } from '../../src/report/result-file.ts';
import { capabilityTable, markdownTable, renderTablesMarkdown, sideBySideTable } from '../../src/report/tables.ts';

const fixture = (name: string): string => new URL(`../fixtures/results/${name}`, import.meta.url).pathname;

describe('report.html', () => {
  const read = readResultFile(fixture('bench-ramp-v2.json'));
  const html = renderHtmlReport(read.result, { rawJson: read.text });

  it('is one file that needs no network: no external script, stylesheet, image or font', () => {
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)\s*=/i);
    expect(html).not.toMatch(/@import|@font-face|url\(\s*['"]?https?:/i);
    expect(html).toContain(readFileSync(new URL('../../node_modules/uplot/dist/uPlot.iife.min.js', import.meta.url), 'utf8'));
    expect(html.length).toBeLessThan(300_000);
  });

  it('embeds the result exactly as written, downloadable', () => {
    const embedded = /<script type="application\/gzip;base64" id="eventbench-result">([^]*?)<\/script>/.exec(html)![1]!;
    expect(gunzipSync(Buffer.from(embedded, 'base64')).toString('utf8')).toBe(read.text);
    expect(html).toContain('id="download-json"');
  });

  it('draws the over-time charts and the percentile distribution with points for each backend', () => {
    const { charts, omitted } = buildCharts(read.result);
    expect(charts.map((c) => c.id)).toEqual(['chart-throughput', 'chart-rate', 'chart-latency', 'chart-errors', 'chart-lag', 'chart-percentiles']);
    for (const c of charts) {
      expect(c.series.length, c.id).toBeGreaterThanOrEqual(2);
      for (const s of c.series) expect(s.values.length, `${c.id} ${s.label}`).toBe(c.x.length);
      for (const b of ['postgres', 'jetstream']) expect(c.series.some((s) => s.label.startsWith(b) && s.values.some((v) => v !== null)), `${c.id} ${b}`).toBe(true);
      expect(html).toContain(`id="${c.id}"`);
    }
    // End-to-end latency per second is not in this schema version: said so, not drawn empty.
    expect(omitted).toEqual([expect.stringMatching(/^End-to-end latency p50 \/ p99 over time: this result records end-to-end latency for the whole window only/)]);
  });

  it('computes the percentile curve from the histogram at bounded points, up to 99.999 %', () => {
    const xs = percentileXs();
    expect(xs.length).toBeLessThanOrEqual(101);
    expect(xs[0]).toBe(1);
    expect(xs.at(-1)).toBeCloseTo(100_000);
    const h = newHistogram();
    for (let i = 1; i <= 10_000; i++) recordMs(h, i / 100); // 0.01 .. 100 ms, uniform
    const curve = percentileCurve(encodeHistogram(h), xs);
    const at = (x: number): number | null => curve[xs.findIndex((v) => Math.abs(v - x) / x < 1e-9)]!;
    expect(at(10)).toBeCloseTo(summarize(h).p90, 0); // x = 10: p90
    expect(at(100)).toBeCloseTo(summarize(h).p99, 0); // x = 100: p99
    expect(at(1000)).toBeCloseTo(summarize(h).p999, 0); // x = 1000: p99.9
    expect(at(100_000)).toBeNull(); // 10,000 samples cannot tell p99.999 from max
    for (let i = 1; i < curve.length; i++) if (curve[i] !== null) expect(curve[i]!).toBeGreaterThanOrEqual(curve[i - 1]!);
  });

  it('escapes text from the result', () => {
    const evil = { ...read.result, notes: ['<script>alert(1)</script>'], backends: read.result.backends.map((b) => ({ ...b, error: null })) };
    const page = renderHtmlReport(evil);
    expect(page).not.toContain('<script>alert(1)</script>');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // Inside the embedded JSON, too: no "</script>" ends the element early.
    expect(page.match(/<\/script>/g)!.length).toBe(4);
  });

  it('shows thresholds with how much they failed by, capabilities and what an ack means', () => {
    expect(html).toContain('3 passed, 1 failed');
    expect(html).toMatch(/jetstream: p99&lt;20ms: [\d.]+ms, over by [\d.]+ms/);
    const caps = capabilityTable(read.result);
    expect(caps.rows.at(-1)![0]).toBe('what an ack means');
    expect(caps.rows.at(-1)![1]).toMatch(/PostgreSQL 18\.4 commit, on disk/);
    expect(caps.rows.at(-1)![2]).toMatch(/in the server's memory/);
  });
});

describe('a bench of schema version 3 (runs, raw-driver baselines, efficiency)', () => {
  const read = readResultFile(fixture('bench-runs-v3.json'));
  const html = renderHtmlReport(read.result, { rawJson: read.text });

  it('shows medians over the runs, efficiency vs the raw driver, one card per adapter, and every round', () => {
    expect(read.schemaVersion).toBe(3);
    expect(html).toContain('<title>eventbench bench: postgres vs raw-postgres vs jetstream vs raw-jetstream</title>');
    expect(html).toContain('Over 2 run(s): median [min-max]');
    expect(html).toMatch(/<th scope="row">postgres<\/th><td>raw-postgres<\/td><td>latency<\/td><td>[\d.]+ \[[\d.]+-[\d.]+\]<\/td>/);
    expect(html.match(/<div class="card /g)).toHaveLength(4); // postgres, jetstream, thresholds, errors
    expect(html).toContain('<th scope="row">raw-jetstream (run 2)</th>');
  });

  it('draws run 1 over time and each store\'s runs merged in the percentile distribution', () => {
    const { charts } = buildCharts(read.result);
    expect(charts.find((c) => c.id === 'chart-throughput')!.title).toBe('Throughput over time (run 1 of 2)');
    expect(charts.find((c) => c.id === 'chart-throughput')!.series.map((s) => s.label)).toEqual(['postgres', 'raw-postgres', 'jetstream', 'raw-jetstream']);
    const percentiles = charts.find((c) => c.id === 'chart-percentiles')!;
    expect(percentiles.series.filter((s) => s.label.endsWith(' append')).map((s) => s.label)).toEqual(['postgres append', 'raw-postgres append', 'jetstream append', 'raw-jetstream append']);
  });

  it('takes what an ack means from the settings the bench read back', () => {
    const caps = capabilityTable(read.result);
    expect(caps.header).toEqual(['capability', 'postgres', 'raw-postgres', 'jetstream', 'raw-jetstream']);
    expect(caps.rows.find((r) => r[0] === 'what an ack means')![1]).toMatch(/synchronous_commit=on, fsync=on/);
    expect(caps.rows.find((r) => r[0] === 'durability profile')![1]).toMatch(/^default/);
  });
});

describe('a long run', () => {
  it('draws at most MAX_TIME_POINTS points a line, a spike inside a bucket kept (max), rates averaged', () => {
    const read = readResultFile(fixture('load-max-v2.json'));
    const b = read.result.backends[0]!;
    const row = b.timeline[0]!;
    const timeline = Array.from({ length: 5000 }, (_, s) => ({ ...row, second: s, events: 100, appends: 100, p99: s === 4321 ? 900 : 5 }));
    const long = { ...read.result, backends: [{ ...b, timeline }] };
    const { charts } = buildCharts(long);
    const latency = charts.find((c) => c.id === 'chart-latency')!;
    expect(latency.x.length).toBeLessThanOrEqual(MAX_TIME_POINTS);
    expect(latency.xLabel).toMatch(/5 s a point/);
    expect(Math.max(...latency.series[0]!.values.map((v) => v ?? 0))).toBe(900);
    const throughput = charts.find((c) => c.id === 'chart-throughput')!;
    expect(new Set(throughput.series[0]!.values)).toEqual(new Set([100]));
  });
});

describe('tables shared by report.html and Markdown', () => {
  const read = readResultFile(fixture('bench-ramp-v2.json'));
  it('the side-by-side table has a row per backend with cost per event', () => {
    const t = sideBySideTable(read.result);
    expect(t.rows.map((r) => r[0])).toEqual(['postgres', 'jetstream']);
    expect(t.header).toEqual(expect.arrayContaining(['bytes/event', 'server CPU µs/event', 'client CPU µs/event']));
    expect(markdownTable(t).split('\n')).toHaveLength(4);
    expect(renderTablesMarkdown(read.result)).toContain('## Capabilities and what an ack means');
  });
});
