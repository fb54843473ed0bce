/**
 * Fault timelines as data (src/runners/chaos/faults.ts) and URL rewriting for the fault proxy: bad
 * scenarios are refused with one line before anything starts.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/event-store.ts';
import { createFaultProxy, proxiedUrl } from '../../src/infra/fault-proxy.ts';
import { checkFaultTimeline, parseFaultTimeline } from '../../src/runners/chaos/faults.ts';

const proxy = { host: '127.0.0.1', port: 40001, upstream: { host: '127.0.0.1', port: 5432 } };

describe('proxiedUrl', () => {
  it('rewrites host and port of postgres:// and nats:// URLs, keeping the rest', () => {
    expect(proxiedUrl('postgres://u:secret@127.0.0.1:5432/db?application_name=x', proxy)).toBe('postgres://u:secret@127.0.0.1:40001/db?application_name=x');
    expect(proxiedUrl('postgresql://u@localhost/db', proxy)).toBe('postgresql://u@127.0.0.1:40001/db');
    expect(proxiedUrl('nats://127.0.0.1:4222', { ...proxy, upstream: { host: '127.0.0.1', port: 4222 } })).toBe('nats://127.0.0.1:40001');
  });

  it('refuses a URL that does not point at the proxy upstream, another scheme, or several servers', () => {
    expect(() => proxiedUrl('postgres://u:secret@127.0.0.1:5433/db', proxy)).toThrow(/u:\*\*\*@.*points at 127\.0\.0\.1:5433, but the fault proxy forwards to 127\.0\.0\.1:5432/);
    expect(() => proxiedUrl('http://127.0.0.1:5432', proxy)).toThrow(/postgres:\/\/ and nats:\/\/ URLs only/);
    expect(() => proxiedUrl('nats://127.0.0.1:5432,nats://127.0.0.1:5433', proxy)).toThrow(/one server per URL/);
    expect(() => proxiedUrl('postgres://10.0.0.1:5432/db', proxy)).toThrow(ConfigError);
  });

  it('a proxy is only created for loopback, and a bad toxic is refused with its field', async () => {
    await expect(createFaultProxy({ upstream: { host: '10.1.2.3', port: 5432 } })).rejects.toThrow(/only loopback/);
    await expect(createFaultProxy({ upstream: { host: '127.0.0.1', port: 5432 }, listen: { host: '0.0.0.0' } })).rejects.toThrow(/only loopback/);
    await using p = await createFaultProxy({ upstream: { host: '127.0.0.1', port: 5432 } });
    await expect(p.add({ type: 'latency', latency: -1 } as never)).rejects.toThrow(/toxic .*latency: /);
    await expect(p.add({ type: 'blackhole' } as never)).rejects.toThrow(ConfigError);
    expect(await p.add({ type: 'latency', latency: 5 })).toBe('latency_1');
    expect(p.toxics()).toEqual([{ name: 'latency_1', toxic: { type: 'latency', latency: 5, jitter: 0, stream: 'downstream' } }]);
  });
});

describe('fault timeline', () => {
  it('parses toxics and faults with their defaults', () => {
    const t = parseFaultTimeline([
      { at: 1000, duration: 2000, fault: { kind: 'network', target: 'postgres', toxic: { type: 'timeout' } } },
      { at: 0, fault: { kind: 'pg_terminate_backend' } },
      { at: 500, duration: 100, fault: { kind: 'consumer_crash', consumer: 'c1' } },
    ]);
    expect(t[0]!.fault).toEqual({ kind: 'network', target: 'postgres', toxic: { type: 'timeout', stream: 'both', timeout: 0 } });
    expect(t[1]).toEqual({ at: 0, duration: 0, fault: { kind: 'pg_terminate_backend', sessions: 'application_name' } });
    expect(t[2]!.fault).toEqual({ kind: 'consumer_crash', consumer: 'c1', midBatch: true });
  });

  it('refuses bad entries with one line naming where', () => {
    expect(() => parseFaultTimeline([{ at: -1, fault: { kind: 'kill', target: 'postgres' } }])).toThrow(/^fault timeline \[0\]\.at: /);
    expect(() => parseFaultTimeline([{ at: 0, fault: { kind: 'kill', target: 'mysql' } }])).toThrow(/\[0\]\.fault\.target/);
    expect(() => parseFaultTimeline([{ at: 0, fault: { kind: 'network', target: 'nats', toxic: { type: 'bandwidth' } } }])).toThrow(/\[0\]\.fault\.toxic\.rate/);
    expect(() => parseFaultTimeline([{ at: 0, duration: 5, fault: { kind: 'pg_terminate_backend' } }])).toThrow(/instantaneous/);
    expect(() => parseFaultTimeline({})).toThrow(ConfigError);
  });

  it('refuses process faults on external servers, faults without a proxy or consumer, and overlapping process faults', () => {
    const kill = parseFaultTimeline([{ at: 0, duration: 100, fault: { kind: 'kill', target: 'postgres' } }]);
    expect(() => checkFaultTimeline(kill, { postgres: { managed: false, proxy: true } })).toThrow(/only on servers eventbench started; postgres is external \(--pg-url\)/);
    expect(() => checkFaultTimeline(kill, { postgres: { managed: true, proxy: false } })).not.toThrow();
    const term = parseFaultTimeline([{ at: 0, fault: { kind: 'pg_terminate_backend' } }]);
    expect(() => checkFaultTimeline(term, { postgres: { managed: false, proxy: true, applicationName: true } })).toThrow(/external/);
    const net = parseFaultTimeline([{ at: 0, duration: 100, fault: { kind: 'network', target: 'nats', toxic: { type: 'refuse' } } }]);
    expect(() => checkFaultTimeline(net, { nats: { managed: false, proxy: false } })).toThrow(/no fault proxy in front of nats/);
    expect(() => checkFaultTimeline(net, { nats: { managed: false, proxy: true } })).not.toThrow();
    const crash = parseFaultTimeline([{ at: 0, duration: 100, fault: { kind: 'consumer_crash', consumer: 'c9' } }]);
    expect(() => checkFaultTimeline(crash, { consumers: ['c1'] })).toThrow(/no consumer process named "c9" \(known: c1\)/);
    const overlap = parseFaultTimeline([
      { at: 0, duration: 1000, fault: { kind: 'pause', target: 'nats' } },
      { at: 999, duration: 1000, fault: { kind: 'kill', target: 'nats' } },
    ]);
    expect(() => checkFaultTimeline(overlap, { nats: { managed: true, proxy: false } })).toThrow(/\[0\] and \[1\] overlap on the server nats/);
    const sequential = parseFaultTimeline([
      { at: 0, duration: 1000, fault: { kind: 'pause', target: 'nats' } },
      { at: 1000, duration: 1000, fault: { kind: 'kill', target: 'nats' } },
    ]);
    expect(() => checkFaultTimeline(sequential, { nats: { managed: true, proxy: false } })).not.toThrow();
  });
});
