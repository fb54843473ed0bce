/**
 * `eventbench doctor` reports the topology: on `--topology replicated` the managed cluster's nodes and
 * meta leader and the synchronous standby; for external servers, every server of a comma-separated
 * `--nats-url` and the standbys of the `--pg-url` primary (its `pg_stat_replication`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManagedNatsCluster, type NatsClusterHandle } from '../../src/infra/managed-nats-cluster.ts';
import { startManagedPostgresWithStandby, type PostgresStandbyPair } from '../../src/infra/managed-postgres-standby.ts';
import { eventbench } from '../load/cli.ts';

let cluster: NatsClusterHandle;
let pair: PostgresStandbyPair;
beforeAll(async () => {
  [cluster, pair] = await Promise.all([startManagedNatsCluster(), startManagedPostgresWithStandby()]);
}, 60_000);
afterAll(async () => {
  await Promise.allSettled([cluster?.stop(), pair?.stop()]);
}, 30_000);

describe('eventbench doctor: topology', () => {
  it('--topology replicated (managed): three JetStream nodes with a meta leader, a streaming synchronous standby', async () => {
    const r = await eventbench(['doctor', '--json', '--topology', 'replicated', '--infra', 'managed'], 90_000);
    expect(r.code, r.stderr).toBe(0);
    const t = JSON.parse(r.stdout).topology;
    expect(t.name).toBe('replicated');
    expect(t.nats).toMatchObject({ urls: 3, nodes: 3, streamReplicas: 3, metaLeader: expect.stringMatching(/^n[012]$/) });
    expect(t.postgres.synchronousStandbyNames).toBe('eventbench_standby');
    expect(t.postgres.standbys).toEqual([expect.objectContaining({ name: 'eventbench_standby', state: 'streaming', syncState: 'sync' })]);
  }, 100_000);

  it('external: a comma-separated --nats-url and the standbys of a --pg-url primary, in the text form too', async () => {
    const r = await eventbench(['doctor', '--nats-url', cluster.url, '--pg-url', pair.url], 60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Topology single/);
    expect(r.stdout).toMatch(/nats servers\s+3 in the URL/);
    expect(r.stdout).toMatch(/standby\s+eventbench_standby: streaming, sync/);
  }, 60_000);
});
