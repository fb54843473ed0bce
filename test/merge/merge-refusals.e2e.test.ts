/**
 * `eventbench merge` adds up only what is one multi-generator run: results of another seed, the same
 * run twice, a bench result, an older schema version or a single file are refused with one line and exit
 * code 2, and `load --start-at` / `--generator-id` refuse bad values the same way before anything starts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadResultSchema } from '../../src/report/load-result.ts';
import { eventbench, type CliRun } from '../load/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-merge-refusals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string): string => join(dir, name, 'result.json');

/** A short in-memory load: no server needed, so the refusals are tested on real result files cheaply. */
async function generate(name: string, extra: string[]): Promise<void> {
  const r = await eventbench(['load', '--backend', 'memory', '--rate', '200/s', '--duration', '1s', '--run-id', 'r1', '--out', join(dir, name), ...extra]);
  expect(r.code, r.stderr).toBe(0);
}

function expectRefused(r: CliRun, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('eventbench merge', () => {
  beforeAll(async () => {
    await Promise.all([generate('g0', ['--generator-id', '0']), generate('g1', ['--generator-id', '1']), generate('other-seed', ['--generator-id', '2', '--seed', '7'])]);
    const old = JSON.parse(readFileSync(file('g1'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'v2.json'), JSON.stringify({ ...old, schemaVersion: 2 }));
  }, 60_000);

  it('adds up two generators of one run', async () => {
    const r = await eventbench(['merge', file('g0'), file('g1'), '--out', join(dir, 'ok')]);
    expect(r.code, r.stderr).toBe(0);
    const merged = loadResultSchema.parse(JSON.parse(readFileSync(file('ok'), 'utf8')));
    const parts = [file('g0'), file('g1')].map((f) => loadResultSchema.parse(JSON.parse(readFileSync(f, 'utf8'))));
    expect(merged.backends[0]!.totals.events).toBe(parts[0]!.backends[0]!.totals.events + parts[1]!.backends[0]!.totals.events);
    expect(merged.scenario.rate).toBe(400);
    // The timelines add up second by second: no append is lost or counted twice in the alignment.
    const appendsIn = (r: typeof merged) => r.backends[0]!.timeline.reduce((a, t) => a + t.appends, 0);
    expect(appendsIn(merged)).toBe(appendsIn(parts[0]!) + appendsIn(parts[1]!));
    expect(merged.merged!.generators.map((g) => g.runId)).toEqual(['r1g0', 'r1g1']);
    // The run's one consumer is generator 0's (it reads every generator's events): the merged result keeps it.
    expect(parts[1]!.backends[0]!.consumer).toBeNull();
    expect(merged.backends[0]!.consumer).toEqual(parts[0]!.backends[0]!.consumer);
    expect(merged.backends[0]!.histograms.endToEnd).toBe(parts[0]!.backends[0]!.histograms.endToEnd);
  });

  it('refuses results of another seed', async () => {
    expectRefused(await eventbench(['merge', file('g0'), file('other-seed'), '--out', join(dir, 'x1')]), /differ in seed \(1 vs 7\)/);
  });

  it('refuses results of which more than one ran a consumer', async () => {
    const twoConsumers = JSON.parse(readFileSync(file('g0'), 'utf8')) as { scenario: { runId: string }; generator: { id: number } };
    twoConsumers.scenario.runId = 'r1g9';
    twoConsumers.generator.id = 9;
    writeFileSync(join(dir, 'consumer2.json'), JSON.stringify(twoConsumers));
    expectRefused(await eventbench(['merge', file('g0'), join(dir, 'consumer2.json'), '--out', join(dir, 'x6')]), /each ran a consumer/);
  });

  it('refuses the same result twice', async () => {
    expectRefused(await eventbench(['merge', file('g0'), file('g0'), '--out', join(dir, 'x2')]), /same run/);
  });

  it('refuses a bench result, an older schema version and a single file', async () => {
    expectRefused(await eventbench(['merge', file('g0'), 'test/fixtures/results/bench-runs-v3.json', '--out', join(dir, 'x3')]), /merge adds up eventbench load results/);
    expectRefused(await eventbench(['merge', file('g0'), join(dir, 'v2.json'), '--out', join(dir, 'x4')]), /schema version 2 cannot be merged/);
    expectRefused(await eventbench(['merge', file('g0'), '--out', join(dir, 'x5')]), /at least two results/);
  });
});

describe('load --start-at / --generator-id', () => {
  // The parsers' cases are unit-tested (start-at.unit.test.ts); here: the CLI refuses before anything starts.
  it('refuses an instant in the past and a max search, with exit code 2', async () => {
    const past = new Date(Date.now() - 60_000).toISOString();
    expectRefused(await eventbench(['load', '--backend', 'jetstream', '--start-at', past]), /--start-at .* in the past/);
    expectRefused(await eventbench(['load', '--backend', 'jetstream', '--start-at', '+5s', '--executor', 'max']), /--start-at works with --executor constant, ramp or closed/);
  });
});
