/**
 * `eventbench serve --token` (docs/security.md §serve) on the PostgreSQL backend: every route but
 * `/health` answers 401 without the bearer token or with another; with it, 200. The live page opened as
 * `/?token=` sets an HttpOnly cookie and redirects to `/`, after which its scripts and the event stream
 * are served; `/events/stream?token=` works for an EventSource, which cannot set headers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/core/event-store.ts';
import { startServe, type ServeHandle } from '../../src/runners/serve/run.ts';
import { dropSchema } from '../postgres/helpers.ts';
import { appendDocuments, openTestStore } from '../serve/fixtures.ts';
import { uniqueName } from '../support/servers.ts';

const TOKEN = `t0k3n-${uniqueName('serve')}`;
const ROUTES = ['/', '/app.js', '/style.css', '/events', '/events/system/paperless', '/events/type/uploaded', '/stats', '/metrics', '/replay?category=case'];

describe('eventbench serve with a bearer token', () => {
  const namespace = uniqueName('servetok');
  let store: EventStore;
  let serve: ServeHandle;
  beforeAll(async () => {
    store = await openTestStore('postgres', namespace);
    await appendDocuments(store, 3);
    serve = await startServe(store, { host: '127.0.0.1', port: 0, subscription: uniqueName('sub'), token: TOKEN });
  }, 60_000);
  afterAll(async () => {
    await serve?.close();
    await store?.close();
    await dropSchema(namespace);
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${serve.url}${path}`, { headers, redirect: 'manual' });

  it('answers /health without a token', async () => {
    expect((await get('/health')).status).toBe(200);
  });

  it('answers 401 on every other route without the token, or with another one', async () => {
    for (const route of [...ROUTES, '/events/stream']) {
      const none = await get(route);
      expect(none.status, route).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const body = await none.text();
      expect(body).not.toContain(TOKEN);
      expect((await get(route, { authorization: `Bearer ${TOKEN}x` })).status, route).toBe(401);
    }
    // ?token= is for the page and the stream only: an API route still wants the header.
    expect((await get(`/events?token=${TOKEN}`)).status).toBe(401);
  });

  it('answers 200 with Authorization: Bearer <token>', async () => {
    for (const route of ROUTES) {
      const res = await get(route, { authorization: `Bearer ${TOKEN}` });
      expect(res.status, route).toBe(200);
      await res.body?.cancel();
    }
    const events = (await (await get('/events?limit=10', { authorization: `Bearer ${TOKEN}` })).json()) as { count: number };
    expect(events.count).toBe(3);
  });

  it('lets the live page in with ?token= (a cookie, then a redirect), and an EventSource with ?token=', async () => {
    const opened = await get(`/?token=${encodeURIComponent(TOKEN)}`);
    expect(opened.status).toBe(303);
    expect(opened.headers.get('location')).toBe('/');
    const cookie = opened.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    const pair = cookie.split(';')[0]!;
    for (const route of ['/', '/app.js', '/stats', '/events/stream']) {
      const res = await get(route, { cookie: pair });
      expect(res.status, route).toBe(200);
      await res.body?.cancel();
    }
    const stream = await get(`/events/stream?token=${encodeURIComponent(TOKEN)}`);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/text\/event-stream/);
    await stream.body?.cancel();
  });
});
