/**
 * compare's verdicts: a 30 % throughput drop is a regression, a 3 % change is noise (the default ±5 %
 * band), several runs compare medians with the runs' spread as the band, latency that rises
 * is worse, errors appearing are a regression, and another workload / executor / load is refused.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { comparabilityProblems, compareResults, environmentDifferences, formatComparison } from '../../src/report/compare.ts';
import { parseResult, readResultFile, type RenderableResult } from '../../src/report/result-file.ts';

const fixture = (name: string): string => new URL(`../fixtures/results/${name}`, import.meta.url).pathname;

const base = (): RenderableResult =>
  parseResult(JSON.parse(readFileSync(new URL('../fixtures/results/bench-ramp-v2.json', import.meta.url), 'utf8')), 'bench-ramp-v2.json');

/** A copy of the fixture with one backend's numbers changed. */
function changed(edit: (b: RenderableResult['backends'][number]) => void, backend = 'postgres'): RenderableResult {
  const r = base();
  edit(r.backends.find((b) => b.backend === backend)!);
  return r;
}

const row = (c: ReturnType<typeof compareResults>, backend: string, metric: string) => c.rows.find((r) => r.backend === backend && r.metric === metric)!;

describe('compareResults', () => {
  it('a result against itself: every metric within noise, no regression', () => {
    const c = compareResults(base(), base());
    expect(c.rows.length).toBe(16);
    expect(c.rows.every((r) => r.verdict === 'within noise' || r.verdict === 'n/a')).toBe(true);
    expect(c.regressions).toEqual([]);
    expect(c.environmentDifferences).toEqual([]);
  });

  it('flags a 30 % throughput drop as a regression and calls a 3 % change noise', () => {
    const drop = compareResults(base(), changed((b) => (b.throughput.eventsPerSec *= 0.7)), { failOn: 0.1 });
    expect(row(drop, 'postgres', 'throughput')).toMatchObject({ verdict: 'worse', regression: true });
    expect(row(drop, 'postgres', 'throughput').delta).toBeCloseTo(-0.3);
    expect(drop.regressions.map((r) => `${r.backend} ${r.metric}`)).toEqual(['postgres throughput']);
    expect(formatComparison(drop, 'a.json', 'b.json')).toMatch(/1 regression\(s\) beyond noise and --fail-on 10%: postgres throughput -30\.0%/);
    const small = compareResults(base(), changed((b) => (b.throughput.eventsPerSec *= 0.97)), { failOn: 0.1 });
    expect(row(small, 'postgres', 'throughput')).toMatchObject({ verdict: 'within noise', regression: false, noiseFrom: 'default', noise: 0.05 });
    expect(small.regressions).toEqual([]);
  });

  it('worse beyond noise but within --fail-on is worse, not a regression; better is better', () => {
    const c = compareResults(base(), changed((b) => (b.throughput.eventsPerSec *= 0.92)), { failOn: 0.1 });
    expect(row(c, 'postgres', 'throughput')).toMatchObject({ verdict: 'worse', regression: false });
    const up = compareResults(base(), changed((b) => (b.latency.p99 *= 0.5)));
    expect(row(up, 'postgres', 'p99')).toMatchObject({ verdict: 'better', regression: false });
    const slower = compareResults(base(), changed((b) => (b.latency.p99 *= 2)));
    expect(row(slower, 'postgres', 'p99')).toMatchObject({ verdict: 'worse', regression: true });
  });

  it('errors where there were none are a regression; the error rate is compared in percentage points', () => {
    const c = compareResults(base(), changed((b) => (b.errors.rate = 0.02)));
    expect(row(c, 'postgres', 'errors')).toMatchObject({ verdict: 'worse', regression: true, delta: 0.02 });
    const tiny = compareResults(base(), changed((b) => (b.errors.rate = 0.0005)));
    expect(row(tiny, 'postgres', 'errors').verdict).toBe('within noise');
  });

  it('with several runs compares each store\'s median and takes the runs\' spread as the noise band', () => {
    /** The fixture's backends as runs 1..n with these postgres throughputs. */
    const withRuns = (values: number[]): RenderableResult => {
      const r = base();
      r.backends = values.flatMap((v, i) => base().backends.map((b) => ({ ...b, run: i + 1, throughput: { ...b.throughput, eventsPerSec: b.backend === 'postgres' ? v : b.throughput.eventsPerSec } })));
      return r;
    };
    // Runs from 240 to 330 around 300: a spread of 30 %, so a 20 % drop of the median is inside the noise.
    const c = compareResults(withRuns([240, 300, 330]), withRuns([240, 240, 250]));
    expect(row(c, 'postgres', 'throughput')).toMatchObject({ a: 300, b: 240, verdict: 'within noise', noiseFrom: 'runs', runs: [3, 3] });
    expect(row(c, 'postgres', 'throughput').noise).toBeCloseTo(0.3);
    // Tight runs: the same 3 % drop is worse.
    const tight = compareResults(withRuns([299, 300, 301]), withRuns([291, 291, 292]));
    expect(row(tight, 'postgres', 'throughput')).toMatchObject({ verdict: 'worse', noiseFrom: 'runs', regression: false });
  });

  it('reads a bench of schema version 3: medians over runs, and a raw-driver baseline is never a regression', () => {
    const v3 = (): RenderableResult => readResultFile(fixture('bench-runs-v3.json')).result;
    const same = compareResults(v3(), v3());
    expect([...new Set(same.rows.map((r) => r.backend))]).toEqual(['postgres', 'raw-postgres', 'jetstream', 'raw-jetstream']);
    expect(same.regressions).toEqual([]);
    expect(row(same, 'postgres', 'throughput')).toMatchObject({ noiseFrom: 'runs', runs: [2, 2] });
    const matched = v3();
    (matched as unknown as { bench: { durability: { profile: string } } }).bench.durability.profile = 'matched';
    expect(environmentDifferences(v3(), matched)).toEqual(['durability profile: default vs matched']);
    const slower = v3();
    for (const b of slower.backends) b.throughput.eventsPerSec *= 0.7;
    const c = compareResults(v3(), slower);
    expect(c.regressions.map((r) => r.backend)).toEqual(['postgres', 'jetstream']);
    expect(row(c, 'raw-postgres', 'throughput')).toMatchObject({ verdict: 'worse', regression: false, baseline: true });
  });
});

describe('comparability', () => {
  it('refuses another workload, executor or load shape, and results without a common backend', () => {
    expect(comparabilityProblems(base(), base())).toEqual([]);
    const other = base();
    other.scenario.workload = 'debt-cases';
    expect(comparabilityProblems(base(), other)).toEqual(['workload synthetic vs debt-cases']);
    const exec = base();
    exec.scenario.executor = 'constant';
    expect(comparabilityProblems(base(), exec)).toEqual(['executor ramp vs constant']);
    const stages = base();
    stages.scenario.stages = [{ rate: 100, durationMs: 8000 }];
    expect(comparabilityProblems(base(), stages)[0]).toMatch(/^load ramp .* vs ramp 0\/s then 100\/s:8s$/);
    const named = base();
    Object.assign(named.scenario, { name: 'cases' });
    expect(comparabilityProblems(base(), named)).toEqual(['scenario null vs cases']);
    const alone = base();
    alone.backends = alone.backends.map((b) => ({ ...b, backend: `${b.backend}2` }));
    expect(comparabilityProblems(base(), alone)[0]).toMatch(/^no backend in common/);
  });

  it('lists what differs in the environment: server versions, durability, machine', () => {
    const b = base();
    b.environment.postgres!.version = '15.20';
    b.environment.postgres!.settings.synchronous_commit = 'off';
    b.environment.machine.cores = 8;
    expect(environmentDifferences(base(), b)).toEqual([
      'PostgreSQL version: 18.4 vs 15.20',
      'PostgreSQL synchronous_commit: on vs off',
      expect.stringMatching(/^machine: 2 cores, .* vs 8 cores, /),
    ]);
  });
});
