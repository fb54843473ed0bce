/**
 * `eventbench chaos --topology replicated` as a user runs it: the stream leader of a managed 3-node
 * JetStream cluster is SIGKILLed mid-run, a new one is elected, nothing acknowledged is lost, and the
 * verdict records where the stream lives; scenarios that need the replicated topology refuse the single
 * one (and the single topology's process faults refuse a cluster) with one line, before anything starts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventbench } from '../load/cli.ts';

const work = mkdtempSync(join(tmpdir(), 'eventbench-test-replicated-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('eventbench chaos on the replicated topology', () => {
  it('--topology replicated --scenario replicated_leader_kill: a new leader, zero lost, the topology recorded', async () => {
    const out = join(work, 'leader');
    const r = await eventbench(['chaos', '--backend', 'jetstream', '--topology', 'replicated', '--scenario', 'replicated_leader_kill', '--duration', '5s', '--out', out], 110_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/chaos replicated_leader_kill on jetstream: PASS/);
    const v = JSON.parse(readFileSync(join(out, 'jetstream', 'verdict.json'), 'utf8'));
    expect(v.verdict.acked).toBeGreaterThan(0);
    expect(v.verdict.lost.count).toBe(0);
    expect(v.environment.topology).toMatchObject({ name: 'replicated', nats: { urls: 3, nodes: 3, streamReplicas: 3 } });
    const stream = v.topology.streams.find((s: { stream: string }) => s.stream === `${v.namespace}-chaos`);
    expect(stream.peers).toEqual([0, 1, 2]);
    const nemesis = readFileSync(join(out, 'jetstream', 'history.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"nemesis"')).map((l) => JSON.parse(l));
    expect(nemesis.map((op) => op.f)).toEqual(['start', 'stop']);
    expect(nemesis[0].value).toMatchObject({ role: 'leader', stream: `${v.namespace}-chaos` });
    // Killed the leader, and the one leading after the restart is known.
    expect(nemesis[1].value.leader).toMatch(/^n[012]$/);
    expect(v.verdict.faults[0].timeToRecoverNs).not.toBeNull();
  }, 120_000);

  it('--scenario replicated_primary_failover: the primary killed, the standby promoted, no acknowledged commit lost', async () => {
    const out = join(work, 'failover');
    const r = await eventbench(['chaos', '--backend', 'postgres', '--scenario', 'replicated_primary_failover', '--duration', '5s', '--out', out], 110_000);
    expect(r.code, r.stderr).toBe(0);
    const v = JSON.parse(readFileSync(join(out, 'postgres', 'verdict.json'), 'utf8'));
    expect(v.environment.topology.postgres.standbys).toEqual([expect.objectContaining({ name: 'eventbench_standby', syncState: 'sync' })]);
    expect(v.topology).toMatchObject({ name: 'replicated', promoted: true });
    expect(v.verdict.lost.count).toBe(0);
    const nemesis = readFileSync(join(out, 'postgres', 'history.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"nemesis"')).map((l) => JSON.parse(l));
    expect(nemesis[1].value.promoted).toBeGreaterThan(0);
    // Writers went on against the promoted standby: acknowledged appends after the promotion.
    const history = readFileSync(join(out, 'postgres', 'history.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(history.filter((op) => op.f === 'append' && op.type === 'ok' && op.time > nemesis[1].time).length).toBeGreaterThan(0);
  }, 120_000);

  const bad: [string, string[], RegExp][] = [
    ['replicated scenario on single', ['--backend', 'jetstream', '--topology', 'single', '--scenario', 'replicated_leader_kill'], /needs the replicated topology/],
    ['unknown topology', ['--backend', 'jetstream', '--topology', 'mesh', '--scenario', 'none'], /mesh/],
    ['single-server kill on a cluster', ['--backend', 'jetstream', '--topology', 'replicated', '--scenario', 'server_kill'], /use node_kill/],
    ['a standby fault with an external PostgreSQL', ['--backend', 'postgres', '--scenario', 'replicated_standby_kill', '--pg-url', 'postgres://u@127.0.0.1:1/x'], /needs a managed PostgreSQL standby|process faults act only/],
  ];
  it.each(bad)('%s: one line, exit 2, nothing started', async (_, args, message) => {
    const r = await eventbench(['chaos', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });
});
