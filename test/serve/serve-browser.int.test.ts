/**
 * The live page and replay view of `eventbench serve` in a real browser (Debian's Chromium, headless,
 * through playwright-core) over a real PostgreSQL store: the status turns live, appended events appear at
 * the top and the statistics cards change, the system filter hides the other system's rows; the replay
 * view plays the case category and the read model (cases by status and decision) changes as it plays,
 * and a time picked seeks to the first event at or after it, with the read model of everything before.
 * The page asks nothing of any other origin (no CDN) and logs no error. Screenshots go to the test's
 * temp dir (EVENTBENCH_SCREENSHOT_DIR keeps them elsewhere).
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/core/event-store.ts';
import { startServe, type ServeHandle } from '../../src/runners/serve/run.ts';
import { uniqueName } from '../support/servers.ts';
import { appendCases, appendDocuments, freshDocument, openTestStore } from './fixtures.ts';
import { dropSchema } from '../postgres/helpers.ts';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const CASES = 4;

const tmp = mkdtempSync(join(tmpdir(), 'eventbench-serve-browser-'));
const shots = process.env.EVENTBENCH_SCREENSHOT_DIR ?? tmp;
const namespace = uniqueName('servebr');
let browser: Browser;
let store: EventStore;
let serve: ServeHandle;
let page: Page;
const problems: string[] = [];
const foreign: string[] = [];

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  store = await openTestStore('postgres', namespace);
  await appendDocuments(store, 12);
  await appendCases(store, CASES);
  serve = await startServe(store, { host: '127.0.0.1', port: 0, subscription: uniqueName('sub') });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
  // UTC: the replay's time picker (datetime-local) is in the browser's local time; the test writes UTC.
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, timezoneId: 'UTC' });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(serve.url)) foreign.push(r.url());
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await serve?.close();
  await store?.close();
  await dropSchema(namespace);
  rmSync(tmp, { recursive: true, force: true });
});

const text = (selector: string) => page.locator(selector).innerText();

describe('the live page', () => {
  it('goes live, shows appended events at the top and updates the statistics; the filter narrows the list', async () => {
    await page.goto(`${serve.url}/`, { waitUntil: 'load' });
    await page.waitForSelector('#status.online', { timeout: 10_000 });
    await expect.poll(() => page.locator('#events li').count()).toBe(12);
    expect(await text('#stat-total')).toBe('12');
    expect(await text('#stat-last24h')).toBe('0');

    const fresh = [freshDocument('alfresco'), freshDocument('paperless'), freshDocument('alfresco')];
    for (const f of fresh) await store.appendToStream(f.stream, [f.event], { expectedVersion: 'no_stream' });
    await expect.poll(() => text('#stat-total'), { timeout: 5_000 }).toBe('15');
    expect(await text('#stat-last24h')).toBe('3');
    expect(await page.locator('#events li').count()).toBe(15);
    // Newest at the top, with its title, system, category, author, size and tags.
    const top = page.locator('#events li').first();
    expect(await top.getAttribute('data-id')).toBe(fresh[2]!.event.id);
    const row = await top.innerText();
    for (const part of [`Fresh ${fresh[2]!.event.id}`, 'alfresco', 'Subsidies', 'Test Author', '1.2 kB', 'fresh', 'uploaded']) expect(row).toContain(part);
    await page.screenshot({ path: join(shots, 'serve-live.png'), fullPage: true });

    await page.selectOption('#system-filter', 'alfresco');
    const visible = await page.locator('#events li:not([hidden])').evaluateAll((els) => els.map((e) => e.getAttribute('data-system')));
    expect(visible.length).toBeGreaterThanOrEqual(2);
    expect(new Set(visible)).toEqual(new Set(['alfresco']));
    await page.selectOption('#system-filter', '');
    expect(statSync(join(shots, 'serve-live.png')).size).toBeGreaterThan(10_000);
  }, 30_000);
});

describe('the replay view', () => {
  it('plays the case category and rebuilds the read model as it goes', async () => {
    await page.click('#tab-replay');
    await page.fill('#replay-source', 'case');
    await page.fill('#replay-from', '0');
    await page.fill('#replay-speed', '20');
    await page.click('#replay-reset');
    await page.click('#replay-step');
    await expect.poll(() => text('#replay-applied')).toBe('1');
    expect(await text('#rm-status tr[data-key="intake"] td.n')).toBe('1');
    expect(await text('#rm-status tr[data-key="completed"] td.n')).toBe('0');

    await page.click('#replay-play');
    // Mid-play the model shows a state between the start and the end.
    await expect.poll(() => text('#rm-status tr[data-key="completed"] td.n'), { timeout: 10_000 }).toBe('1');
    await page.screenshot({ path: join(shots, 'serve-replay-playing.png'), fullPage: true });
    await expect.poll(() => text('#replay-applied'), { timeout: 10_000 }).toBe(String(CASES * 4));
    expect(await text('#rm-status tr[data-key="completed"] td.n')).toBe(String(CASES));
    expect(await text('#rm-status tr[data-key="intake"] td.n')).toBe('0');
    for (const d of ['forgive', 'payment_plan', 'collect', 'refer_assistance']) expect(await text(`#rm-decision tr[data-key="${d}"] td.n`)).toBe('1');
    await expect.poll(() => page.locator('#replay-play').isEnabled()).toBe(true);
    expect(await text('#replay-message')).toMatch(/End of what is stored/);
    await page.screenshot({ path: join(shots, 'serve-replay-end.png'), fullPage: true });
  }, 30_000);

  it('seeks to the first event at or after a time picked and rebuilds the read model up to it', async () => {
    const events = await store.readAll({ category: 'case', fromPosition: 0, limit: 1000 });
    expect(events).toHaveLength(CASES * 4);
    // The third case's intake: 8 events (two whole cases) lie before it, unless one shares its millisecond.
    const atMs = Date.parse(events[8]!.timestamp);
    const first = events.findIndex((e) => Date.parse(e.timestamp) >= atMs);
    const target = events[first]!;
    const completedBefore = events.slice(0, first + 1).filter((e) => e.type === 'case.completed').length;
    await page.fill('#replay-from', '0');
    await page.fill('#replay-at', new Date(atMs).toISOString().replace(/Z$/, ''));
    await page.click('#replay-reset');
    await expect.poll(() => text('#replay-message')).toContain(`Ready at position ${target.position}, the first event at or after ${new Date(atMs).toISOString()}`);
    await page.click('#replay-step');
    await expect.poll(() => text('#replay-position')).toBe(String(target.position));
    expect(await text('#replay-applied')).toBe(String(first + 1));
    expect(await text('#replay-event')).toContain(`${target.type}\n${target.stream} v${target.version}`);
    expect(await text('#rm-status tr[data-key="completed"] td.n')).toBe(String(completedBefore));
    expect(await page.locator('#replay-log li').count()).toBe(1);
    await page.screenshot({ path: join(shots, 'serve-replay-by-time.png'), fullPage: true });
    expect(statSync(join(shots, 'serve-replay-by-time.png')).size).toBeGreaterThan(10_000);

    // A time after every event: nothing to play yet, said so.
    await page.fill('#replay-at', '2999-01-01T00:00:00.000');
    await page.click('#replay-reset');
    await expect.poll(() => text('#replay-message')).toMatch(/^No event at or after 2999-01-01T00:00:00.000Z yet/);
    await page.fill('#replay-at', '');

    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
  }, 30_000);
});
