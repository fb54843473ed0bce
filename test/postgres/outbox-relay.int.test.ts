/**
 * The outbox relay: parallel relays split the rows and never publish one twice; a relay wakes on the
 * NOTIFY of an append (its poll interval is far longer than the test); a failing sink leaves rows
 * unpublished with attempts and last_error, and they go out on a later round.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/core/event-store.ts';
import { createOutboxRelay, createPostgresStore, type PostgresStore } from '../../src/store/postgres/index.ts';
import { waitFor } from '../contract/event-store-contract.ts';
import { recordingSink } from '../support/recording-sink.ts';
import { testPgUrl, uniqueName } from '../support/servers.ts';
import { dropSchema, withClient } from './helpers.ts';

let store: PostgresStore;
const schemas: string[] = [];

async function freshStore(): Promise<PostgresStore> {
  const schema = uniqueName('pgo');
  schemas.push(schema);
  const s = await createPostgresStore({ pgUrl: testPgUrl(), schema });
  await s.init();
  return s;
}

const unpublished = (schema: string) =>
  withClient(async (c) => (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".outbox WHERE NOT published`)).rows[0]!.n);

beforeAll(async () => {
  store = await freshStore();
});

afterAll(async () => {
  await store?.close();
  for (const s of schemas) await dropSchema(s);
});

describe('outbox relay', () => {
  it('three relays in parallel publish every row exactly once', async () => {
    const s = await freshStore();
    try {
      const ids: string[] = [];
      for (let stream = 0; stream < 20; stream++) {
        const events: NewEvent[] = Array.from({ length: 10 }, (_, i) => ({ id: `r${stream}-${i}`, type: 'outbox.tested', data: { i } }));
        ids.push(...events.map((e) => e.id));
        await s.appendToStream(`relay-${stream}`, events);
      }
      const sinks = [recordingSink({ delayMs: 5 }), recordingSink({ delayMs: 5 }), recordingSink({ delayMs: 5 })];
      const relays = sinks.map((sink) => createOutboxRelay({ pgUrl: testPgUrl(), schema: s.schema, sink, batchSize: 7, pollIntervalMs: 50 }));
      try {
        await waitFor('all rows published', async () => (await unpublished(s.schema)) === 0, 20_000);
      } finally {
        await Promise.all(relays.map((r) => r.close()));
      }
      const all = sinks.flatMap((sink) => sink.published.map((r) => r.id));
      expect(all.length).toBe(ids.length); // none twice
      expect([...all].sort()).toEqual([...ids].sort()); // none missing
      expect(sinks.filter((sink) => sink.published.length > 0).length).toBeGreaterThan(1); // they really competed
      const row = sinks.flatMap((sink) => sink.published).find((r) => r.id === 'r3-4')!;
      expect(row).toMatchObject({ aggregateType: 'relay', aggregateId: '3', type: 'outbox.tested', payload: { i: 4 } });
      expect(row.event).toMatchObject({ id: 'r3-4', stream: 'relay-3', version: 5, data: { i: 4 } });
    } finally {
      await s.close();
    }
  });

  it('wakes on the NOTIFY of an append, not on its (long) poll interval', async () => {
    const sink = recordingSink();
    const relay = createOutboxRelay({ pgUrl: testPgUrl(), schema: store.schema, sink, pollIntervalMs: 60_000 });
    try {
      // Let the first (empty) round finish and the relay go to sleep for its 60 s poll.
      await waitFor('relay idle', async () => (await unpublished(store.schema)) === 0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await store.appendToStream('wake-1', [{ id: 'wake-1-a', type: 'outbox.tested', data: {} }]);
      await waitFor('published after the NOTIFY', () => sink.published.length === 1, 5_000);
    } finally {
      await relay.close();
    }
  });

  it('a failing sink leaves rows unpublished with attempts and last_error; a later round publishes them', async () => {
    const s = await freshStore();
    try {
      await s.appendToStream('fail-1', [{ id: 'fail-1-a', type: 'outbox.tested', data: {} }]);
      const sink = recordingSink();
      sink.failNext(1);
      const relay = createOutboxRelay({ pgUrl: testPgUrl(), schema: s.schema, sink, autoStart: false });
      try {
        expect(await relay.runOnce()).toBe(0);
        const row = await withClient(async (c) => (await c.query(`SELECT published, attempts, last_error FROM "${s.schema}".outbox`)).rows[0]);
        expect(row).toEqual({ published: false, attempts: 1, last_error: 'sink unavailable (test)' });
        expect(await relay.runOnce()).toBe(1);
        expect(await relay.runOnce()).toBe(0);
        const after = await withClient(async (c) => (await c.query(`SELECT published, attempts, last_error FROM "${s.schema}".outbox`)).rows[0]);
        expect(after).toEqual({ published: true, attempts: 2, last_error: null });
        expect(sink.published.map((r) => r.id)).toEqual(['fail-1-a']);
      } finally {
        await relay.close();
      }
    } finally {
      await s.close();
    }
  });
});
