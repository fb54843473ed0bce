/**
 * The raw-driver baselines do the adapters' work with the driver alone: raw-postgres writes the rows the
 * postgres adapter writes (events, outbox, stream version) and raw-jetstream publishes the messages the
 * jetstream adapter publishes (subject, body, headers); both check optimistic concurrency like their
 * adapter; catch-up reads return what was written; what they do not offer fails clearly.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DuplicateEventError, VersionConflictError, type EventStore, type NewEvent } from '../../src/core/event-store.ts';
import { createStore } from '../../src/store/index.ts';
import { createPostgresStore } from '../../src/store/postgres/index.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';

const opened: EventStore[] = [];
afterAll(async () => {
  for (const s of opened) await s.close();
});

/** The same event but for its id: explicit timestamp and correlation, so rows can be compared column by column. */
function event(id: string, extra: Partial<NewEvent> = {}): NewEvent {
  return { id, type: 'case.intake', data: { case_id: 'c-1', amount: 1250.5, notes: 'één' }, metadata: { source: 'test' }, timestamp: '2026-12-04T10:00:00.000Z', correlationId: 'corr-1', causationId: 'cause-1', aggregateId: 'agg-1', ...extra };
}

describe('raw-postgres', () => {
  it('writes the adapter rows in one statement, checks the expected version, and reads them back', async () => {
    const namespace = uniqueName('rawpg');
    const adapter = await createPostgresStore({ pgUrl: testPgUrl(), schema: namespace });
    opened.push(adapter);
    await adapter.init(); // the tables the baseline writes into
    const raw = await createStore('raw-postgres', { pgUrl: testPgUrl(), namespace });
    opened.push(raw);

    const a = await adapter.appendToStream('case-a', [event('ea1')], { expectedVersion: 'no_stream' });
    const r = await raw.appendToStream('case-b', [event('eb1')], { expectedVersion: 'no_stream' });
    expect(r).toEqual({ streamVersion: 1, positions: [a.positions[0]! + 1], duplicate: false });

    const columns = `category, version, type, data, metadata, "timestamp", correlation_id, causation_id, aggregate_id, aggregate_type`;
    const rows = await adapter.pool.query(`SELECT stream_id, ${columns} FROM "${namespace}".events ORDER BY position`);
    const [ra, rb] = rows.rows as Record<string, unknown>[];
    expect({ ...rb, stream_id: 'x' }).toEqual({ ...ra, stream_id: 'x' });
    const outbox = await adapter.pool.query(`SELECT id, aggregate_type, aggregate_id, type, payload FROM "${namespace}".outbox ORDER BY position`);
    expect(outbox.rows.map((o: { id: string }) => o.id)).toEqual(['ea1', 'eb1']);
    expect({ ...outbox.rows[1], id: 'x' }).toEqual({ ...outbox.rows[0], id: 'x' });

    // Optimistic concurrency as the adapter: a stale version is a conflict carrying the actual one.
    await expect(raw.appendToStream('case-b', [event('eb2')], { expectedVersion: 0 })).rejects.toMatchObject({ name: 'VersionConflictError', actual: 1 });
    await expect(raw.appendToStream('case-b', [event('eb2')], { expectedVersion: 5 })).rejects.toBeInstanceOf(VersionConflictError);
    await expect(raw.appendToStream('case-new', [event('en1')], { expectedVersion: 'exists' })).rejects.toMatchObject({ actual: 0 });
    const batch = await raw.appendToStream('case-b', [event('eb2'), event('eb3'), event('eb4')], { expectedVersion: 1 });
    expect(batch.streamVersion).toBe(4);
    expect(batch.positions).toHaveLength(3);
    expect(await raw.appendToStream('case-b', [event('eb5')], { expectedVersion: 'any' })).toMatchObject({ streamVersion: 5 });
    await expect(raw.appendToStream('case-c', [event('ea1')])).rejects.toBeInstanceOf(DuplicateEventError);

    // The adapter reads the baseline's stream as its own; the baseline's catch-up reads everything once, in order.
    const viaAdapter = await adapter.readStream('case-b');
    expect(viaAdapter.map((e) => [e.id, e.version])).toEqual([['eb1', 1], ['eb2', 2], ['eb3', 3], ['eb4', 4], ['eb5', 5]]);
    expect(viaAdapter[0]).toMatchObject({ correlationId: 'corr-1', causationId: 'cause-1', aggregateType: 'case', metadata: { source: 'test' } });
    const all = await raw.readAll({ fromPosition: 0 });
    expect(all.map((e) => e.id)).toEqual(['ea1', 'eb1', 'eb2', 'eb3', 'eb4', 'eb5']);
    expect(await raw.readAll({ fromPosition: all[2]!.position, limit: 2 })).toEqual(all.slice(3, 5));
    expect(await raw.readStream('case-b', { fromVersion: 4 })).toEqual(viaAdapter.slice(3));
    expect(await raw.streamVersion('case-b')).toBe(5);

    await expect(raw.subscribe('s', () => {})).rejects.toThrow(/raw-driver baseline.*does not offer subscriptions/);
    await expect(raw.storageStats()).rejects.toBeInstanceOf(ConfigError);
  });

  it('refuses clearly when the adapter tables are missing', async () => {
    await expect(createStore('raw-postgres', { pgUrl: testPgUrl(), namespace: uniqueName('rawpg_none') })).rejects.toThrow(/postgres backend's tables/);
  });
});

describe('raw-jetstream', () => {
  it('publishes the adapter message (subject, body, headers), checks the expected version, and replays the category', async () => {
    const namespace = uniqueName('rawjs');
    const adapter = await createStore('jetstream', { natsUrl: testNatsUrl(), namespace });
    opened.push(adapter);
    const raw = await createStore('raw-jetstream', { natsUrl: testNatsUrl(), namespace });
    opened.push(raw);

    // The category stream is the adapter's: the baseline refuses to create it.
    await expect(raw.appendToStream('case-b', [event('eb0')])).rejects.toThrow(/jetstream backend's stream/);
    const a = await adapter.appendToStream('case-a', [event('ea1')], { expectedVersion: 'no_stream' });
    const r = await raw.appendToStream('case-b', [event('eb1')], { expectedVersion: 'no_stream' });
    expect(r).toEqual({ streamVersion: 1, positions: [a.positions[0]! + 1], duplicate: false });

    const nc = await connect({ servers: testNatsUrl() });
    try {
      const jsm = await jetstreamManager(nc);
      const stream = `${namespace}-case`;
      const ma = await jsm.streams.getMessage(stream, { last_by_subj: `${namespace}.case.a` });
      const mb = await jsm.streams.getMessage(stream, { last_by_subj: `${namespace}.case.b` });
      expect(new TextDecoder().decode(mb!.data).replace('"eb1"', '"ID"')).toBe(new TextDecoder().decode(ma!.data).replace('"ea1"', '"ID"'));
      const headers = (m: typeof ma) => Object.fromEntries(m!.header!.keys().map((k) => [k, m!.header!.get(k)]));
      expect(headers(mb)).toEqual({ ...headers(ma), 'Nats-Msg-Id': 'eb1' });
      expect(Object.keys(headers(ma)).sort()).toEqual(['Eventbench-Version', 'Nats-Expected-Last-Subject-Sequence', 'Nats-Msg-Id']);

      // A second event's expectation is the first one's sequence, as the adapter's.
      await raw.appendToStream('case-b', [event('eb2')], { expectedVersion: 1 });
      const mb2 = await jsm.streams.getMessage(stream, { last_by_subj: `${namespace}.case.b` });
      expect(mb2!.header!.get('Nats-Expected-Last-Subject-Sequence')).toBe(String(mb!.seq));
      expect(mb2!.header!.get('Eventbench-Version')).toBe('2');
    } finally {
      await nc.close();
    }

    await expect(raw.appendToStream('case-b', [event('eb3')], { expectedVersion: 1 })).rejects.toMatchObject({ name: 'VersionConflictError', actual: 2 });
    // Another writer (the adapter) moved the stream on: the baseline's cached tip is stale, the server says so.
    await adapter.appendToStream('case-b', [event('eb3')], { expectedVersion: 2 });
    await expect(raw.appendToStream('case-b', [event('eb4')], { expectedVersion: 2 })).rejects.toMatchObject({ name: 'VersionConflictError', actual: 3 });
    expect(await raw.appendToStream('case-b', [event('eb4'), event('eb5')], { expectedVersion: 3 })).toMatchObject({ streamVersion: 5 });
    expect(await raw.streamVersion('case-b')).toBe(5);
    expect((await adapter.readStream('case-b')).map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
    // A multi-event append asks first whether any id is stored, as the adapter does, so a chain never
    // stops half-way at a stored id: a clash publishes nothing, a retry of the whole append is a duplicate.
    await expect(raw.appendToStream('case-b', [event('eb6'), event('eb2')], { expectedVersion: 5 })).rejects.toBeInstanceOf(DuplicateEventError);
    expect(await raw.appendToStream('case-b', [event('eb4'), event('eb5')], { expectedVersion: 3 })).toMatchObject({ streamVersion: 5, duplicate: true });
    expect(await raw.streamVersion('case-b')).toBe(5);

    const all = await raw.readAll({ category: 'case' });
    expect(all.map((e) => e.id)).toEqual(['ea1', 'eb1', 'eb2', 'eb3', 'eb4', 'eb5']);
    expect(all[1]).toMatchObject({ stream: 'case-b', version: 1, correlationId: 'corr-1', data: event('x').data });
    expect((await raw.readAll({ category: 'case', fromPosition: all[1]!.position, limit: 2 })).map((e) => e.id)).toEqual(['eb2', 'eb3']);
    expect(await raw.readAll({ category: 'case', fromPosition: all[5]!.position })).toEqual([]);
    // Paging on from where the last page ended reads on through one consumer, and misses nothing.
    const paged: string[] = [];
    for (let from = 0, i = 0; i < 10; i++) {
      const page = await raw.readAll({ category: 'case', fromPosition: from, limit: 4 });
      if (page.length === 0) break;
      paged.push(...page.map((e) => e.id));
      from = page[page.length - 1]!.position;
    }
    expect(paged).toEqual(all.map((e) => e.id));
    await expect(raw.readAll()).rejects.toThrow(/one category at a time/);
    await expect(raw.readStream('case-b')).rejects.toThrow(/does not offer readStream/);
  });
});
