/**
 * Process faults through the fault timeline (src/runners/chaos/faults.ts) on managed servers of this
 * file's own (the shared ones must not be killed): a kill kills every process of the server and the store
 * reports it unavailable, the restart brings the same data back; a pause blocks requests until the
 * resume; pg_terminate_backend ends only the harness's sessions; an aborted timeline undoes what is on.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError, type EventStore } from '../../src/core/event-store.ts';
import { startManagedNats } from '../../src/infra/managed-nats.ts';
import { startManagedPostgres } from '../../src/infra/managed-postgres.ts';
import { isAlive, processTree, waitFor } from '../../src/infra/process-registry.ts';
import type { ServerHandle } from '../../src/infra/server-handle.ts';
import { createFaultProxy, proxiedUrl } from '../../src/infra/fault-proxy.ts';
import { parseFaultTimeline, runFaultTimeline, type NemesisEvent } from '../../src/runners/chaos/faults.ts';
import { createStore } from '../../src/store/index.ts';
import { uniqueName } from '../support/servers.ts';

/** 'pending' if `p` has not settled after `ms`. */
async function stillPendingAfter(p: Promise<unknown>, ms: number): Promise<'settled' | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'pending'>((r) => (timer = setTimeout(() => r('pending'), ms)));
  try {
    return await Promise.race([p.then(() => 'settled' as const, () => 'settled' as const), pending]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `events` holds an event matching `match` (bounded). */
async function seen(events: NemesisEvent[], match: Partial<NemesisEvent>): Promise<NemesisEvent> {
  const find = () => events.find((e) => Object.entries(match).every(([k, v]) => e[k as keyof NemesisEvent] === v));
  expect(await waitFor(() => find() !== undefined, 15_000)).toBe(true);
  return find()!;
}

describe('process faults on a managed PostgreSQL', () => {
  let server: ServerHandle;
  let store: EventStore;
  const app = uniqueName('harness');
  beforeAll(async () => {
    server = await startManagedPostgres();
    // The harness's sessions carry an application_name of their own, set in their URL.
    store = await createStore('postgres', { pgUrl: `${server.url}?application_name=${app}`, namespace: uniqueName('pf'), settings: { connectTimeoutMs: 2_000 } });
  });
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  it('kill: every server process is gone and the store reports unavailable; the restart brings the same data back', async () => {
    await store.appendToStream('order-1', [{ id: 'k1', type: 'order.placed', data: { n: 1 } }], { expectedVersion: 'no_stream' });
    const pid = server.pid;
    const tree = processTree(pid);
    const events: NemesisEvent[] = [];
    const run = runFaultTimeline(parseFaultTimeline([{ at: 0, duration: 1_500, fault: { kind: 'kill', target: 'postgres' } }]), { postgres: { server } }, { onEvent: (e) => events.push(e) });

    const start = await seen(events, { phase: 'start' });
    expect(start.detail).toEqual({ pid });
    for (const p of tree) expect(isAlive(p), `pid ${p} of the killed server`).toBe(false);
    expect(server.state).toBe('down');
    await expect(store.readStream('order-1')).rejects.toBeInstanceOf(StoreUnavailableError);

    const result = await run;
    expect(result.completed).toBe(true);
    expect(server.state).toBe('running');
    expect(server.pid).not.toBe(pid);
    expect(result.events.map((e) => e.phase)).toEqual(['start', 'stop']);
    expect(result.events[1]!.detail).toEqual({ pid: server.pid });
    expect(result.events[1]!.at).toBeGreaterThanOrEqual(1_500);
    const back = await store.readStream('order-1');
    expect(back.map((e) => e.id)).toEqual(['k1']);
  });

  it('pause: a request does not complete while the server is stopped, and completes after the resume', async () => {
    const events: NemesisEvent[] = [];
    const run = runFaultTimeline(parseFaultTimeline([{ at: 0, duration: 1_200, fault: { kind: 'pause', target: 'postgres' } }]), { postgres: { server } }, { onEvent: (e) => events.push(e) });
    await seen(events, { phase: 'start' });
    expect(server.state).toBe('paused');
    const read = store.streamVersion('order-1');
    expect(await stillPendingAfter(read, 600)).toBe('pending');
    await run;
    expect(server.state).toBe('running');
    expect(await read).toBe(1);
  });

  it('pg_terminate_backend ends the harness sessions (by application_name) and no other', async () => {
    await store.streamVersion('order-1'); // a pooled harness session exists
    const other = new pg.Client({ connectionString: server.url, application_name: 'someone-else' });
    other.on('error', () => {});
    await other.connect();
    try {
      const sessions = async (name: string) => {
        const c = new pg.Client({ connectionString: server.url });
        await c.connect();
        try {
          return (await c.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [name])).rows.map((r) => r.pid);
        } finally {
          await c.end();
        }
      };
      const ours = await sessions(app);
      expect(ours.length).toBeGreaterThan(0);
      const result = await runFaultTimeline(parseFaultTimeline([{ at: 0, fault: { kind: 'pg_terminate_backend' } }]), { postgres: { server, applicationName: app } });
      expect((result.events[0]!.detail!.terminated as number[]).sort()).toEqual(ours.sort());
      expect(await waitFor(async () => (await sessions(app)).length === 0, 5_000)).toBe(true);
      expect((await other.query('select 1 as n')).rows).toEqual([{ n: 1 }]); // not ours: untouched
      expect(await store.streamVersion('order-1')).toBe(1); // the store's pool reconnects
    } finally {
      await other.end();
    }
  });

  it('an aborted timeline undoes every fault that is on: the server resumed, the toxic removed', async () => {
    await using proxy = await createFaultProxy({ upstream: { host: '127.0.0.1', port: server.port } });
    const client = new pg.Client({ connectionString: proxiedUrl(server.url, proxy) });
    client.on('error', () => {});
    await client.connect();
    try {
      const abort = new AbortController();
      const events: NemesisEvent[] = [];
      const run = runFaultTimeline(
        parseFaultTimeline([
          { at: 0, duration: 60_000, fault: { kind: 'pause', target: 'postgres' } },
          { at: 100, duration: 60_000, fault: { kind: 'network', target: 'postgres', toxic: { type: 'timeout' } } },
          { at: 30_000, duration: 1_000, fault: { kind: 'network', target: 'postgres', toxic: { type: 'refuse' } } },
        ]),
        { postgres: { server, proxy } },
        { signal: abort.signal, onEvent: (e) => events.push(e) },
      );
      await seen(events, { phase: 'start', index: 1 });
      expect(server.state).toBe('paused');
      expect(proxy.toxics()).toHaveLength(1);
      const started = performance.now();
      abort.abort();
      const result = await run;
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(result.completed).toBe(false);
      expect(server.state).toBe('running');
      expect(proxy.toxics()).toEqual([]);
      expect(result.events.map((e) => [e.phase, e.index, e.early])).toEqual([
        ['start', 0, undefined],
        ['start', 1, undefined],
        ['stop', 1, true],
        ['stop', 0, true],
      ]);
      expect((await client.query('select 1 as n')).rows).toEqual([{ n: 1 }]);
    } finally {
      await client.end();
    }
  });
});

describe('process faults on a managed NATS', () => {
  let server: ServerHandle;
  let store: EventStore;
  beforeAll(async () => {
    server = await startManagedNats();
    store = await createStore('jetstream', { natsUrl: server.url, namespace: uniqueName('pf'), settings: { publishTimeoutMs: 1_000 } });
  });
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  it('kill: the server is gone and the store reports an error; the restart brings the acknowledged event back', async () => {
    await store.appendToStream('order-1', [{ id: 'n1', type: 'order.placed', data: { n: 1 } }], { expectedVersion: 'no_stream' });
    const pid = server.pid;
    const events: NemesisEvent[] = [];
    const run = runFaultTimeline(parseFaultTimeline([{ at: 0, duration: 1_500, fault: { kind: 'kill', target: 'nats' } }]), { nats: { server } }, { onEvent: (e) => events.push(e) });
    await seen(events, { phase: 'start' });
    expect(isAlive(pid)).toBe(false);
    const failed = await store.appendToStream('order-1', [{ id: 'n2', type: 'order.placed', data: { n: 2 } }], { expectedVersion: 1 }).then(
      () => undefined,
      (err: { code?: string }) => err.code,
    );
    expect(['unavailable', 'outcome_unknown']).toContain(failed);
    await run;
    expect(server.state).toBe('running');
    expect(await waitFor(async () => (await store.readStream('order-1').catch(() => [])).some((e) => e.id === 'n1'), 10_000)).toBe(true);
  });
});
