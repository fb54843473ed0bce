/**
 * A load on the replicated topology records where its streams live: the topology is read again at the
 * end of the run, once the run's streams exist, so the result names each stream's leader and replicas
 * (read at the start only, the streams did not exist yet).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventbench } from '../load/cli.ts';
import { uniqueName } from '../support/servers.ts';

const work = mkdtempSync(join(tmpdir(), 'eventbench-test-load-topology-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('load --topology replicated', () => {
  it('records the run stream with its leader and 3 replicas', async () => {
    const out = join(work, 'out');
    const namespace = uniqueName('lt');
    const r = await eventbench(['load', '--backend', 'jetstream', '--topology', 'replicated', '--infra', 'managed', '--namespace', namespace, '--rate', '50/s', '--duration', '2s', '--warmup', '0s', '--out', out], 110_000);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    const nats = result.environment.topology.nats;
    expect(nats.nodes).toBe(3);
    const mine = (nats.streams as { stream: string; leader: string | null; replicas: number }[]).filter((s) => s.stream.startsWith(namespace));
    expect(mine.length).toBeGreaterThan(0);
    for (const s of mine) {
      expect(s.replicas, s.stream).toBe(3);
      expect(s.leader, s.stream).toMatch(/\S/);
    }
  }, 120_000);
});
