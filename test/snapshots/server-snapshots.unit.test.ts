/**
 * The server-snapshot block of a result (src/infra/server-snapshots.ts) without servers: the schema takes
 * a PostgreSQL and a NATS entry, an unavailable side with its reason, and refuses what is not a snapshot;
 * a load result's backend carries the block (src/report/load-result.ts) and summary.md has its delta line;
 * deltas are end minus start, and a restart or a counter that went down is reported as a reset, not as a
 * negative amount of work.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatSnapshotDelta, serverSnapshotsSchema, snapshotDelta, type ServerSnapshotEntry } from '../../src/infra/server-snapshots.ts';
import { loadResultSchema } from '../../src/report/load-result.ts';
import { renderSummaryMarkdown } from '../../src/report/load-summary.ts';

const pgSide = (at: string, commits: number, walBytes: number, startedAt = '2026-12-04T20:00:00.000Z') => ({
  at,
  available: true as const,
  serverVersion: '18.4',
  startedAt,
  database: { datname: 'postgres', xact_commit: commits, xact_rollback: 1, tup_inserted: commits * 4, blks_read: 10, stats_reset: null },
  wal: { wal_records: walBytes / 100, wal_fpi: 0, wal_bytes: walBytes, stats_reset: '2026-12-04T20:00:00.000Z' },
  bgwriter: { buffers_clean: 0, buffers_alloc: 500 },
  checkpointer: { num_timed: 1, num_requested: commits > 1000 ? 1 : 0, buffers_written: 0 },
});

const natsSide = (at: string, messages: number, start = '2026-12-04T20:00:00.1Z') => ({
  at,
  available: true as const,
  health: 'ok',
  varz: { server_id: 'NABC', server_name: 'n0', start, in_msgs: messages * 2, out_msgs: messages * 2, in_bytes: messages * 1500, out_bytes: messages * 1500, total_connections: 3 },
  jetstream: { streams: 2, consumers: 1, messages, bytes: messages * 1500, apiTotal: 10, apiErrors: 0 },
  runStreams: { streams: 1, messages, bytes: messages * 1500 },
  connections: { open: 2, pendingBytes: 0 },
});

const postgres: ServerSnapshotEntry = {
  kind: 'postgres',
  server: 'postgres 127.0.0.1:5432/postgres',
  start: pgSide('2026-12-04T21:00:00.000Z', 100, 1_000_000),
  end: pgSide('2026-12-04T21:00:10.000Z', 1_334, 4_145_728),
};
const nats: ServerSnapshotEntry = {
  kind: 'nats',
  server: 'nats n0 (monitoring 127.0.0.1:8222)',
  start: natsSide('2026-12-04T21:00:00.000Z', 0),
  end: natsSide('2026-12-04T21:00:10.000Z', 5_000),
};
const external: ServerSnapshotEntry = {
  kind: 'nats',
  server: 'nats 10.0.0.5:4222',
  start: { at: '2026-12-04T21:00:00.000Z', available: false, reason: 'no monitoring port found for NATS at 10.0.0.5:4222 (tried 8222; pass the monitoring URL, e.g. --nats-monitor-url)' },
  end: { at: '2026-12-04T21:00:10.000Z', available: false, reason: 'no monitoring port found' },
};

describe('server snapshots: the schema', () => {
  it('takes a PostgreSQL entry, a NATS entry and an unavailable one', () => {
    expect(serverSnapshotsSchema.parse([postgres, nats, external])).toEqual([postgres, nats, external]);
  });

  it('refuses what is not a snapshot', () => {
    const bad: unknown[] = [
      [{ ...postgres, kind: 'mysql' }],
      [{ ...postgres, start: { at: 'x', available: true } }], // available without its counters
      [{ ...postgres, end: { at: 'x', available: false } }], // unavailable without a reason
      [{ ...nats, start: { ...natsSide('x', 1), jetstream: { messages: '5' } } }],
      [{ ...postgres, start: { ...pgSide('x', 1, 1), database: { xact_commit: { nested: 1 } } } }],
      [{ ...postgres, server: undefined }],
    ];
    for (const b of bad) expect(serverSnapshotsSchema.safeParse(b).success, JSON.stringify(b).slice(0, 80)).toBe(false);
  });

  it('is part of a load result: a backend carries it, a malformed block fails the result, summary.md shows its deltas', () => {
    const fixture = JSON.parse(readFileSync(new URL('../fixtures/results/bench-runs-v3.json', import.meta.url), 'utf8'));
    const result = loadResultSchema.parse(fixture);
    result.backends[0]!.serverSnapshots = [postgres, nats];
    expect(loadResultSchema.parse(result).backends[0]!.serverSnapshots).toEqual([postgres, nats]);
    expect(loadResultSchema.safeParse({ ...result, backends: [{ ...result.backends[0], serverSnapshots: [{ kind: 'nats' }] }] }).success).toBe(false);
    const md = renderSummaryMarkdown(result);
    expect(md).toContain('- server counters, end - start: postgres 127.0.0.1:5432/postgres: commits +1,234, rollbacks +0, rows inserted +4,936, WAL +3.0 MiB');
    expect(md).toContain('- server counters, end - start: nats n0 (monitoring 127.0.0.1:8222): JetStream messages +5,000');
  });
});

describe('server snapshots: deltas', () => {
  it('are end minus start', () => {
    expect(snapshotDelta(postgres)).toMatchObject({ missing: null, values: { xact_commit: 1_234, wal_bytes: 3_145_728, checkpoints: 1, tup_inserted: 4_936 } });
    expect(snapshotDelta(nats)).toMatchObject({ missing: null, values: { jetstream_messages: 5_000, run_stream_messages: 5_000, in_msgs: 10_000 } });
    expect(formatSnapshotDelta(nats)).toBe(
      "nats n0 (monitoring 127.0.0.1:8222): JetStream messages +5,000, bytes +7.2 MiB, the run's streams +5,000 messages / +7.2 MiB, messages in/out +10,000 / +10,000, connections +0, API errors +0",
    );
  });

  it('count checkpoints from pg_stat_bgwriter before PostgreSQL 17', () => {
    const old = (at: string, timed: number) => ({ ...pgSide(at, 10, 100), serverVersion: '15.20', bgwriter: { checkpoints_timed: timed, checkpoints_req: 2, buffers_clean: 0 }, checkpointer: null });
    expect(snapshotDelta({ ...postgres, start: old('a', 3), end: old('b', 7) }).values.checkpoints).toBe(4);
  });

  it('say reset, not a negative number, after a restart or a counter reset', () => {
    const restarted = { ...postgres, end: pgSide('b', 5, 10, '2026-12-04T21:00:05.000Z') };
    expect(formatSnapshotDelta(restarted)).toBe('postgres 127.0.0.1:5432/postgres: counters reset: the server restarted during the run');
    expect(snapshotDelta({ ...nats, end: natsSide('b', 10, '2026-12-04T21:00:05Z') }).missing).toMatch(/restarted/);
    const wentDown = { ...postgres, end: pgSide('b', 50, 2_000_000) };
    expect(snapshotDelta(wentDown)).toEqual({ server: postgres.server, kind: 'postgres', missing: 'counters reset during the run', values: {} });
  });

  it('say why a server had none', () => {
    expect(formatSnapshotDelta(external)).toBe(`nats 10.0.0.5:4222: unavailable: ${(external.start as { reason: string }).reason}`);
    expect(formatSnapshotDelta({ ...postgres, end: { at: 'b', available: false, reason: 'PostgreSQL statistics unavailable: connection refused' } })).toMatch(/unavailable: PostgreSQL statistics unavailable: connection refused$/);
  });
});
