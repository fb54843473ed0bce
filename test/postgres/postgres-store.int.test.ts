/**
 * PostgreSQL adapter specifics beyond the shared contract: statement-level atomicity of a multi-event
 * append with its outbox rows, bad input and an unreachable server (typed errors, nothing written), and
 * `init` twice (the second changes nothing).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DuplicateEventError, StoreUnavailableError, VersionConflictError, type NewEvent } from '../../src/core/event-store.ts';
import { createPostgresStore, type PostgresStore } from '../../src/store/postgres/index.ts';
import { testPgUrl, uniqueName } from '../support/servers.ts';
import { dropSchema, withClient } from './helpers.ts';

const schema = uniqueName('pgs');
let store: PostgresStore;

const ev = (id: string, data: unknown = { id }): NewEvent => ({ id, type: 'case.intake', data });

async function counts(stream: string): Promise<{ events: number; outbox: number; streams: number }> {
  return withClient(async (c) => {
    const { rows } = await c.query(
      `SELECT (SELECT count(*) FROM "${schema}".events WHERE stream_id = $1)::int AS events,
              -- Every test names its event ids "<stream>-<n>", so this also counts rows an aborted append might have left.
              (SELECT count(*) FROM "${schema}".outbox WHERE id LIKE $1 || '-%')::int AS outbox,
              (SELECT count(*) FROM "${schema}".streams WHERE stream_id = $1)::int AS streams`,
      [stream],
    );
    return rows[0];
  });
}

beforeAll(async () => {
  store = await createPostgresStore({ pgUrl: testPgUrl(), schema, poolSize: 4 });
  await store.init();
});

afterAll(async () => {
  await store?.close();
  await dropSchema(schema);
});

describe('postgres adapter: init', () => {
  it('applies the migrations once; a second init reports everything unchanged', async () => {
    const other = uniqueName('pgi');
    const s = await createPostgresStore({ pgUrl: testPgUrl(), schema: other });
    try {
      const first = await s.migrate();
      expect(first.items.map((i) => i.status)).toEqual(['created', 'created', 'created']);
      const second = await s.migrate();
      expect(second.items.every((i) => i.status === 'unchanged')).toBe(true);
      expect(second.items.map((i) => i.name)).toEqual(first.items.map((i) => i.name));
    } finally {
      await s.close();
      await dropSchema(other);
    }
  });
});

describe('postgres adapter: atomic append with outbox', () => {
  it('writes one outbox row per event in the same statement', async () => {
    const stream = `case-${uniqueName('o')}`;
    await store.appendToStream(stream, [ev(`${stream}-1`), ev(`${stream}-2`), ev(`${stream}-3`)], { expectedVersion: 'no_stream' });
    expect(await counts(stream)).toEqual({ events: 3, outbox: 3, streams: 1 });
  });

  it('a multi-event append whose third event has an id stored elsewhere leaves no event, no outbox row, no stream', async () => {
    const taken = `taken-${uniqueName('x')}`;
    await store.appendToStream(`case-${uniqueName('other')}`, [ev(taken)]);
    const stream = `case-${uniqueName('atomic')}`;
    const batch = [ev(`${stream}-1`), ev(`${stream}-2`), ev(taken), ev(`${stream}-4`)];
    await expect(store.appendToStream(stream, batch, { expectedVersion: 'any' })).rejects.toBeInstanceOf(DuplicateEventError);
    expect(await counts(stream)).toEqual({ events: 0, outbox: 0, streams: 0 });
    // The stream is untouched: a fresh append starts at version 1.
    const ok = await store.appendToStream(stream, [ev(`${stream}-1`)], { expectedVersion: 'no_stream' });
    expect(ok.streamVersion).toBe(1);
  });

  it('a payload PostgreSQL cannot store (\\u0000 in the 2nd of 3 events) fails as a whole: ConfigError, nothing written', async () => {
    const stream = `case-${uniqueName('nul')}`;
    await store.appendToStream(stream, [ev(`${stream}-0`)]);
    const batch = [ev(`${stream}-1`), ev(`${stream}-2`, { text: 'a\u0000b' }), ev(`${stream}-3`)];
    await expect(store.appendToStream(stream, batch, { expectedVersion: 1 })).rejects.toBeInstanceOf(ConfigError);
    expect(await counts(stream)).toEqual({ events: 1, outbox: 1, streams: 1 });
    expect(await store.streamVersion(stream)).toBe(1);
  });

  it('a version conflict carries the actual version and writes nothing', async () => {
    const stream = `case-${uniqueName('v')}`;
    await store.appendToStream(stream, [ev(`${stream}-1`), ev(`${stream}-2`)]);
    const err = await store.appendToStream(stream, [ev(`${stream}-3`)], { expectedVersion: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VersionConflictError);
    expect(err).toMatchObject({ stream, expected: 1, actual: 2 });
    expect(await counts(stream)).toEqual({ events: 2, outbox: 2, streams: 1 });
  });
});

describe('postgres adapter: storage stats', () => {
  it('reports relation sizes and the WAL written since the store was opened', async () => {
    const before = await store.storageStats();
    const stream = `case-${uniqueName('wal')}`;
    await store.appendToStream(stream, Array.from({ length: 20 }, (_, i) => ev(`${stream}-w${i}`, { pad: 'x'.repeat(1000) })));
    const after = await store.storageStats();
    expect(after.events).toBe(before.events + 20);
    expect(after.detail.events_bytes).toBeGreaterThan(0);
    // 20 events of ~1 kB and their outbox rows: at least that much WAL.
    expect(after.detail.wal_bytes_since_open! - before.detail.wal_bytes_since_open!).toBeGreaterThan(20_000);
  });
});

describe('postgres adapter: bad input', () => {
  it('invalid stream name, event type or a non-serialisable payload: ConfigError naming the field, nothing written', async () => {
    const before = await store.storageStats();
    const stream = `case-${uniqueName('bad')}`;
    await expect(store.appendToStream('no dash here', [ev('b1')])).rejects.toThrow(/invalid stream name/);
    await expect(store.appendToStream(stream, [{ id: 'b2', type: 'Not A Type!', data: {} }])).rejects.toThrow(/events\[0\]\.type/);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(store.appendToStream(stream, [ev('b3'), ev('b4', circular)])).rejects.toThrow(/events\[1\]\.data/);
    await expect(store.appendToStream(stream, [ev('b5', { n: 10n })])).rejects.toBeInstanceOf(ConfigError);
    await expect(store.appendToStream(stream, [ev('b6')], { expectedVersion: -1 })).rejects.toBeInstanceOf(ConfigError);
    expect((await store.storageStats()).events).toBe(before.events);
    expect(await counts(stream)).toEqual({ events: 0, outbox: 0, streams: 0 });
  });

  it('a refused connection is StoreUnavailableError at once', async () => {
    // A port nothing listens on: find one by binding and closing it.
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const dead = await createPostgresStore({ pgUrl: `postgres://postgres@127.0.0.1:${port}/x`, schema, connectTimeoutMs: 1000 });
    try {
      const started = Date.now();
      await expect(dead.appendToStream('case-1', [ev('u1')])).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(dead.readStream('case-1')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(dead.init()).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await dead.close();
    }
  });

  it('a server that accepts but never answers is StoreUnavailableError after the connect timeout', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const dead = await createPostgresStore({ pgUrl: `postgres://postgres@127.0.0.1:${port}/x`, schema, connectTimeoutMs: 500 });
    try {
      const started = Date.now();
      await expect(dead.appendToStream('case-1', [ev('u2')])).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(2500);
    } finally {
      await dead.close();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
