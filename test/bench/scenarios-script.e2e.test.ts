/**
 * `npm run bench:scenarios` as a user runs it, shortened: the smallest scenario, one run, `--quick` and a
 * `--duration` override against the test servers. It ends by itself with exit 0 and writes, under
 * `<out>/<stamp>/`, the bench's own result for the scenario and an index README.md with one row per backend
 * that says the durations were shortened; bad input is one line, exit 2, and leaves nothing behind. The
 * numbers are not judged (a shared machine).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadResultSchema } from '../../src/report/load-result.ts';
import { testNatsUrl, testPgUrl } from '../support/servers.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'eventbench-bench-scenarios-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const script = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'bench/scenarios.ts', ...args], { timeout: 170_000, env: { ...process.env, PG_URL: '', NATS_URL: '' } });

describe('npm run bench:scenarios', () => {
  it('runs a scenario on both backends into <out>/<stamp>/<scenario>/ and indexes it', { timeout: 180_000 }, async () => {
    const out = join(dir, 'ok');
    // execFile rejects on a non-zero exit code: resolving is the exit-0 check.
    await script(['--quick', '--runs', '1', '--only', 'documents', '--duration', '2s', '--out', out, '--pg-url', testPgUrl(), '--nats-url', testNatsUrl()]);
    const stamps = readdirSync(out);
    expect(stamps).toHaveLength(1);
    const root = join(out, stamps[0]!);
    expect(readdirSync(root).sort()).toEqual(['README.md', 'documents', 'index.json']);

    // The scenario's own bench output, with the override applied and both backends next to their raw drivers.
    const result = loadResultSchema.parse(JSON.parse(readFileSync(join(root, 'documents', 'result.json'), 'utf8')));
    expect(result.scenario.workload).toBe('documents');
    expect(result.scenario.durationMs).toBe(2000);
    expect(result.backends.map((b) => b.baselineOf ?? b.backend)).toEqual(['postgres', 'postgres', 'jetstream', 'jetstream']);
    expect(existsSync(join(root, 'documents', 'summary.md'))).toBe(true);

    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toMatch(/\*\*Durations shortened\*\*: --quick .*; --duration 2s for every scenario/);
    const rows = readme.split('\n').filter((l) => l.startsWith('| documents | '));
    expect(rows.map((l) => l.split(' | ')[1])).toEqual(['postgres', 'jetstream', '0']); // two backend rows, then the wall-time row (exit 0)
    for (const row of rows.slice(0, 2)) {
      expect(row).toMatch(/events\/s at 200\/s/);
      expect(row).toMatch(/ms at 200\/s/);
      expect(row).toMatch(/latency \d+\.\d\dx vs raw-(postgres|jetstream)/);
      expect(row).toMatch(/one run: no spread/);
    }
    expect(readme).toMatch(/## Environment[\s\S]*\| nats-server \| 2\./);
    const index = JSON.parse(readFileSync(join(root, 'index.json'), 'utf8')) as { scenarios: { scenario: string; exitCode: number; rows: { backend: string; failure: string }[] }[] };
    expect(index.scenarios).toMatchObject([{ scenario: 'documents', exitCode: 0 }]);
    expect(index.scenarios[0]!.rows.map((r) => [r.backend, r.failure])).toEqual([['postgres', '-'], ['jetstream', '-']]);
  });

  it('a failing scenario is a row with its exit code, the next one still runs, and the script exits 1', { timeout: 120_000 }, async () => {
    const out = join(dir, 'failing');
    // No NATS answers on port 1: each bench refuses to start (exit 2) before anything runs.
    const err = (await script(['--quick', '--runs', '1', '--only', 'documents,invoices', '--out', out, '--pg-url', testPgUrl(), '--nats-url', 'nats://127.0.0.1:1']).then(
      () => null,
      (e: unknown) => e,
    )) as { code: number } | null;
    expect(err?.code).toBe(1);
    const root = join(out, readdirSync(out)[0]!);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toMatch(/\| documents \| - \| n\/a .*\| exit 2 \|/);
    expect(readme).toMatch(/\| invoices \| - \| n\/a .*\| exit 2 \|/);
    expect(readme).toMatch(/\*\*2 of 2 scenarios failed\*\*: documents, invoices/);
  });

  it.each([
    [['--only', 'nope'], /^bench:scenarios: --only: unknown scenario "nope"; available: .*documents/],
    [['--runs', '0'], /^bench:scenarios: --runs "0": a whole number from 1 to \d+/],
    [['--duration', 'soon'], /^bench:scenarios: --duration "soon" is not a duration/],
    [['--colour'], /^bench:scenarios: Unknown option '--colour'/],
  ])('refuses %j with one line, exit 2, and writes nothing', async (args, message) => {
    const out = join(dir, 'bad');
    const err = (await script([...args, '--out', out]).then(
      () => null,
      (e: unknown) => e,
    )) as { code: number; stderr: string } | null;
    expect(err?.code).toBe(2);
    expect(err!.stderr.trim().split('\n')).toHaveLength(1);
    expect(err!.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });
});
