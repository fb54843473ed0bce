/**
 * The TCP fault proxy (src/infra/fault-proxy.ts) in front of the shared test servers: each toxic acts on
 * real PostgreSQL and NATS connections, and healing lets the same connection (or a new one) work again.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createFaultProxy, proxiedUrl, type FaultProxy } from '../../src/infra/fault-proxy.ts';
import { waitFor } from '../../src/infra/process-registry.ts';
import { createStore } from '../../src/store/index.ts';
import { deleteStreams } from '../jetstream/helpers.ts';
import { dropSchema } from '../postgres/helpers.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function proxyFor(url: string): Promise<FaultProxy> {
  const u = new URL(url);
  const proxy = await createFaultProxy({ upstream: { host: u.hostname, port: Number(u.port) } });
  cleanups.push(() => proxy.close());
  return proxy;
}

async function pgClient(url: string, options: Partial<pg.ClientConfig> = {}): Promise<pg.Client & { errors: Error[] }> {
  const client = Object.assign(new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, ...options }), { errors: [] as Error[] });
  client.on('error', (err) => client.errors.push(err));
  cleanups.push(() => client.end());
  await client.connect();
  return client;
}

async function natsClient(url: string): Promise<NatsConnection> {
  // ignoreClusterUpdates: a client behind the proxy must never learn (and use) the server's own address.
  const nc = await connect({ servers: url, ignoreClusterUpdates: true, maxReconnectAttempts: 0, timeout: 5_000 });
  cleanups.push(() => nc.close());
  return nc;
}

/** 'pending' if `p` has not settled after `ms`: proof that a request hangs. */
async function stillPendingAfter(p: Promise<unknown>, ms: number): Promise<'settled' | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'pending'>((r) => (timer = setTimeout(() => r('pending'), ms)));
  const settled = p.then(
    () => 'settled' as const,
    () => 'settled' as const,
  );
  try {
    return await Promise.race([settled, pending]);
  } finally {
    clearTimeout(timer);
  }
}

function rawConnect(port: number): Promise<Socket & { received: Buffer[]; failure?: NodeJS.ErrnoException; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = Object.assign(netConnect({ host: '127.0.0.1', port }), { received: [] as Buffer[], failure: undefined as NodeJS.ErrnoException | undefined, ended: false });
    cleanups.push(async () => socket.destroy());
    socket.on('data', (b) => socket.received.push(b));
    socket.on('end', () => (socket.ended = true));
    socket.on('error', (err) => (socket.failure = err));
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('fault proxy in front of PostgreSQL', () => {
  it('passes traffic untouched without toxics, and proxiedUrl keeps user, database and query', async () => {
    const proxy = await proxyFor(testPgUrl());
    const url = proxiedUrl(`${testPgUrl()}?application_name=proxied`, proxy);
    expect(url).toContain(`127.0.0.1:${proxy.port}`);
    const client = await pgClient(url);
    const { rows } = await client.query("select current_setting('application_name') as app, repeat('x', 100000) as big");
    expect(rows[0].app).toBe('proxied');
    expect(rows[0].big).toHaveLength(100_000);
    expect(proxy.connections()).toHaveLength(1);
  });

  it('partition (timeout): a query on an open connection and a new connection hang, then both complete after heal', async () => {
    const proxy = await proxyFor(testPgUrl());
    const url = proxiedUrl(testPgUrl(), proxy);
    const client = await pgClient(url);
    await client.query('select 1');

    await proxy.add({ type: 'timeout' });
    const query = client.query('select 42 as answer');
    const fresh = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    fresh.on('error', () => {});
    cleanups.push(() => fresh.end());
    const connecting = fresh.connect();
    expect(await stillPendingAfter(query, 800)).toBe('pending');
    expect(await stillPendingAfter(connecting, 10)).toBe('pending');
    expect(client.errors).toEqual([]);

    await proxy.heal();
    expect((await query).rows).toEqual([{ answer: 42 }]); // the held bytes were delivered, not dropped
    await connecting;
    expect((await fresh.query('select 7 as n')).rows).toEqual([{ n: 7 }]);
  });

  it('partition with timeout > 0 closes the connection after that long', async () => {
    const proxy = await proxyFor(testPgUrl());
    const client = await pgClient(proxiedUrl(testPgUrl(), proxy));
    await proxy.add({ type: 'timeout', timeout: 300 });
    const started = performance.now();
    await expect(client.query('select 1')).rejects.toThrow(/terminated|closed|ECONNRESET/i);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('reset_peer: the client gets ECONNRESET on its open connection', async () => {
    const proxy = await proxyFor(testPgUrl());
    const client = await pgClient(proxiedUrl(testPgUrl(), proxy));
    await client.query('select 1');
    await proxy.add({ type: 'reset_peer' });
    await waitFor(() => client.errors.length > 0, 5_000);
    expect((client.errors[0] as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    await expect(client.query('select 1')).rejects.toThrow();
  });

  it('latency adds at least the configured delay to every round trip, and heal removes it', async () => {
    const proxy = await proxyFor(testPgUrl());
    const client = await pgClient(proxiedUrl(testPgUrl(), proxy));
    await client.query('select 1');
    await proxy.add({ type: 'latency', latency: 150, stream: 'both' });
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await client.query('select 1');
      expect(performance.now() - started).toBeGreaterThanOrEqual(300); // 150 ms each way
    }
    await proxy.heal();
    const started = performance.now();
    await client.query('select 1');
    expect(performance.now() - started).toBeLessThan(150);
  });

  it('bandwidth limits throughput to the configured rate', async () => {
    const proxy = await proxyFor(testPgUrl());
    const client = await pgClient(proxiedUrl(testPgUrl(), proxy));
    await proxy.add({ type: 'bandwidth', rate: 100 }); // 100 KB/s downstream
    const started = performance.now();
    const { rows } = await client.query("select repeat('x', 150000) as big");
    const seconds = (performance.now() - started) / 1000;
    expect(rows[0].big).toHaveLength(150_000);
    expect(seconds).toBeGreaterThanOrEqual(1.3); // 150 kB at 100 kB/s: 1.5 s (its first 100 ms piece leaves at once)
    expect(seconds).toBeLessThan(10);
  });

  it('limit_data closes the connection after N bytes', async () => {
    const proxy = await proxyFor(testPgUrl());
    const client = await pgClient(proxiedUrl(testPgUrl(), proxy));
    await proxy.add({ type: 'limit_data', bytes: 2_000 });
    await client.query("select repeat('x', 500)"); // under the limit
    await expect(client.query("select repeat('x', 10000)")).rejects.toThrow(/terminated|closed/i);
    await waitFor(() => proxy.connections().length === 0, 5_000);
    expect(proxy.connections()).toEqual([]);
  });

  it('refuse: new connections get ECONNREFUSED, open ones go on; heal accepts again on the same port', async () => {
    const proxy = await proxyFor(testPgUrl());
    const url = proxiedUrl(testPgUrl(), proxy);
    const open = await pgClient(url);
    await proxy.add({ type: 'refuse' });
    const refused = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
    refused.on('error', () => {});
    await expect(refused.connect()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect((await open.query('select 1 as n')).rows).toEqual([{ n: 1 }]);
    await proxy.heal();
    const again = await pgClient(url);
    expect((await again.query('select 2 as n')).rows).toEqual([{ n: 2 }]);
  });

  it('half_open one_way downstream: the server executes what the client sends, the client hears nothing until heal', async () => {
    const table = uniqueName('half');
    const direct = await pgClient(testPgUrl());
    await direct.query(`create table ${table} (id int)`);
    cleanups.push(() => pgClient(testPgUrl()).then((c) => c.query(`drop table if exists ${table}`)));
    const proxy = await proxyFor(testPgUrl());
    const client = await pgClient(proxiedUrl(testPgUrl(), proxy));
    await proxy.add({ type: 'half_open', mode: 'one_way', stream: 'downstream' });
    const insert = client.query(`insert into ${table} values (1)`);
    expect(await waitFor(async () => (await direct.query(`select count(*)::int as n from ${table}`)).rows[0].n === 1, 5_000)).toBe(true);
    expect(await stillPendingAfter(insert, 300)).toBe('pending');
    await proxy.heal();
    await insert;
  });

  it('half_open client_closed: the client loses its connection while the server keeps the session, until heal', async () => {
    const app = uniqueName('orphan');
    const direct = await pgClient(testPgUrl());
    const sessions = async () => (await direct.query('select count(*)::int as n from pg_stat_activity where application_name = $1', [app])).rows[0].n as number;
    const proxy = await proxyFor(testPgUrl());
    const client = await pgClient(proxiedUrl(testPgUrl(), proxy), { application_name: app });
    await client.query('select 1');
    expect(await sessions()).toBe(1);

    await proxy.add({ type: 'half_open', mode: 'client_closed' });
    await expect(client.query('select 1')).rejects.toThrow();
    expect(proxy.connections()).toEqual([expect.objectContaining({ abandoned: true })]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await sessions()).toBe(1); // the server still holds the session

    await proxy.heal();
    expect(await waitFor(async () => (await sessions()) === 0, 5_000)).toBe(true);
    expect(proxy.connections()).toEqual([]);
  });
});

describe('fault proxy in front of NATS', () => {
  it('partition: a JetStream publish through the proxy does not complete while it is on, and is acknowledged after heal', async () => {
    const subject = uniqueName('fp');
    const direct = await natsClient(testNatsUrl());
    const jsm = await jetstreamManager(direct);
    await jsm.streams.add({ name: subject, subjects: [`${subject}.>`] });
    cleanups.push(() => jsm.streams.delete(subject));

    const proxy = await proxyFor(testNatsUrl());
    const nc = await natsClient(proxiedUrl(testNatsUrl(), proxy));
    const js = jetstream(nc, { timeout: 10_000 });
    expect((await js.publish(`${subject}.a`, 'before')).seq).toBe(1);

    await proxy.add({ type: 'timeout' });
    const publish = js.publish(`${subject}.a`, 'during');
    expect(await stillPendingAfter(publish, 800)).toBe('pending');
    await proxy.heal();
    expect((await publish).seq).toBe(2);
    expect((await js.publish(`${subject}.a`, 'after')).seq).toBe(3);
  });

  it('reset_peer on a raw connection: the socket errors with ECONNRESET', async () => {
    const proxy = await proxyFor(testNatsUrl());
    const socket = await rawConnect(proxy.port);
    expect(await waitFor(() => Buffer.concat(socket.received).toString().startsWith('INFO '), 5_000)).toBe(true);
    await proxy.add({ type: 'reset_peer', timeout: 100 });
    expect(await waitFor(() => socket.failure !== undefined, 5_000)).toBe(true);
    expect(socket.failure?.code).toBe('ECONNRESET');
  });

  it('slicer: the server greeting arrives in small pieces, intact', async () => {
    const proxy = await proxyFor(testNatsUrl());
    await proxy.add({ type: 'slicer', average_size: 16, size_variation: 4, delay: 10_000 });
    const socket = await rawConnect(proxy.port);
    expect(await waitFor(() => Buffer.concat(socket.received).toString().includes('\r\n'), 10_000)).toBe(true);
    const line = Buffer.concat(socket.received).toString();
    expect(JSON.parse(line.slice(5, line.indexOf('\r\n')))).toHaveProperty('server_id');
    // A greeting of several hundred bytes in pieces of at most 20, 10 ms apart; the client's kernel
    // may merge a few pieces into one read, never all of them.
    expect(socket.received.length).toBeGreaterThan(line.length / 40);
  });

  it('limit_data: exactly N bytes reach the client, then the connection is closed', async () => {
    const proxy = await proxyFor(testNatsUrl());
    await proxy.add({ type: 'limit_data', bytes: 100 }); // the server's INFO greeting is longer
    const socket = await rawConnect(proxy.port);
    expect(await waitFor(() => socket.ended || socket.destroyed, 5_000)).toBe(true);
    const got = Buffer.concat(socket.received).toString();
    expect(got).toHaveLength(100);
    expect(got.startsWith('INFO {')).toBe(true);
  });

  it('half_open one_way upstream: the server greeting still arrives, a PING gets no PONG until heal', async () => {
    const proxy = await proxyFor(testNatsUrl());
    await proxy.add({ type: 'half_open', mode: 'one_way', stream: 'upstream' });
    const socket = await rawConnect(proxy.port);
    const text = () => Buffer.concat(socket.received).toString();
    // The server is dialled only when upstream may flow: while upstream is held, not even the greeting.
    expect(await waitFor(() => text().length > 0, 300)).toBe(false);
    await proxy.heal();
    expect(await waitFor(() => text().startsWith('INFO '), 5_000)).toBe(true);
    socket.write('CONNECT {"verbose":false,"pedantic":false}\r\n');
    await proxy.add({ type: 'half_open', mode: 'one_way', stream: 'upstream' });
    socket.write('PING\r\n');
    expect(await waitFor(() => text().includes('PONG'), 500)).toBe(false);
    await proxy.heal();
    expect(await waitFor(() => text().includes('PONG'), 5_000)).toBe(true);
  });
});

describe('fault proxy lifecycle', () => {
  it('close() heals, stops listening and ends every connection; it is idempotent', async () => {
    const proxy = await proxyFor(testNatsUrl());
    const socket = await rawConnect(proxy.port);
    await proxy.add({ type: 'latency', latency: 10_000 });
    await proxy.add({ type: 'reset_peer', timeout: 60_000 });
    await proxy.close();
    await proxy.close();
    expect(proxy.toxics()).toEqual([]);
    expect(proxy.connections()).toEqual([]);
    expect(await waitFor(() => socket.destroyed || socket.ended, 5_000)).toBe(true);
    await expect(rawConnect(proxy.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(proxy.add({ type: 'refuse' })).rejects.toThrow(/closed/);
  });
});

describe('event stores through the fault proxy', () => {
  it.each([
    { backend: 'postgres' as const, url: () => testPgUrl(), drop: (ns: string) => dropSchema(ns) },
    { backend: 'jetstream' as const, url: () => testNatsUrl(), drop: (ns: string) => deleteStreams(testNatsUrl(), ns) },
  ])('$backend: an append during a partition does not complete; after heal it does, and the store goes on', async ({ backend, url, drop }) => {
    const namespace = uniqueName('fps');
    cleanups.push(() => drop(namespace));
    const proxy = await proxyFor(url());
    const through = proxiedUrl(url(), proxy);
    const store = await createStore(backend, { pgUrl: through, natsUrl: through, namespace });
    cleanups.push(() => store.close());
    await store.appendToStream('order-1', [{ id: 'p1', type: 'order.placed', data: {} }], { expectedVersion: 'no_stream' });

    await proxy.add({ type: 'timeout' });
    const append = store.appendToStream('order-1', [{ id: 'p2', type: 'order.placed', data: {} }], { expectedVersion: 1 });
    expect(await stillPendingAfter(append, 800)).toBe('pending');
    await proxy.heal();
    expect((await append).streamVersion).toBe(2);
    await store.appendToStream('order-1', [{ id: 'p3', type: 'order.placed', data: {} }], { expectedVersion: 2 });
    expect((await store.readStream('order-1')).map((e) => e.id)).toEqual(['p1', 'p2', 'p3']);
  });
});
