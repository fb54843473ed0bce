/**
 * `eventbench chaos` keeps the server's own counters at the start and end of each backend's run in its
 * verdict.json (src/infra/server-snapshots.ts), with a delta line in summary.md: up by the run's work
 * without faults, and "counters reset" when the scenario killed and restarted the server in between
 * (not a negative number of commits or messages).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serverSnapshotsSchema, type NatsSnapshot, type PostgresSnapshot } from '../../src/infra/server-snapshots.ts';
import { eventbench } from '../load/cli.ts';

const work = mkdtempSync(join(tmpdir(), 'eventbench-chaos-snapshots-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const read = (out: string, backend: string) => ({
  verdict: JSON.parse(readFileSync(join(out, backend, 'verdict.json'), 'utf8')),
  summary: readFileSync(join(out, backend, 'summary.md'), 'utf8'),
});

describe('server snapshots of a chaos run', () => {
  it('--scenario none on managed servers: commits and JetStream messages went up by the run', { timeout: 150_000 }, async () => {
    const out = join(work, 'none');
    const r = await eventbench(['chaos', '--backend', 'both', '--scenario', 'none', '--duration', '2s', '--out', out], 140_000);
    expect(r.code, r.stderr).toBe(0);

    const pg = read(out, 'postgres');
    const [pgEntry] = serverSnapshotsSchema.parse(pg.verdict.serverSnapshots);
    expect(pgEntry!.kind).toBe('postgres');
    const [ps, pe] = [pgEntry!.start as PostgresSnapshot, pgEntry!.end as PostgresSnapshot];
    expect((pe.database.xact_commit as number) - (ps.database.xact_commit as number)).toBeGreaterThan(0);
    expect(pe.wal.wal_bytes as number).toBeGreaterThan(ps.wal.wal_bytes as number);
    expect(pg.summary).toMatch(/- server counters, end - start: postgres 127\.0\.0\.1:\d+\/postgres: commits \+/);

    const js = read(out, 'jetstream');
    const [jsEntry] = serverSnapshotsSchema.parse(js.verdict.serverSnapshots);
    expect(jsEntry!.kind).toBe('nats');
    const [ns, ne] = [jsEntry!.start as NatsSnapshot, jsEntry!.end as NatsSnapshot];
    // Every acknowledged append is one message or more in the run's stream.
    expect(ne.runStreams!.messages - ns.runStreams!.messages).toBeGreaterThanOrEqual(js.verdict.verdict.acked);
    expect(js.summary).toMatch(/- server counters, end - start: nats .*: JetStream messages \+[\d,]+/);
  });

  it('--scenario server_kill: the restart between the snapshots is reported as a reset', { timeout: 150_000 }, async () => {
    const out = join(work, 'kill');
    const r = await eventbench(['chaos', '--backend', 'postgres', '--scenario', 'server_kill', '--duration', '3s', '--out', out], 140_000);
    expect(r.code, r.stderr).toBe(0);
    const { verdict, summary } = read(out, 'postgres');
    const [entry] = serverSnapshotsSchema.parse(verdict.serverSnapshots);
    const [start, end] = [entry!.start as PostgresSnapshot, entry!.end as PostgresSnapshot];
    expect([start.available, end.available]).toEqual([true, true]);
    expect(end.startedAt).not.toBe(start.startedAt);
    expect(summary).toMatch(/- server counters, end - start: postgres 127\.0\.0\.1:\d+\/postgres: counters reset: the server restarted during the run/);
  });
});
