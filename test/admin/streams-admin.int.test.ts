/**
 * Stream administration on both real backends, one suite run per backend: ls counts categories / JetStream
 * streams and their event streams, info shows one unit and one event stream, purge deletes the events and
 * keeps the stream and its consumers (versions start again at 1), rm deletes the stream with its consumers /
 * subscriptions, and an unknown NAME is a ConfigError listing what exists. Servers: the managed test servers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type EventStore } from '../../src/core/event-store.ts';
import { openAdmin, type AdminBackend } from '../../src/runners/admin/open-admin.ts';
import type { StoreAdmin } from '../../src/store/index.ts';
import { uniqueName } from '../support/servers.ts';
import { cleanNamespace, event, openStore, urlsFor } from './support.ts';

const BACKENDS: AdminBackend[] = ['postgres', 'jetstream'];

describe.each(BACKENDS)('streams admin on %s', (backend) => {
  const namespace = uniqueName('adm');
  let store: EventStore;
  let admin: StoreAdmin;
  // JetStream names its units <ns>-<category>; PostgreSQL by the category itself.
  const unit = (category: string) => (backend === 'jetstream' ? `${namespace}-${category}` : category);

  beforeAll(async () => {
    store = await openStore(backend, namespace);
    await store.appendToStream('order-1', [event(), event(), event()], { expectedVersion: 'no_stream' });
    await store.appendToStream('order-2', [event(), event()], { expectedVersion: 'no_stream' });
    await store.appendToStream('invoice-1', [event('invoice.issued')], { expectedVersion: 'no_stream' });
    // A durable subscription on `order`: purge keeps it, rm removes it.
    const sub = await store.subscribe('admin_sub', () => {}, { category: 'order' });
    await sub.close();
    admin = await openAdmin(backend, { namespace, ...urlsFor(backend) });
  });
  afterAll(async () => {
    await admin?.close();
    await store?.close();
    await cleanNamespace(namespace);
  });

  it('ls lists the categories with their event streams, events, positions and consumers', async () => {
    const listing = await admin.list();
    expect(listing.namespace).toBe(namespace);
    const byName = new Map(listing.streams.map((s) => [s.name, s]));
    const order = byName.get(unit('order'));
    const invoice = byName.get(unit('invoice'));
    expect(order).toMatchObject({ kind: 'category', category: 'order', streams: 2, events: 5, consumers: 1 });
    expect(invoice).toMatchObject({ kind: 'category', category: 'invoice', streams: 1, events: 1, consumers: 0 });
    expect(order!.bytes).toBeGreaterThan(0);
    expect(order!.lastPosition).toBeGreaterThanOrEqual(order!.firstPosition);
    expect(order!.firstPosition).toBeGreaterThan(0);
    if (backend === 'postgres') {
      expect(order!.lastVersion).toBe(3);
      expect(listing.tables.map((t) => t.name)).toEqual(expect.arrayContaining(['events', 'streams', 'outbox', 'subscriptions']));
      expect(listing.tables.find((t) => t.name === 'events')!.bytes).toBeGreaterThan(0);
    } else {
      expect(order!.subjects).toEqual([`${namespace}.order.*`]);
      expect(order!.replicas).toBe(1);
      expect(order!.lastPosition - order!.firstPosition).toBe(4);
    }
  });

  it('info shows a unit (by its ls name or its category) and one event stream', async () => {
    const byUnit = await admin.info(unit('order'));
    expect(byUnit.summary).toMatchObject({ events: 5, streams: 2 });
    expect(byUnit.largest?.[0]).toMatchObject({ stream: 'order-1', events: 3 });
    expect((await admin.info('order')).summary?.events).toBe(5);
    const one = await admin.info('order-1');
    expect(one.eventStream).toMatchObject({ stream: 'order-1', events: 3, lastVersion: 3 });
    expect(one.eventStream!.lastPosition).toBeGreaterThan(one.eventStream!.firstPosition);
  });

  it('an unknown name is a ConfigError that lists what exists', async () => {
    await expect(admin.info('nosuch')).rejects.toThrow(ConfigError);
    await expect(admin.info('nosuch')).rejects.toThrow(new RegExp(`no .*"nosuch".*${unit('order')}`));
    await expect(admin.purge('order-99')).rejects.toThrow(ConfigError);
  });

  it('purge of one event stream deletes only its events; the stream starts again at version 1', async () => {
    const r = await admin.purge('order-2');
    expect(r.events).toBe(2);
    expect(await store.readStream('order-2')).toEqual([]);
    expect(await store.streamVersion('order-2')).toBe(0);
    expect((await store.readStream('order-1')).map((e) => e.version)).toEqual([1, 2, 3]);
    const again = await store.appendToStream('order-2', [event()], { expectedVersion: 'no_stream' });
    expect(again.streamVersion).toBe(1);
  });

  it('purge of a category deletes its events and keeps its consumers', async () => {
    const r = await admin.purge(unit('order'));
    expect(r.events).toBe(4);
    const order = (await admin.list()).streams.find((s) => s.name === unit('order'));
    expect(order?.events).toBe(0);
    // The durable subscription stays (JetStream also counts the store's own ordered read consumers).
    expect(order!.consumers).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify((await admin.info(unit('order'))).detail)).toContain('admin_sub');
    expect(await store.readStream('order-1')).toEqual([]);
    expect((await admin.list()).streams.find((s) => s.name === unit('invoice'))?.events).toBe(1);
  });

  it('rm deletes the category with its consumers, and leaves the others', async () => {
    const r = await admin.remove(unit('order'));
    expect(r.removed.join(' ')).toMatch(/admin_sub/);
    const names = (await admin.list()).streams.map((s) => s.name);
    expect(names).not.toContain(unit('order'));
    expect(names).toContain(unit('invoice'));
    await expect(admin.info(unit('order'))).rejects.toThrow(ConfigError);
  });
});

describe('streams admin on hybrid: the PostgreSQL categories plus the relay stream', () => {
  const namespace = uniqueName('admhy');
  let store: EventStore;
  let admin: StoreAdmin;

  beforeAll(async () => {
    store = await openStore('hybrid', namespace);
    await store.appendToStream('order-1', [event(), event()], { expectedVersion: 'no_stream' });
    admin = await openAdmin('hybrid', { namespace, ...urlsFor('hybrid') });
  });
  afterAll(async () => {
    await admin?.close();
    await store?.close();
    await cleanNamespace(namespace);
  });

  it('lists the category from PostgreSQL, <ns>-_deadletters and <ns>-_outbox from JetStream; purge by category acts on PostgreSQL', async () => {
    const listing = await admin.list();
    expect(listing.streams.map((s) => [s.name, s.kind])).toEqual([
      ['order', 'category'],
      [`${namespace}-_deadletters`, 'dead-letters'],
      [`${namespace}-_outbox`, 'relay'],
    ]);
    expect(listing.tables.map((t) => t.name)).toContain('events');
    expect((await admin.info(`${namespace}-_outbox`)).summary?.kind).toBe('relay');
    expect((await admin.purge('order')).events).toBe(2);
    expect(await store.readStream('order-1')).toEqual([]);
  });
});
