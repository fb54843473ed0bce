/**
 * The event API of `eventbench serve` (docs/event-api.md) against both real backends: every endpoint's
 * shape, limits and filters, a 400 naming the bad parameter, Server-Sent Events delivering a newly
 * appended event within a second, the replay pages with the read model rebuilt as they go, /metrics,
 * and a restart with the same durable subscription showing the same history once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/core/event-store.ts';
import { startServe, type ServeHandle } from '../../src/runners/serve/run.ts';
import { openSseClient } from '../../src/runners/serve/sse-client.ts';
import { uniqueName } from '../support/servers.ts';
import { appendCases, appendDocuments, freshDocument, openTestStore, SERVE_BACKENDS } from './fixtures.ts';

const DOCS = 40;
const CASES = 3;

async function get(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each(SERVE_BACKENDS)('eventbench serve on $name', ({ name, cleanup }) => {
  const namespace = uniqueName('serve');
  const subscription = uniqueName('sub');
  let store: EventStore;
  let serve: ServeHandle;
  let appended: Record<string, unknown>[];
  let caseStreams: string[];

  beforeAll(async () => {
    store = await openTestStore(name, namespace);
    appended = await appendDocuments(store, DOCS);
    caseStreams = await appendCases(store, CASES);
    serve = await startServe(store, { host: '127.0.0.1', port: 0, subscription });
  }, 60_000);
  afterAll(async () => {
    await serve?.close();
    await store?.close();
    await cleanup(namespace);
  });

  it('GET /health answers ok with the time', async () => {
    const { status, body } = await get(`${serve.url}/health`);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(Math.abs(Date.parse(body.timestamp) - Date.now())).toBeLessThan(60_000);
  });

  it('GET /events: the most recent document events, newest first, default 100, limit honoured', async () => {
    expect(serve.caughtUp).toBe(DOCS);
    const all = await get(`${serve.url}/events`);
    expect(all.status).toBe(200);
    expect(all.body.count).toBe(DOCS);
    expect(all.body.events.map((e: { eventId: string }) => e.eventId)).toEqual([...appended].reverse().map((e) => e.eventId));
    expect(all.body.events[0]).toEqual(appended[DOCS - 1]);
    const five = await get(`${serve.url}/events?limit=5`);
    expect(five.body.count).toBe(5);
    expect(five.body.events).toEqual(all.body.events.slice(0, 5));
  });

  it('GET /events/system/:system and /events/type/:type filter and name what they filtered', async () => {
    for (const system of ['paperless', 'alfresco']) {
      const { status, body } = await get(`${serve.url}/events/system/${system}?limit=1000`);
      expect(status).toBe(200);
      expect(body.system).toBe(system);
      expect(body.count).toBe(appended.filter((e) => e.system === system).length);
      expect(body.events.every((e: { system: string }) => e.system === system)).toBe(true);
    }
    const uploaded = await get(`${serve.url}/events/type/uploaded`);
    expect(uploaded.body.type).toBe('document.uploaded');
    expect(uploaded.body.count).toBe(appended.filter((e) => e.eventType === 'document.uploaded').length);
    expect(uploaded.body.events.every((e: { eventType: string }) => e.eventType === 'document.uploaded')).toBe(true);
  });

  it('GET /stats counts every event per system and per short type', async () => {
    const { body } = await get(`${serve.url}/stats`);
    const count = (key: string, short = false) =>
      appended.reduce<Record<string, number>>((acc, e) => {
        const k = String(e[key]);
        const kk = short ? k.slice(k.lastIndexOf('.') + 1) : k;
        acc[kk] = (acc[kk] ?? 0) + 1;
        return acc;
      }, {});
    expect(Object.keys(body).sort()).toEqual(['bySystem', 'byType', 'last24h', 'total']);
    expect(body.total).toBe(DOCS);
    expect(body.bySystem).toEqual(count('system'));
    expect(body.byType).toEqual(count('eventType', true));
    // The seeded documents are dated 2025: none in the last 24 hours (a fresh one counts: the SSE test).
    expect(body.last24h).toBe(0);
  });

  it('answers 400 with one clear message for bad parameters', async () => {
    const cases: [string, RegExp][] = [
      ['/events?limit=0', /"limit" must be >= 1/],
      ['/events?limit=1001', /"limit" must be <= 1000/],
      ['/events?limit=abc', /"limit" must be integer/],
      ['/events?foo=1', /unknown query parameter "foo" \(allowed: limit\)/],
      ['/events/system/sharepoint', /"system" must be one of: paperless, alfresco/],
      ['/events/type/renamed', /"type" must be one of: uploaded, updated, deleted/],
      ['/stats?since=yesterday', /unknown query parameter "since"/],
      ['/events/stream?system=paperless', /unknown query parameter "system"/],
      ['/replay', /exactly one of query parameters "category".*"stream"/],
      ['/replay?category=case&stream=case-1', /exactly one of/],
      ['/replay?category=no.dots', /"category" must match pattern/],
      ['/replay?category=case&limit=501', /"limit" must be <= 500/],
      ['/replay?category=case&from=-1', /"from" must be >= 0/],
      ['/replay?category=case&at=yesterday', /"at" must be an ISO 8601 time with a zone/],
      ['/replay?category=case&at=2026-12-04T21:10:05', /"at" must be an ISO 8601 time with a zone/],
      ['/replay?category=case&at=2026-12-04T21:10:05Z&from=3', /either query parameter "from" .* or "at"/],
    ];
    for (const [path, message] of cases) {
      const { status, body } = await get(`${serve.url}${path}`);
      expect({ path, status }).toEqual({ path, status: 400 });
      expect(body.error).toBe('Bad Request');
      expect(body.message).toMatch(message);
      expect(body.message).not.toMatch(/\n/);
    }
  });

  it('GET /events/stream: a first message with the recent events and stats, then a newly appended event within a second', async () => {
    const messages: { events: { eventId: string }[]; stats: { total: number } }[] = [];
    const seen = new Map<string, number>();
    const client = openSseClient(`${serve.url}/events/stream?limit=10`, (data, at) => {
      const m = data as (typeof messages)[number];
      messages.push(m);
      for (const e of m.events) if (!seen.has(e.eventId)) seen.set(e.eventId, at);
    });
    try {
      await client.opened;
      await waitFor('the first message', () => messages.length >= 1);
      expect(messages[0]!.events).toHaveLength(10);
      expect(messages[0]!.stats.total).toBeGreaterThanOrEqual(DOCS);
      const fresh = freshDocument('alfresco');
      const before = messages[messages.length - 1]!.stats.total;
      const sent = Date.now();
      await store.appendToStream(fresh.stream, [fresh.event], { expectedVersion: 'no_stream' });
      await waitFor('the new event on the stream', () => seen.has(fresh.event.id), 5_000);
      expect(seen.get(fresh.event.id)! - sent).toBeLessThan(1000);
      const last = messages.find((m) => m.events.some((e) => e.eventId === fresh.event.id))!;
      expect(last.stats.total).toBe(before + 1);
      const recent = await get(`${serve.url}/events?limit=1`);
      expect(recent.body.events[0].eventId).toBe(fresh.event.id);
      const stats = await get(`${serve.url}/stats`);
      expect(stats.body.last24h).toBeGreaterThanOrEqual(1);
      expect(stats.body.total).toBe(DOCS + 1);
    } finally {
      client.close();
    }
  });

  it('GET /replay pages through a category and a stream with the read model rebuilt event by event', async () => {
    const first = await get(`${serve.url}/replay?category=case&from=0&limit=5`);
    expect(first.status).toBe(200);
    expect(first.body.steps).toHaveLength(5);
    expect(first.body.done).toBe(false);
    expect(first.body.steps.map((s: { readModel: { events: number } }) => s.readModel.events)).toEqual([1, 2, 3, 4, 5]);
    expect(first.body.steps[0].readModel.cases.byStatus.intake).toBe(1);
    expect(first.body.steps[3].readModel.cases.byStatus.completed).toBe(1);
    // The next page continues the same model; a fresh request at the same position rebuilds it identically.
    const rest = await get(`${serve.url}/replay?category=case&from=${first.body.next}&limit=500`);
    expect(rest.body.done).toBe(true);
    const end = rest.body.steps[rest.body.steps.length - 1].readModel;
    expect(end.events).toBe(CASES * 4);
    expect(end.cases.byStatus.completed).toBe(CASES);
    expect(end.cases.byDecision).toMatchObject({ forgive: 1, payment_plan: 1, collect: 1 });
    const again = await get(`${serve.url}/replay?category=case&from=${first.body.next}&limit=500`);
    expect(again.body.steps[again.body.steps.length - 1].readModel).toEqual(end);
    const jumped = await get(`${serve.url}/replay?category=case&from=${rest.body.steps[2].position}&limit=1`);
    expect(jumped.body.steps[0].readModel).toEqual(rest.body.steps[3].readModel);

    const none = await get(`${serve.url}/replay?category=nosuch&from=0`);
    expect(none.body).toMatchObject({ steps: [], done: true, next: 0 });
    const beyond = await get(`${serve.url}/replay?stream=${caseStreams[0]}&from=99`);
    expect(beyond.body).toMatchObject({ steps: [], done: true, next: 99 });

    const one = await get(`${serve.url}/replay?stream=${caseStreams[1]}&from=2&limit=10`);
    expect(one.body.steps.map((s: { version: number }) => s.version)).toEqual([3, 4]);
    expect(one.body.steps[1].readModel.events).toBe(4);
    expect(one.body.steps[1].readModel.cases.byDecision.payment_plan).toBe(1);
    expect(one.body.steps[1].readModel.cases.cases).toBe(1);
  });

  it('GET /replay?at= starts at the first event at or after a time, with the model of every event before it', async () => {
    const all = (await get(`${serve.url}/replay?category=case&from=0&limit=500`)).body.steps as { position: number; timestamp: string; readModel: unknown }[];
    expect(all).toHaveLength(CASES * 4);
    // A time taken from an event in the middle: the first event at or after it (an earlier one may share its millisecond).
    const at = new Date(Date.parse(all[6]!.timestamp)).toISOString();
    const first = all.findIndex((s) => Date.parse(s.timestamp) >= Date.parse(at));
    expect(first).toBeGreaterThan(0);
    const page = await get(`${serve.url}/replay?category=case&at=${encodeURIComponent(at)}&limit=3`);
    expect(page.status).toBe(200);
    expect(page.body.seek).toEqual({ at, position: all[first]!.position });
    expect(page.body.steps.map((s: { position: number }) => s.position)).toEqual(all.slice(first, first + 3).map((s) => s.position));
    expect(page.body.steps[0].readModel).toEqual(all[first]!.readModel);
    // The next page by position continues from there.
    const next = await get(`${serve.url}/replay?category=case&from=${page.body.next}&limit=1`);
    expect(next.body.steps[0].readModel).toEqual(all[first + 3]!.readModel);
    // A zone other than Z means the same instant.
    const shifted = new Date(Date.parse(at) + 3_600_000).toISOString().replace('Z', '+01:00');
    expect((await get(`${serve.url}/replay?category=case&at=${encodeURIComponent(shifted)}&limit=1`)).body.seek.position).toBe(all[first]!.position);

    const early = await get(`${serve.url}/replay?category=case&at=2000-01-01T00:00:00Z&limit=1`);
    expect(early.body.steps[0].position).toBe(all[0]!.position);
    const late = await get(`${serve.url}/replay?category=case&at=2999-01-01T00:00:00Z`);
    expect(late.body).toMatchObject({ steps: [], done: true, next: all[all.length - 1]!.position, seek: { position: null } });

    const stream = (await get(`${serve.url}/replay?stream=${caseStreams[2]}&from=0`)).body.steps as { version: number; timestamp: string }[];
    const inStream = await get(`${serve.url}/replay?stream=${caseStreams[2]}&at=${encodeURIComponent(stream[2]!.timestamp)}`);
    const v = stream.find((s) => Date.parse(s.timestamp) >= Date.parse(stream[2]!.timestamp))!.version;
    expect(inStream.body.steps[0].version).toBe(v);
    expect(inStream.body.steps[0].readModel.events).toBe(v);
  });

  it('GET /metrics is Prometheus text with the events the subscription handled', async () => {
    const res = await fetch(`${serve.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(new RegExp(`event_processed_total\\{[^}]*backend="${name}"[^}]*\\} \\d+`));
    expect(text).toMatch(/event_queue_depth\{backend="[a-z]+"\} \d+/);
  });

  it('a restart with the same durable subscription shows the same history, each event once', async () => {
    const before = (await get(`${serve.url}/stats`)).body;
    const second = await startServe(store, { host: '127.0.0.1', port: 0, subscription: uniqueName('sub2') });
    try {
      expect((await get(`${second.url}/stats`)).body).toEqual(before);
    } finally {
      await second.close();
    }
    await serve.close();
    serve = await startServe(store, { host: '127.0.0.1', port: 0, subscription });
    const fresh = freshDocument();
    await store.appendToStream(fresh.stream, [fresh.event], { expectedVersion: 'no_stream' });
    await waitFor('the new event after the restart', async () => (await get(`${serve.url}/events?limit=1`)).body.events[0]?.eventId === fresh.event.id);
    const after = (await get(`${serve.url}/stats`)).body;
    expect(after.total).toBe(before.total + 1);
  });
});
