/**
 * `eventbench load` as a user runs it keeps its servers' own counters at the start and end of the load
 * (src/infra/server-snapshots.ts): on managed servers, PostgreSQL's commits, rows and WAL went up and
 * JetStream's messages went up by what the run stored in its streams, and summary.md says so in
 * one line per server. An external NATS without a monitoring port is recorded as unavailable, with the
 * reason, and the run still succeeds; a password in the PostgreSQL URL appears in no file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NatsSnapshot, PostgresSnapshot } from '../../src/infra/server-snapshots.ts';
import { loadResultSchema, type LoadResult } from '../../src/report/load-result.ts';
import { startEventbench } from '../load/cli.ts';
import { deleteStreams } from '../jetstream/helpers.ts';
import { dropSchema } from '../postgres/helpers.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';

const dirs: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c().catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function load(args: string[]): Promise<{ result: LoadResult; summary: string; files: string }> {
  const out = mkdtempSync(join(tmpdir(), 'eventbench-snapshots-'));
  dirs.push(out);
  const run = await startEventbench(['load', '--rate', '200/s', '--duration', '2s', '--out', out, ...args], 90_000).done;
  expect(run.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  expect(run.code, run.stderr).toBe(0);
  const json = readFileSync(join(out, 'result.json'), 'utf8');
  const summary = readFileSync(join(out, 'summary.md'), 'utf8');
  return { result: loadResultSchema.parse(JSON.parse(json)), summary, files: json + summary + readFileSync(join(out, 'report.html'), 'utf8') };
}

describe('server snapshots of a load', () => {
  it('postgres on a managed server: commits, rows and WAL between the start and the end', { timeout: 120_000 }, async () => {
    const { result, summary } = await load(['--backend', 'postgres', '--infra', 'managed']);
    const b = result.backends[0]!;
    expect(b.serverSnapshots).toHaveLength(1);
    const entry = b.serverSnapshots![0]!;
    expect(entry.kind).toBe('postgres');
    expect(entry.server).toMatch(/^postgres 127\.0\.0\.1:\d+\/postgres$/);
    const [start, end] = [entry.start as PostgresSnapshot, entry.end as PostgresSnapshot];
    expect([start.available, end.available]).toEqual([true, true]);
    expect(Date.parse(end.at)).toBeGreaterThan(Date.parse(start.at));
    expect(end.database.xact_commit as number).toBeGreaterThan(start.database.xact_commit as number);
    expect((end.database.tup_inserted as number) - (start.database.tup_inserted as number)).toBeGreaterThan(0);
    expect(end.wal.wal_bytes as number).toBeGreaterThan(start.wal.wal_bytes as number);
    expect(Object.keys(end.bgwriter).length).toBeGreaterThan(0);
    // Embedded PostgreSQL is 18: the checkpoint counters are in pg_stat_checkpointer.
    if (Number.parseInt(end.serverVersion, 10) >= 17) expect(end.checkpointer).toHaveProperty('num_timed');
    expect(summary).toMatch(/- server counters, end - start: postgres 127\.0\.0\.1:\d+\/postgres: commits \+[\d,]+, rollbacks \+\d+, rows inserted \+[\d,]+, WAL \+[\d.]+ MiB/);
  });

  it('jetstream on a managed server: JetStream messages went up by what the run stored', { timeout: 120_000 }, async () => {
    const { result, summary } = await load(['--backend', 'jetstream', '--infra', 'managed', '--namespace', uniqueName('snap')]);
    const b = result.backends[0]!;
    expect(b.serverSnapshots).toHaveLength(1);
    const entry = b.serverSnapshots![0]!;
    expect(entry.kind).toBe('nats');
    const [start, end] = [entry.start as NatsSnapshot, entry.end as NatsSnapshot];
    expect([start.available, end.available, start.health, end.health]).toEqual([true, true, 'ok', 'ok']);
    expect(end.varz.server_id).toBe(start.varz.server_id);
    // At least every acknowledged event; at most every append sent (one whose ack was lost may be stored too).
    const stored = end.runStreams!.messages - start.runStreams!.messages;
    expect(stored).toBeGreaterThanOrEqual(b.totals.wholeRun.events);
    expect(stored).toBeLessThanOrEqual(b.totals.wholeRun.sent);
    expect(end.jetstream.messages - start.jetstream.messages).toBe(stored);
    expect(end.jetstream.bytes).toBeGreaterThan(start.jetstream.bytes);
    expect((end.varz.in_msgs as number) - (start.varz.in_msgs as number)).toBeGreaterThanOrEqual(b.totals.wholeRun.events);
    // Taken before the run connected and after it closed its connections.
    expect((end.varz.total_connections as number) - (start.varz.total_connections as number)).toBeGreaterThan(0);
    expect(summary).toContain(`JetStream messages +${stored.toLocaleString('en-US')}, bytes +`);
  });

  it('external servers: a NATS without a monitoring port is recorded as unavailable; no password is written', { timeout: 120_000 }, async () => {
    const namespace = uniqueName('snapx');
    cleanups.push(() => dropSchema(namespace), () => deleteStreams(testNatsUrl(), `${namespace}-`));
    const secret = 'h6-not-a-real-password';
    const pgUrl = new URL(testPgUrl());
    pgUrl.password = secret; // the test server trusts local connections: the password is carried, not checked
    const { result: pgRun, files } = await load(['--backend', 'postgres', '--pg-url', pgUrl.toString(), '--namespace', namespace]);
    expect(pgRun.backends[0]!.serverSnapshots![0]!.end.available).toBe(true);
    expect(files).not.toContain(secret);

    const { result, summary } = await load(['--backend', 'jetstream', '--nats-url', testNatsUrl(), '--namespace', namespace]);
    const entry = result.backends[0]!.serverSnapshots![0]!;
    expect(entry.kind).toBe('nats');
    expect(entry.start).toMatchObject({ available: false, reason: expect.stringMatching(/^no monitoring port found for NATS at 127\.0\.0\.1:\d+/) });
    expect(entry.end.available).toBe(false);
    expect(summary).toMatch(/- server counters, end - start: nats 127\.0\.0\.1:\d+: unavailable: no monitoring port found/);
  });
});
