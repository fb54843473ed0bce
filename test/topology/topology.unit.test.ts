/**
 * The topology's rules that need no server: `--topology` values, the store settings a topology implies,
 * and which faults a run on each topology can take (refused with one line otherwise).
 */
import { describe, expect, it } from 'vitest';
import { parseTopology, topologyStoreSettings } from '../../src/infra/topology.ts';
import { checkFaultTimeline, parseFaultTimeline } from '../../src/runners/chaos/faults.ts';
import { backends } from '../../src/store/index.ts';

describe('topology', () => {
  it('parses single and replicated, refuses anything else naming the choices', () => {
    expect(parseTopology(undefined)).toBe('single');
    expect(parseTopology('replicated')).toBe('replicated');
    expect(() => parseTopology('mesh')).toThrow(/--topology "mesh": expected one of single, replicated/);
  });

  it('replicated: R3 for backends that keep events in JetStream and have the setting; nothing otherwise', () => {
    expect(topologyStoreSettings('replicated', backends.jetstream)).toEqual({ replicas: 3 });
    expect(topologyStoreSettings('single', backends.jetstream)).toEqual({});
    expect(topologyStoreSettings('replicated', backends.postgres)).toEqual({});
  });

  it('node and standby faults need the replicated topology; a single-server kill is refused on a cluster', () => {
    const timeline = (fault: unknown) => parseFaultTimeline([{ at: 0, duration: 100, fault }]);
    const single = { nats: { managed: true, proxy: true }, postgres: { managed: true, proxy: true, applicationName: true } };
    const replicated = { nats: { managed: true, proxy: false, cluster: true }, postgres: { managed: true, proxy: true, applicationName: true, standby: true } };
    expect(() => checkFaultTimeline(timeline({ kind: 'node_kill', node: 'leader' }), single)).toThrow(/needs a managed JetStream cluster: --topology replicated/);
    expect(() => checkFaultTimeline(timeline({ kind: 'standby_kill' }), single)).toThrow(/needs a managed PostgreSQL standby/);
    expect(() => checkFaultTimeline(timeline({ kind: 'primary_failover' }), single)).toThrow(/needs a managed PostgreSQL standby/);
    expect(() => checkFaultTimeline(timeline({ kind: 'kill', target: 'nats' }), replicated)).toThrow(/use node_kill/);
    for (const fault of [{ kind: 'node_kill', node: 'follower' }, { kind: 'node_partition', node: 'leader' }, { kind: 'standby_kill' }, { kind: 'primary_failover' }, { kind: 'kill', target: 'postgres' }]) {
      expect(() => checkFaultTimeline(timeline(fault), replicated)).not.toThrow();
    }
    expect(() => parseFaultTimeline([{ at: 0, fault: { kind: 'node_kill', node: 'boss' } }])).toThrow(/fault timeline \[0\]\.fault\.node/);
  });
});
