/**
 * report.html in a real browser (Debian's Chromium, headless, through playwright-core): every chart is a
 * uPlot instance with data points and a canvas with pixels in its series' colours, the page logs no
 * console error and makes no request other than the file itself (every other request is routed to a
 * failure and recorded), the embedded result downloads as written, and a screenshot is saved; for every
 * schema version and for a chaos run's page. With EVENTBENCH_SCREENSHOT=path the screenshot is also
 * written there (how docs/report-screenshot.png is made; EVENTBENCH_SCREENSHOT_RESULT=result.json picks
 * another result than the committed bench fixture).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderChaosReport, type ChaosRunView } from '../../src/report/html/chaos.ts';
import { renderHtmlReport } from '../../src/report/html/render.ts';
import { readResultFile } from '../../src/report/result-file.ts';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const fixture = (name: string): string => (name.startsWith('/') ? name : new URL(`../fixtures/results/${name}`, import.meta.url).pathname);

let browser: Browser;
const dir = mkdtempSync(join(tmpdir(), 'eventbench-report-browser-'));

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
});
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface ChartState {
  id: string;
  series: number;
  points: number[];
  drawnPixels: number;
}

async function open(resultFile: string, screenshot: string, viewport = { width: 1280, height: 1600 }) {
  const original = readFileSync(fixture(resultFile), 'utf8');
  const file = join(dir, `${resultFile.replace(/\//g, '_')}.html`);
  if (resultFile.startsWith('chaos')) {
    writeFileSync(file, renderChaosReport(JSON.parse(original) as ChaosRunView, original));
  } else {
    const read = readResultFile(fixture(resultFile));
    writeFileSync(file, renderHtmlReport(read.result, { rawJson: read.text }));
  }
  const url = pathToFileURL(file).href;
  const page = await browser.newPage({ viewport, acceptDownloads: true });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort('blockedbyclient')));
  await page.goto(url, { waitUntil: 'load' });
  const charts = await page.evaluate(() => {
    // The browser's globals, typed here (the project compiles without the DOM library).
    const page = globalThis as unknown as {
      document: { getElementById(id: string): { textContent: string | null } | null };
      eventbenchCharts: { eventbenchId: string; data: (number | null)[][]; ctx: { canvas: { width: number; height: number }; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } }[];
    };
    const specs = (JSON.parse(page.document.getElementById('eventbench-charts')!.textContent!) as { charts: { id: string; series: { color: string }[] }[] }).charts;
    const list = page.eventbenchCharts;
    return list.map((u) => {
      // Pixels in a series' own colour: the lines, not the grid or the axes (grey).
      const colors = specs.find((s) => s.id === u.eventbenchId)!.series.map((s) => [1, 3, 5].map((i) => parseInt(s.color.slice(i, i + 2), 16)));
      const { width, height } = u.ctx.canvas;
      const pixels = u.ctx.getImageData(0, 0, width, height).data;
      let drawn = 0;
      for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i + 3]! < 200) continue;
        if (colors.some((c) => Math.abs(c[0]! - pixels[i]!) + Math.abs(c[1]! - pixels[i + 1]!) + Math.abs(c[2]! - pixels[i + 2]!) < 60)) drawn++;
      }
      return { id: u.eventbenchId, series: u.data.length - 1, points: u.data.slice(1).map((s) => s.filter((v) => v !== null).length), drawnPixels: drawn };
    });
  });
  const figures = await page.locator('figure.chart').count();
  await page.screenshot({ path: screenshot, fullPage: false });
  // The embedded result, inflated in the page, and its download button.
  const embedded = await page.evaluate(() => (globalThis as unknown as { eventbenchRawResult(): Promise<string> }).eventbenchRawResult());
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-json')]);
  const downloaded = readFileSync(await download.path(), 'utf8');
  await page.close();
  return { charts: charts as ChartState[], figures, problems, requests, url, embedded, downloaded, original, downloadName: download.suggestedFilename() };
}

describe('report.html in headless Chromium', () => {
  it('draws every chart with data points, logs no error, makes no request, and is screenshotted', async () => {
    const shot = join(dir, 'report.png');
    const { charts, figures, problems, requests, url, embedded, downloaded, original, downloadName } = await open('bench-runs-v3.json', shot);
    expect(problems).toEqual([]);
    // The page itself, and the download's in-page Blob URL (no network).
    expect(requests.filter((r) => !r.startsWith('blob:file://'))).toEqual([url]);
    expect(embedded).toBe(original);
    expect(downloaded).toBe(original);
    expect(downloadName).toMatch(/^eventbench-bench-2026-12-04T.*\.json$/);
    expect(charts.map((c) => c.id)).toEqual(['chart-throughput', 'chart-rate', 'chart-latency', 'chart-errors', 'chart-lag', 'chart-percentiles']);
    expect(figures).toBe(charts.length);
    for (const c of charts) {
      expect(c.series, c.id).toBeGreaterThanOrEqual(2);
      expect(Math.max(...c.points), c.id).toBeGreaterThan(0);
      expect(c.drawnPixels, c.id).toBeGreaterThan(200);
    }
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    if (process.env.EVENTBENCH_SCREENSHOT) {
      // The README's picture: the top of the page at a desktop width.
      // From the committed bench result, or EVENTBENCH_SCREENSHOT_RESULT (e.g. a longer run's result.json).
      const source = process.env.EVENTBENCH_SCREENSHOT_RESULT ? resolve(process.env.EVENTBENCH_SCREENSHOT_RESULT) : 'bench-runs-v3.json';
      const { problems: again } = await open(source, resolve(process.env.EVENTBENCH_SCREENSHOT), { width: 1280, height: 1900 });
      expect(again).toEqual([]);
    }
  });

  it('draws a sweep\'s charts (one per metric, x the swept parameter) and end-to-end latency over time', async () => {
    const { charts, figures, problems, requests, url } = await open('bench-sweep-v3.json', join(dir, 'sweep.png'), { width: 1280, height: 2400 });
    expect(problems).toEqual([]);
    expect(requests.filter((r) => !r.startsWith('blob:file://'))).toEqual([url]);
    const ids = charts.map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['chart-e2e', 'chart-sweep-eventsPerSec', 'chart-sweep-p99Ms', 'chart-sweep-bytesPerEvent', 'chart-sweep-cpuUsPerEvent']));
    expect(figures).toBe(charts.length);
    for (const c of charts) {
      expect(c.series, c.id).toBeGreaterThanOrEqual(2);
      expect(Math.min(...c.points), c.id).toBeGreaterThan(c.id.startsWith('chart-sweep') ? 1 : 0);
      expect(c.drawnPixels, c.id).toBeGreaterThan(100);
    }
  });

  it.each([
    ['bench-ramp-v2.json', 6],
    ['load-max-v1.json', 6],
    ['chaos-verdict.json', 1],
  ])('renders %s (an earlier schema version, a chaos run) too', async (file, chartCount) => {
    const { charts, figures, problems, requests, url, embedded, original } = await open(file, join(dir, `${file}.png`));
    expect(problems).toEqual([]);
    expect(requests.filter((r) => !r.startsWith('blob:file://'))).toEqual([url]);
    expect(embedded).toBe(original);
    expect(charts).toHaveLength(chartCount);
    expect(figures).toBe(chartCount);
    for (const c of charts) {
      expect(Math.max(...c.points), c.id).toBeGreaterThan(0);
      expect(c.drawnPixels, c.id).toBeGreaterThan(200);
    }
  });
});
