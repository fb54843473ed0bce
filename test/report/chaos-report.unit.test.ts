/**
 * The chaos run's page: verdict, lost acknowledged events split prefix / middle / postfix with the ids
 * behind each count, time to recover, availability per second with the fault windows, and the
 * verdict.json embedded as written (writeChaosReport, which `eventbench chaos` calls per backend).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { renderChaosReport, writeChaosReport, type ChaosRunView } from '../../src/report/html/chaos.ts';

const FIXTURE = new URL('../fixtures/results/chaos-verdict.json', import.meta.url).pathname;
const text = readFileSync(FIXTURE, 'utf8');
const run = (): ChaosRunView => JSON.parse(text) as ChaosRunView;
const dir = mkdtempSync(join(tmpdir(), 'eventbench-chaos-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const chartsOf = (html: string): { id: string; x: number[]; series: { label: string; values: (number | null)[] }[] }[] =>
  (JSON.parse(/<script type="application\/json" id="eventbench-charts">([^]*?)<\/script>/.exec(html)![1]!) as { charts: never[] }).charts;

describe('the chaos report', () => {
  it('shows a passing run: verdict, counts, faults with time to recover, availability with the fault window', () => {
    const html = renderChaosReport(run(), text);
    expect(html).toContain('<title>eventbench chaos: server_pause on postgres</title>');
    expect(html).toMatch(/<div class="card-title">verdict<\/div><div class="card-value">PASS<\/div>/);
    expect(html).toMatch(/<th scope="row">pause#0<\/th><td>[\d.]+ s<\/td><td>[\d.]+ s<\/td><td>\d+ ms<\/td>/);
    const [chart] = chartsOf(html);
    expect(chart!.id).toBe('chart-availability');
    expect(chart!.series.map((s) => s.label)).toEqual(['attempted', 'acknowledged', 'fault active']);
    expect(chart!.series[1]!.values.reduce((a: number, v) => a + (v ?? 0), 0)).toBe(run().verdict.acked);
    expect(chart!.series[2]!.values.some((v) => v !== null)).toBe(true);
    const embedded = /<script type="application\/gzip;base64" id="eventbench-result">([^]*?)<\/script>/.exec(html)![1]!;
    expect(gunzipSync(Buffer.from(embedded, 'base64')).toString('utf8')).toBe(text);
  });

  it('shows a failing run: what broke, lost events split by position with their ids', () => {
    const r = run();
    Object.assign(r.verdict, { lost: { count: 3, ids: ['e-1', 'e-2', 'e-3'] }, lostMiddle: { count: 3, ids: ['e-1', 'e-2', 'e-3'] } });
    r.broken = [{ expectation: 'lost <= 0', limit: 0, actual: 3, message: 'lost 3 > 0: e-1, e-2, e-3' }];
    const html = renderChaosReport(r, text);
    expect(html).toMatch(/<div class="card-value">FAIL<\/div><div class="card-detail">✗ lost 3 &gt; 0: e-1, e-2, e-3<\/div>/);
    expect(html).toContain('prefix 0, middle 3, postfix 0');
    expect(html).toMatch(/<th scope="row">lostMiddle<\/th><td>[^<]+<\/td><td>3<\/td><td>e-1, e-2, e-3<\/td>/);
  });

  it('writeChaosReport writes report.html next to verdict.json', () => {
    copyFileSync(FIXTURE, join(dir, 'verdict.json'));
    const path = writeChaosReport(dir);
    expect(path).toBe(join(dir, 'report.html'));
    expect(readFileSync(path, 'utf8')).toContain('id="chart-availability"');
  });
});
