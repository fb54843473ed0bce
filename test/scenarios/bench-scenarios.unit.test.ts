/**
 * The bench scenarios are data (scenarios/bench/*.yaml): every shipped file validates in both variants,
 * a broken file is refused with one line naming the file and the field, and a scenario resolves to the
 * `bench` flags with explicit flags winning.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/event-store.ts';
import { applyScenario, BENCH_SCENARIO_DIR, benchScenarioNames, loadBenchScenario, scenarioFlags, withScenario } from '../../src/runners/bench/scenario-catalog.ts';
import { parseDuration } from '../../src/runners/load/parse.ts';
import { createGenerator } from '../../src/runners/load/load-side.ts';
import { parseLoadOptions, type LoadCliOptions } from '../../src/cli/commands/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-test-bench-scenarios-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench scenarios', () => {
  it('lists every file in scenarios/bench/, including the ones the benchmark question needs', () => {
    const files = readdirSync(BENCH_SCENARIO_DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
    expect(benchScenarioNames()).toEqual(files);
    expect(files).toEqual(expect.arrayContaining(['cases', 'documents', 'uploads', 'domain-events', 'invoices', 'many-streams', 'contention', 'catch-up', 'projection-rebuild']));
  });

  it.each(benchScenarioNames())('%s validates, and its quick variant is short', (name) => {
    const s = loadBenchScenario(name);
    expect(s.description.length).toBeGreaterThan(10);
    const quick = scenarioFlags(s, true);
    expect(parseDuration(quick.duration ?? '5s')).toBeLessThanOrEqual(6000);
    expect(parseDuration(quick.warmup ?? '0s', '--warmup', { allowZero: true })).toBeLessThanOrEqual(1000);
  });

  it('the fixed shapes hold: cases starts at 100/s and searches the max; many-streams reaches 1,000,000 streams', () => {
    expect(scenarioFlags(loadBenchScenario('cases'), false)).toMatchObject({ workload: 'debt-cases', executor: 'max', rate: '100/s', processors: true });
    expect(scenarioFlags(loadBenchScenario('catch-up'), true)).toMatchObject({ replay: 'catch-up' });
    expect(scenarioFlags(loadBenchScenario('projection-rebuild'), true)).toMatchObject({ workload: 'debt-cases', replay: 'projection-rebuild' });
    expect(scenarioFlags(loadBenchScenario('many-streams'), false)).toMatchObject({ streams: '1000000' });
    expect(scenarioFlags(loadBenchScenario('contention'), false)).toMatchObject({ executor: 'closed', streams: '4', retries: '10' });
    expect(scenarioFlags(loadBenchScenario('contention'), true)).toMatchObject({ retries: '10' });
  });

  const base = 'description: a test scenario\nworkload: synthetic\n';
  const bad: [string, string, RegExp][] = [
    ['an unknown key', `${base}rate: 100/s\nspeed: 3\n`, /bad-1\.yaml: .*Unrecognized key.*speed/],
    ['an unknown key in quick', `${base}rate: 100/s\nquick: { durashun: 1s }\n`, /bad-2\.yaml: quick: Unrecognized key.*durashun/],
    ['a bad rate', `${base}rate: fast\n`, /bad-3\.yaml: rate: "fast" is not a rate/],
    ['a bad quick rate', `${base}rate: 100/s\nquick: { rate: 0/s }\n`, /bad-4\.yaml: quick\.rate: "0\/s" must be greater than 0/],
    ['a bad duration', `${base}duration: soon\n`, /bad-5\.yaml: duration: "soon" is not a duration/],
    ['an unknown workload', 'description: a test scenario\nworkload: nope\n', /bad-6\.yaml: workload: /],
    ['executors that clash', `${base}writers: 3\nstages: '100/s:1s'\n`, /bad-7\.yaml: writers: --writers cannot be combined/],
    ['not YAML', 'description: a: b', /bad-8\.yaml: not valid YAML/],
    ['a replay the workload has no read model for', `${base}replay: projection-rebuild\n`, /bad-9\.yaml: replay: --replay projection-rebuild rebuilds the debt-case read model/],
    ['a bad SLO', `${base}executor: max\nrate: 100/s\nslo: 'error_rate<1%'\n`, /bad-10\.yaml: slo: .*append latency objective/],
    ['processors on a workload without any', `${base}processors: true\n`, /bad-11\.yaml: processors: .*has none/],
    ['an event size for a workload with its own sizes', 'description: a test scenario\nworkload: documents\neventSize: 1024\n', /bad-12\.yaml: eventSize: .*documents's events have the sizes of their domain/],
    ['retries without a closed loop', `${base}rate: 100/s\nretries: 3\n`, /bad-13\.yaml: retries: --retries cannot be combined with --rate \(a constant rate\): --retries belongs to --executor closed/],
    ['a consumer name JetStream would refuse', `${base}consumer: { name: "a.b", maxAckPending: 100 }\n`, /bad-14\.yaml: consumer: "a\.b": letters, digits/],
    ['an event size below the minimum', `${base}quick: { eventSize: 10 }\n`, /bad-15\.yaml: quick\.eventSize: .*at least 128 bytes/],
  ];
  it.each(bad.map(([what, text, re], i) => [what, text, re, i] as const))('a scenario with %s is refused with the file and field named', (_, text, re, i) => {
    writeFileSync(join(dir, `bad-${i + 1}.yaml`), text);
    expect(() => loadBenchScenario(`bad-${i + 1}`, dir)).toThrow(ConfigError);
    expect(() => loadBenchScenario(`bad-${i + 1}`, dir)).toThrow(re);
  });

  it('an unknown name is one line listing the available scenarios', () => {
    expect(() => loadBenchScenario('nope')).toThrow(/unknown bench scenario "nope": available: .*documents/);
  });

  it('explicit flags override the scenario; a flag picking another executor drops the scenario executor values', () => {
    const flags = scenarioFlags(loadBenchScenario('cases'), true);
    const defaults = { workload: 'synthetic', duration: '5s', rate: undefined as string | undefined, writers: undefined as string | undefined };
    expect(applyScenario(defaults, flags, () => false)).toMatchObject({ workload: 'debt-cases', executor: 'max', rate: '250/s', duration: '6s' });
    expect(applyScenario({ ...defaults, rate: '300/s' }, flags, (k) => k === 'rate')).toMatchObject({ executor: 'max', rate: '300/s' });
    const closed = applyScenario({ ...defaults, writers: '4' }, flags, (k) => k === 'writers');
    expect(closed).toMatchObject({ writers: '4', workload: 'debt-cases', duration: '6s' });
    expect(closed).not.toHaveProperty('executor');
    expect(closed).not.toHaveProperty('slo');
  });

  it('--quick without --scenario is refused', () => {
    expect(() => withScenario({ quick: true }, () => false)).toThrow(/--quick shortens a scenario: give --scenario NAME/);
    expect(withScenario({}, () => false).scenario).toBeNull();
    const { notice } = withScenario({ scenario: 'documents', quick: true, rate: '50/s' }, (k) => k === 'rate');
    expect(notice).toMatch(/^scenario documents \(quick\) from scenarios\/bench\/documents\.yaml: documents, 200\/s constant.*; overridden by flags: rate$/);
  });

  it('a scenario\'s eventSize reaches the events: catch-up and many-streams write ~1 KB of data per event, set explicitly', () => {
    const cliDefaults = { workload: 'synthetic', duration: '5s', warmup: '1s', maxInFlight: '1000', workers: '1', streams: '1000', seed: '1', drainTimeout: '10s', threshold: [], namespace: 'eventbench', consumer: true, metrics: true, metricsHost: '127.0.0.1' } as unknown as LoadCliOptions;
    for (const [name, bytes] of [['catch-up', 1024], ['many-streams', 1024]] as const) {
      for (const quick of [false, true]) {
        expect(scenarioFlags(loadBenchScenario(name), quick)).toMatchObject({ eventSize: String(bytes) });
        const { opts } = withScenario({ ...cliDefaults, scenario: name, quick }, () => false);
        const parsed = parseLoadOptions(opts, { rate: '500/s' });
        expect(parsed.scenario.eventBytes).toBe(bytes);
        const gen = createGenerator({ ...parsed.scenario, index: 0, count: 1 });
        for (let i = 0; i < 20; i++) {
          for (const e of gen.next().events) {
            const size = JSON.stringify(e.data).length;
            expect(Math.abs(size - bytes) / bytes).toBeLessThan(0.03);
          }
        }
      }
    }
    // And a different value really changes the events (the test would pass on the default alone otherwise).
    writeFileSync(join(dir, 'sized.yaml'), 'description: a test scenario\nworkload: synthetic\neventSize: 4096\n');
    const { opts } = withScenario({ ...cliDefaults, scenario: 'sized' }, () => false, dir);
    const gen = createGenerator({ ...parseLoadOptions(opts, { rate: '500/s' }).scenario, index: 0, count: 1 });
    const size = JSON.stringify(gen.next().events[0]!.data).length;
    expect(Math.abs(size - 4096) / 4096).toBeLessThan(0.03);
  });
});
