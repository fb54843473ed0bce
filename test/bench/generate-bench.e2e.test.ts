/**
 * `npm run bench:generate` as a user runs it, with short rounds and the test NATS server as the same-run
 * reference: it ends by itself with exit 0 and writes `<stamp>.json` / `.md` with a ceiling row per
 * workload (generation + serialisation over serialisation alone, with the per-round spread and a verdict
 * that follows from it) and the per-event breakdown (stringify alone, generation alone, and the generation
 * budget the target leaves). The numbers are not judged (a shared machine).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { WORKLOAD_NAMES } from '../../src/workloads/index.ts';
import { testNatsUrl } from '../support/servers.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'eventbench-generate-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface CeilingRow {
  workload: string;
  generatedPerSec: number;
  stringifyAlonePerSec: number;
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  target: number;
  meets: boolean;
  verdict: 'yes' | 'NO' | 'noise';
  stringifyUs: number;
  generatedUs: number;
  generationAloneUs: number;
  budgetUs: number;
}

describe('bench:generate', () => {
  it('ends by itself and writes the ceiling table with the per-round spread of each ratio', { timeout: 120_000 }, async () => {
    const out = join(dir, 'out');
    // execFile rejects on a non-zero exit code: resolving is the exit-0 check.
    await run(process.execPath, ['--import', 'tsx', 'bench/generate.ts', '--seconds', '0.05', '--rounds', '2', '--nats-url', testNatsUrl(), '--out', out], { timeout: 110_000 });
    const files = readdirSync(out).sort();
    expect(files).toHaveLength(2);
    const result = JSON.parse(readFileSync(join(out, files.find((f) => f.endsWith('.json'))!), 'utf8')) as {
      environment: unknown;
      settings: { rounds: number; referenceSource: string };
      results: { workload: string; eventsPerSec: number }[];
      ceiling: CeilingRow[];
    };
    expect(result.environment).toBeTruthy();
    expect(result.settings.rounds).toBe(2);
    expect(result.settings.referenceSource).toMatch(/^measured in this run/);
    expect(result.ceiling.map((r) => r.workload)).toEqual([...WORKLOAD_NAMES, 'debt-cases (lifecycle)']);
    for (const r of result.ceiling) {
      expect(r.generatedPerSec, r.workload).toBeGreaterThan(0);
      expect(r.stringifyAlonePerSec, r.workload).toBeGreaterThan(0);
      expect(r.ratio).toBe(Math.round((r.generatedPerSec / r.stringifyAlonePerSec) * 100) / 100);
      expect(r.ratioMin).toBeGreaterThan(0);
      expect(r.ratioMin).toBeLessThanOrEqual(r.ratioMax);
      expect(r.meets).toBe(r.ratio >= r.target);
      expect(r.verdict).toBe(r.ratioMin >= r.target ? 'yes' : r.ratioMax < r.target ? 'NO' : 'noise');
      // Per event: generation alone measured, next to the budget the target leaves it.
      expect(r.generationAloneUs, r.workload).toBeGreaterThan(0);
      expect(r.generatedUs).toBeCloseTo(1e6 / r.generatedPerSec, 2);
      expect(r.stringifyUs).toBeCloseTo(1e6 / r.stringifyAlonePerSec, 2);
      expect(r.budgetUs).toBeCloseTo(r.stringifyUs * (1 / r.target - 1), 2);
    }
    expect(result.results.find((r) => r.workload.startsWith('jetstream raw publish'))!.eventsPerSec).toBeGreaterThan(0);
    const md = readFileSync(join(out, files.find((f) => f.endsWith('.md'))!), 'utf8');
    expect(md).toContain('| workload | generated + stringify events/s | stringify alone events/s | ratio | per round min-max | meets | every round |');
    for (const r of result.ceiling) expect(md).toContain(`| ${r.workload} | ${r.generatedPerSec.toLocaleString('en')} |`);
    expect(md).toContain('| workload | stringify alone | generated + stringify | generation alone | generation budget at the target | generation alone within it |');
    for (const r of result.ceiling) expect(md).toContain(`| ${r.workload} | ${r.stringifyUs} | ${r.generatedUs} | ${r.generationAloneUs} | ${r.budgetUs} | ${r.generationAloneUs <= r.budgetUs ? 'yes' : 'NO'} |`);
  });
});
