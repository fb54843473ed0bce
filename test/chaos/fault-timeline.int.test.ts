/**
 * The fault timeline against the shared servers, through fault proxies: pg_terminate_backend selecting
 * the sessions that go through the proxy, and a fault that fails to start ending the timeline with
 * everything undone.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createFaultProxy, proxiedUrl } from '../../src/infra/fault-proxy.ts';
import { waitFor } from '../../src/infra/process-registry.ts';
import { startConsumerProcess } from '../../src/runners/chaos/consumer-crash.ts';
import { parseFaultTimeline, runFaultTimeline, terminateBackends, type NemesisEvent } from '../../src/runners/chaos/faults.ts';
import { testPgUrl, uniqueName } from '../support/servers.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function pgClient(url: string, applicationName: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName });
  client.on('error', () => {});
  cleanups.push(() => client.end());
  await client.connect();
  return client;
}

describe('pg_terminate_backend', () => {
  it('by client port through the proxy: only the sessions that go through it end, even with the same application_name', async () => {
    const u = new URL(testPgUrl());
    const proxy = await createFaultProxy({ upstream: { host: u.hostname, port: Number(u.port) } });
    cleanups.push(() => proxy.close());
    const app = uniqueName('term');
    const proxied = await pgClient(proxiedUrl(testPgUrl(), proxy), app);
    const direct = await pgClient(testPgUrl(), app);
    const proxiedPid = (await proxied.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;

    const ports = proxy.connections().map((c) => c.serverSidePort!);
    expect(await terminateBackends(testPgUrl(), { clientPorts: ports })).toEqual([proxiedPid]);
    await expect(proxied.query('select 1')).rejects.toThrow();
    expect((await direct.query('select 1 as n')).rows).toEqual([{ n: 1 }]);
  });

  it('by application_name: every session of that name, no other; an empty name is refused', async () => {
    const app = uniqueName('term');
    const a = await pgClient(testPgUrl(), app);
    const b = await pgClient(testPgUrl(), app);
    const other = await pgClient(testPgUrl(), `${app}_other`);
    const pids = await Promise.all([a, b].map(async (c) => (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid));
    expect((await terminateBackends(testPgUrl(), { applicationName: app })).sort()).toEqual(pids.sort());
    expect((await other.query('select 1 as n')).rows).toEqual([{ n: 1 }]);
    await expect(terminateBackends(testPgUrl(), { applicationName: '' })).rejects.toThrow(/empty application_name/);
  });
});

describe('fault timeline', () => {
  it('network faults on the proxy start and stop on time, and are reported', async () => {
    const u = new URL(testPgUrl());
    const proxy = await createFaultProxy({ upstream: { host: u.hostname, port: Number(u.port) } });
    cleanups.push(() => proxy.close());
    const client = await pgClient(proxiedUrl(testPgUrl(), proxy), 'eventbench-test');
    const events: NemesisEvent[] = [];
    const run = runFaultTimeline(parseFaultTimeline([{ at: 200, duration: 800, fault: { kind: 'network', target: 'postgres', toxic: { type: 'timeout' } } }]), { postgres: { proxy } }, { onEvent: (e) => events.push(e) });
    expect(await waitFor(() => events.length === 1, 5_000)).toBe(true);
    expect(events[0]).toMatchObject({ phase: 'start', index: 0, detail: { toxic: 'timeout_1' } });
    expect(events[0]!.at).toBeGreaterThanOrEqual(200);
    const started = performance.now();
    await client.query('select 1'); // held by the partition until its end
    expect(performance.now() - started).toBeGreaterThanOrEqual(500);
    const result = await run;
    expect(result.events[1]).toMatchObject({ phase: 'stop', index: 0, detail: { toxic: 'timeout_1' } });
    expect(result.events[1]!.at).toBeGreaterThanOrEqual(1_000);
    expect(proxy.toxics()).toEqual([]);
  });

  it('a fault that fails to start ends the timeline: what is on is undone, the error is reported and thrown', async () => {
    const u = new URL(testPgUrl());
    const proxy = await createFaultProxy({ upstream: { host: u.hostname, port: Number(u.port) } });
    cleanups.push(() => proxy.close());
    const consumer = await startConsumerProcess({ command: process.execPath, args: ['-e', 'console.log("ready"); setInterval(() => {}, 1000)'], label: 'idle consumer' });
    cleanups.push(() => consumer.stop());
    await consumer.crash({ midBatch: false }); // down: the timeline's crash has nothing to kill
    const events: NemesisEvent[] = [];
    const run = runFaultTimeline(
      parseFaultTimeline([
        { at: 0, duration: 60_000, fault: { kind: 'network', target: 'postgres', toxic: { type: 'latency', latency: 1_000 } } },
        { at: 100, duration: 1_000, fault: { kind: 'consumer_crash', consumer: 'c1' } },
      ]),
      { postgres: { proxy }, consumers: { c1: consumer } },
      { onEvent: (e) => events.push(e) },
    );
    await expect(run).rejects.toThrow(/idle consumer is not running/);
    expect(proxy.toxics()).toEqual([]);
    expect(events.map((e) => [e.phase, e.index, e.error !== undefined, e.early])).toEqual([
      ['start', 0, false, undefined],
      ['start', 1, true, undefined],
      ['stop', 0, false, true],
    ]);
  });
});
