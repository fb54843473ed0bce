/**
 * `eventbench scenarios` and `eventbench bench --scenario NAME --quick` as a user runs them, plus the
 * refusals that come before any server starts (an unknown scenario, a pregeneration that does not fit),
 * and `--pregenerate` recorded in the result.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadResultSchema } from '../../src/report/load-result.ts';
import { BENCH_SCENARIO_DIR } from '../../src/runners/bench/scenario-catalog.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';
import { eventbench } from '../load/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-scenarios-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('eventbench scenarios / bench --scenario', () => {
  it('lists every file of scenarios/bench/ with what it runs', async () => {
    const files = readdirSync(BENCH_SCENARIO_DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
    const json = await eventbench(['scenarios', '--json']);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as { name: string; description: string; runs: string; quick: string }[];
    expect(rows.map((r) => r.name)).toEqual(files);
    for (const r of rows) expect(r.runs).toMatch(/constant|max rate|closed loop|ramp/);
    const text = await eventbench(['scenarios']);
    expect(text.code).toBe(0);
    for (const f of files) expect(text.stdout).toMatch(new RegExp(`^${f}\\s`, 'm'));
  });

  it('an unknown scenario is one line listing the available ones, exit 2, no server started', async () => {
    const started = Date.now();
    const r = await eventbench(['bench', '--scenario', 'nope', '--quick']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown bench scenario "nope": available: .*documents/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a pregeneration that would not fit is refused with exit 2 before any server starts', async () => {
    const r = await eventbench(['load', '--backend', 'postgres', '--rate', '100k/s', '--duration', '1h', '--pregenerate']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--pregenerate: .* above the limit of [\d,]+ MiB/);
    expect(r.stderr).not.toMatch(/PostgreSQL|managed/);
  });

  it('--pregenerate: the result says how many appends were built before the clock started', async () => {
    const r = await eventbench(['load', '--backend', 'memory', '--rate', '100/s', '--duration', '1s', '--pregenerate', '--json']);
    expect(r.code).toBe(0);
    const b = loadResultSchema.parse(JSON.parse(r.stdout)).backends[0]!;
    expect(b.pregenerated?.appends).toBeGreaterThanOrEqual(100);
    expect(b.pregenerated?.generatedLive).toBe(0);
    expect(b.clientBound?.bound).toBe(false);
  });

  it('bench --scenario documents --quick --out d runs on both backends', { timeout: 150_000 }, async () => {
    const out = join(dir, 'd');
    const r = await eventbench(['bench', '--scenario', 'documents', '--quick', '--out', out, '--namespace', uniqueName('sc'), '--pg-url', testPgUrl(), '--nats-url', testNatsUrl()], 140_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/scenario documents \(quick\) from scenarios\/bench\/documents\.yaml/);
    const result = loadResultSchema.parse(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')));
    expect(result.notes.join('\n')).toMatch(/scenario documents \(quick\) from scenarios\/bench\/documents\.yaml/);
    expect(result.scenario).toMatchObject({ command: 'bench', workload: 'documents', executor: 'constant', rate: 200, durationMs: 3000, warmupMs: 1000, streams: 1000 });
    const adapters = result.backends.filter((b) => !b.baselineOf);
    expect(adapters.map((b) => b.backend)).toEqual(['postgres', 'jetstream']);
    for (const b of adapters) {
      expect(b.error).toBeNull();
      expect(b.totals.events).toBeGreaterThan(0);
      expect(b.clientBound).toBeDefined();
    }
    expect(r.stdout).toMatch(/client-bound/);
  });
});
