/**
 * The live page and replay view of `eventbench serve` in a real browser (Debian's Chromium, headless,
 * through playwright-core) over a real PostgreSQL store: the status turns live, appended events appear at
 * the top and the statistics cards change, the system filter hides the other system's rows; the replay
 * view plays the case category and the read model (cases by status and decision) changes as it plays.
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
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
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

    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
  }, 30_000);
});
