/**
 * `npm run bench:cases -- --quick` as a user runs it (against the test servers, fewer cases): it ends by
 * itself and writes results/cases-style .json and .md whose shape is right: per backend the raw append and
 * consume rates, the ceiling computed from them, every case completed, the ratio and ordered latency
 * percentiles, and the environment; and it leaves nothing behind on servers it did not start. The
 * numbers themselves are not judged (a shared machine).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { testNatsUrl, testPgUrl } from '../support/servers.ts';
import { deleteStreams } from '../jetstream/helpers.ts';
import { withClient } from '../postgres/helpers.ts';

const run = promisify(execFile);

describe('bench:cases --quick', () => {
  it('runs both backends and writes a well-formed result with the environment', { timeout: 120_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'eventbench-cases-'));
    try {
      await run(process.execPath, ['--import', 'tsx', 'bench/case-pipeline.ts', '--quick', '--cases', '100', '--out', out, '--pg-url', testPgUrl(), '--nats-url', testNatsUrl()], {
        timeout: 110_000,
        env: { ...process.env, PG_URL: '', NATS_URL: '' },
      });
      const files = readdirSync(out).sort();
      expect(files).toHaveLength(2);
      expect(files[0]).toMatch(/\.json$/);
      expect(files[1]).toMatch(/\.md$/);
      const result = JSON.parse(readFileSync(join(out, files[0]!), 'utf8'));
      expect(result.benchmark).toBe('case-pipeline');
      expect(result.target).toBe(0.25);
      expect(result.rounds.map((r: { backend: string }) => r.backend)).toEqual(['postgres', 'jetstream']);
      for (const r of result.rounds) {
        expect(r.rawAppendPerSec).toBeGreaterThan(0);
        expect(r.rawConsumePerSec).toBeGreaterThan(0);
        // The file's rates are rounded to whole events/s; the ceiling was computed from the unrounded ones.
        expect(Math.abs(r.ceilingCasesPerSec - 1 / (4 / r.rawAppendPerSec + 3 / r.rawConsumePerSec))).toBeLessThanOrEqual(1);
        expect(r.cases).toBe(100);
        expect(r.completed).toBe(100);
        expect(r.timedOut).toBe(false);
        expect(r.casesPerSec).toBeGreaterThan(0);
        expect(r.ratio).toBeGreaterThan(0);
        expect(r.latency.count).toBe(100);
        expect(r.latency.p50).toBeLessThanOrEqual(r.latency.p99);
      }
      expect(result.summary.map((s: { backend: string }) => s.backend)).toEqual(['postgres', 'jetstream']);
      expect(result.environment.postgres.version).toBeTruthy();
      expect(result.environment.nats.version).toBeTruthy();
      expect(result.environment.machine.cores).toBeGreaterThan(0);
      const md = readFileSync(join(out, files[1]!), 'utf8');
      expect(md).toContain('ceiling = 1 / (4 / raw append rate + 3 / raw consume rate)');
      expect(md).toMatch(/\| postgres \| 1 \|/);
      expect(md).toMatch(/\| jetstream \| 1 \|/);

      // On servers it did not start, the benchmark removes what it created.
      const schemas = await withClient((c) => c.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'cases\\_%'`));
      expect(schemas.rows).toEqual([]);
      expect(await deleteStreams(testNatsUrl(), 'cases_')).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
