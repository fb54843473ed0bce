/**
 * `npm run bench:serve` as a user runs it, short and slow (against the test servers): it ends by itself,
 * writes a .json and .md whose shape is right (per backend the rates, what every SSE client saw, ordered
 * latency percentiles, the SSE clients, PASS or FAIL, the event-loop delay, the environment), and leaves nothing on servers it did not
 * start. The numbers are not judged (a shared machine).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { deleteStreams } from '../jetstream/helpers.ts';
import { withClient } from '../postgres/helpers.ts';
import { testNatsUrl, testPgUrl } from '../support/servers.ts';

const run = promisify(execFile);

describe('bench:serve', () => {
  it('runs both backends and writes a well-formed result', { timeout: 120_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'eventbench-serve-bench-'));
    try {
      await run(
        process.execPath,
        ['--import', 'tsx', 'bench/serve.ts', '--rate', '200/s', '--duration', '1s', '--clients', '2', '--drain', '10s', '--out', out, '--pg-url', testPgUrl(), '--nats-url', testNatsUrl()],
        { timeout: 110_000, env: { ...process.env, PG_URL: '', NATS_URL: '' } },
      ).catch((err: { code?: number; stdout?: string }) => {
        // Exit 1 is a missed target (possible on a busy machine); anything else is a broken benchmark.
        if (err.code !== 1) throw err;
      });
      const files = readdirSync(out).sort();
      expect(files).toHaveLength(2);
      const result = JSON.parse(readFileSync(join(out, files[0]!), 'utf8'));
      expect(result.benchmark).toBe('serve');
      expect(result.options).toMatchObject({ rate: 200, durationSeconds: 1, clients: 2 });
      expect(result.runs.map((r: { backend: string }) => r.backend)).toEqual(['postgres', 'jetstream']);
      for (const r of result.runs) {
        expect(r.appended + r.failed + r.notSent).toBe(200);
        expect(r.appended).toBeGreaterThan(0);
        expect(r.unseenPerClient).toHaveLength(2);
        expect(r.fromIntended.count).toBe(2 * r.appended - r.unseenPerClient[0] - r.unseenPerClient[1]);
        expect(r.fromIntended.p50).toBeLessThanOrEqual(r.fromIntended.p99);
        expect(r.fromIntended.p99).toBeLessThanOrEqual(r.fromIntended.max);
        expect(r.fromAck.p99).toBeLessThanOrEqual(r.fromIntended.max);
        expect(typeof r.targetMet).toBe('boolean');
        expect(r.verdict).toBe(r.targetMet ? 'PASS' : 'FAIL');
        // A FAIL says why; a PASS has nothing to say.
        expect(r.failReasons.length > 0).toBe(!r.targetMet);
        expect(r.clients).toBe(2);
        expect(r.achievedRate).toBeGreaterThan(0);
        expect(r.fromIntended.p50).toBeGreaterThan(0);
        expect(r.eventLoopDelayP99Ms).toBeGreaterThan(0);
      }
      expect(result.verdict).toBe(result.runs.every((r: { targetMet: boolean }) => r.targetMet) ? 'PASS' : 'FAIL');
      expect(result.environment.postgres.version).toBeTruthy();
      expect(result.environment.nats.version).toBeTruthy();
      const md = readFileSync(join(out, files[1]!), 'utf8');
      // backend, target / achieved rate, SSE clients, ..., p50 / p99 / max, ..., PASS or FAIL.
      for (const b of ['postgres', 'jetstream']) expect(md).toMatch(new RegExp(`\\| ${b} \\| 200 / \\d+ \\| 2 \\| .* \\| [\\d.]+ / [\\d.]+ / [\\d.]+ \\| .* \\| (PASS|FAIL) \\|`));
      expect(md).toMatch(/Verdict: \*\*(PASS|FAIL)\*\*/);
      for (const r of result.runs) if (!r.targetMet) expect(md).toContain(`- ${r.backend} FAIL: ${r.failReasons.join('; ')}`);
      const schemas = await withClient((c) => c.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'servebench\\_%'`));
      expect(schemas.rows).toEqual([]);
      expect(await deleteStreams(testNatsUrl(), 'servebench_')).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('--batch N appends N events per append, each measured from its own intended time', { timeout: 120_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'eventbench-serve-bench-'));
    try {
      await run(
        process.execPath,
        ['--import', 'tsx', 'bench/serve.ts', '--backends', 'postgres', '--rate', '200/s', '--duration', '1s', '--batch', '7', '--clients', '1', '--drain', '10s', '--out', out, '--pg-url', testPgUrl()],
        { timeout: 110_000, env: { ...process.env, PG_URL: '', NATS_URL: '' } },
      ).catch((err: { code?: number }) => {
        if (err.code !== 1) throw err;
      });
      const result = JSON.parse(readFileSync(join(out, readdirSync(out).sort()[0]!), 'utf8'));
      expect(result.options).toMatchObject({ rate: 200, eventsPerAppend: 7 });
      const [r] = result.runs;
      // 200 events in 29 appends (28 of 7, the last of 4): every event counted once, seen once per client.
      expect(r.appended + r.failed + r.notSent).toBe(200);
      expect(r.fromIntended.count).toBe(r.appended - r.unseenPerClient[0]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
