/**
 * The numbers of `eventbench bench` that need no server: median and min-max over runs, the noise verdict
 * between backends, efficiency from a pair of rounds (and what it is a ratio of), the round plan
 * (adapter then raw, per run), the flags' bad input, and the durability profile's settings and ack lines.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/event-store.ts';
import type { Environment } from '../../src/core/environment.ts';
import { jetStreamSyncConfig } from '../../src/infra/managed-nats.ts';
import { failedBackendResult } from '../../src/report/result-assembly.ts';
import type { BackendResult } from '../../src/report/load-result.ts';
import { metricStats } from '../../src/runners/bench/bench-block.ts';
import { ackMeaning, durabilitySettings, parseDurability } from '../../src/runners/bench/durability.ts';
import { computeEfficiencies, efficiencyKind, pairRatios } from '../../src/runners/bench/efficiency.ts';
import { parseRuns, planRounds } from '../../src/runners/bench/rounds.ts';
import { latencyAtRounds, latencyAtScenario, parseLatencyAt } from '../../src/runners/bench/latency-at.ts';
import { throughputOf } from '../../src/runners/bench/metrics.ts';
import type { LoadScenario } from '../../src/runners/load/scenario.ts';
import { overlaps, spread, verdict } from '../../src/runners/bench/stats.ts';

/** A measured round: throughput, p50 / p99 and CPU seconds, the rest as a failed result's zeros. */
function round(backend: string, run: number, o: { eps: number; p50: number; p99: number; cpu: number; baselineOf?: string }): BackendResult {
  const r = failedBackendResult(backend, new Error('x'), 1);
  const latency = { count: 100, mean: o.p50, p50: o.p50, p90: o.p99, p99: o.p99, p999: o.p99, max: o.p99 };
  return {
    ...r,
    error: null,
    run,
    baselineOf: o.baselineOf ?? null,
    throughput: { eventsPerSec: o.eps, appendsPerSec: o.eps, targetPerSec: null },
    latency,
    totals: { ...r.totals, wholeRun: { ...r.totals.wholeRun, events: 1000 } },
    resources: { loadGenerator: { ...r.resources.loadGenerator, cpuSeconds: o.cpu }, servers: [] },
  };
}

describe('spread and noise', () => {
  it('median of odd and even counts, min and max, values in run order', () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, values: [3, 1, 2] });
    expect(spread([4, 1, 3, 2]).median).toBe(2.5);
    expect(() => spread([])).toThrow();
  });

  it('a difference whose ranges overlap is noise; a clear one names the better backend', () => {
    const a = spread([100, 110, 120]);
    const b = spread([115, 130, 140]);
    expect(overlaps(a, b)).toBe(true);
    expect(verdict({ a, b }, 'higher')).toBe('noise');
    const c = spread([200, 210, 220]);
    expect(verdict({ a, c }, 'higher')).toBe('c');
    expect(verdict({ a, c }, 'lower')).toBe('a');
  });

  it('no verdict from one run (a single value has no spread) or one backend', () => {
    expect(verdict({ a: spread([1]), b: spread([5]) }, 'higher')).toBeNull();
    expect(verdict({ a: spread([1, 2]) }, 'higher')).toBeNull();
  });

  it('metric statistics judge adapters only; baselines get their spread but no say in the verdict', () => {
    const results = [1, 2, 3].flatMap((run) => [
      round('postgres', run, { eps: 100 + run, p50: 1, p99: 10, cpu: 1 }),
      round('raw-postgres', run, { eps: 1000, p50: 1, p99: 1, cpu: 1, baselineOf: 'postgres' }),
      round('jetstream', run, { eps: 300 + run, p50: 1, p99: 9 + run, cpu: 1 }),
    ]);
    const stats = metricStats(results);
    const throughput = stats.find((m) => m.metric === 'throughput')!;
    expect(throughput.stores.postgres).toEqual({ median: 102, min: 101, max: 103, values: [101, 102, 103] });
    expect(throughput.stores['raw-postgres']!.median).toBe(1000);
    expect(throughput.verdict).toBe('jetstream');
    // p99 10 (every run) against 10-12: the ranges touch, so the difference is inside the spread.
    expect(stats.find((m) => m.metric === 'p99')!.verdict).toBe('noise');
    expect(stats.find((m) => m.metric === 'p50')!.verdict).toBe('noise');
  });
});

describe('efficiency', () => {
  const adapter = round('postgres', 1, { eps: 900, p50: 2, p99: 20, cpu: 2 });
  const raw = round('raw-postgres', 1, { eps: 1000, p50: 1, p99: 10, cpu: 1, baselineOf: 'postgres' });

  it('each ratio is oriented so that 1 is "as good as the raw driver"', () => {
    expect(pairRatios(adapter, raw)).toEqual({ throughput: 0.9, p50: 0.5, p99: 0.5, cpuPerEvent: 0.5, replay: null });
    const replay = (eventsPerSec: number) => ({ kind: 'catch-up' as const, events: 1, expected: 1, complete: true, seconds: 1, eventsPerSec, pages: 1, pageSize: 1000, pageLatency: adapter.latency });
    expect(pairRatios({ ...adapter, replay: replay(800) } as BackendResult, { ...raw, replay: replay(1000) } as BackendResult).replay).toBe(0.8);
  });

  it('is of latency at a fixed rate and of throughput where the load finds the limit', () => {
    expect(efficiencyKind('constant')).toBe('latency');
    expect(efficiencyKind('ramp')).toBe('latency');
    expect(efficiencyKind('max')).toBe('throughput');
    expect(efficiencyKind('closed')).toBe('throughput');
    const [fixed] = computeEfficiencies([adapter, raw], 'constant', '500/s');
    expect(fixed).toMatchObject({ backend: 'postgres', baseline: 'raw-postgres', of: 'latency' });
    expect(fixed!.value.median).toBe(0.5);
    expect(fixed!.definition).toMatch(/raw-postgres p99 \/ postgres p99 at 500\/s/);
    expect(computeEfficiencies([adapter, raw], 'closed', '10 writers')[0]!.value.median).toBe(0.9);
  });

  it('needs the raw round of the same run: without baseline rounds there is no efficiency', () => {
    expect(computeEfficiencies([adapter], 'constant', '500/s')).toEqual([]);
    expect(computeEfficiencies([adapter, { ...raw, run: 2 }], 'constant', '500/s')).toEqual([]);
  });

  it('over runs: one ratio per run, median and spread', () => {
    const rs = [1, 2, 3].flatMap((run) => [round('jetstream', run, { eps: 800 + run * 50, p50: 1, p99: 1, cpu: 1 }), round('raw-jetstream', run, { eps: 1000, p50: 1, p99: 1, cpu: 1, baselineOf: 'jetstream' })]);
    const [e] = computeEfficiencies(rs, 'max', 'max under p99<50ms');
    expect(e!.value).toEqual({ median: 0.9, min: 0.85, max: 0.95, values: [0.85, 0.9, 0.95] });
  });
});

describe('rounds and flags', () => {
  it('per run: each backend, then its raw driver; memory has none; --no-baseline none at all', () => {
    const plan = planRounds(['postgres', 'memory', 'jetstream'], { runs: 2, baseline: true }, 'rabc');
    expect(plan.map((r) => `${r.run}:${r.store}`)).toEqual(['1:postgres', '1:raw-postgres', '1:memory', '1:jetstream', '1:raw-jetstream', '2:postgres', '2:raw-postgres', '2:memory', '2:jetstream', '2:raw-jetstream']);
    expect(plan[1]).toMatchObject({ baselineOf: 'postgres' });
    expect(new Set(plan.map((r) => `${r.store}/${r.runId}`)).size).toBe(plan.length);
    expect(plan.every((r) => /^[A-Za-z0-9_]{1,24}$/.test(r.runId))).toBe(true);
    expect(planRounds(['postgres'], { runs: 1, baseline: false }, 'r').map((r) => r.store)).toEqual(['postgres']);
  });

  it('refuses bad --runs and --durability with one line naming the flag', () => {
    expect(parseRuns('3')).toBe(3);
    for (const bad of ['0', '-1', '2.5', 'x', '21']) expect(() => parseRuns(bad)).toThrow(ConfigError);
    expect(() => parseRuns('0')).toThrow(/--runs "0": a whole number from 1 to 20/);
    expect(parseDurability(undefined)).toBe('default');
    expect(() => parseDurability('strict')).toThrow(/--durability "strict": expected default or matched/);
  });
});

describe('durability profiles', () => {
  const env = (nats: { version: string; syncAlways: boolean | null; durability: string } | null): Environment =>
    ({
      postgres: { settings: { fsync: 'on', synchronous_commit: 'on' } },
      nats: nats && { version: nats.version, managed: true, jetstream: { syncAlways: nats.syncAlways, durability: nats.durability } },
    }) as unknown as Environment;
  const nats29 = env({ version: '2.9.10', syncAlways: null, durability: 'a publish ack means "in the server\'s memory"' });
  const nats212 = env({ version: '2.12.0', syncAlways: true, durability: 'sync_interval: always: every write is fsynced before the ack' });

  it('matched against nats-server 2.9: PostgreSQL sessions (adapter and raw) get synchronous_commit=off', () => {
    expect(durabilitySettings('matched', 'postgres', nats29)).toEqual({ synchronousCommit: 'off' });
    expect(durabilitySettings('matched', 'raw-postgres', nats29)).toEqual({ synchronousCommit: 'off' });
    expect(durabilitySettings('matched', 'jetstream', nats29)).toBeUndefined();
    expect(durabilitySettings('default', 'postgres', nats29)).toBeUndefined();
  });

  it('matched against a JetStream that fsyncs before acking: PostgreSQL keeps its fsynced commits', () => {
    expect(durabilitySettings('matched', 'postgres', nats212)).toBeUndefined();
  });

  it('a managed nats-server 2.10+ gets sync_interval: always; 2.9 has no such option and gets no config', () => {
    expect(jetStreamSyncConfig('2.10.0', true)).toBe('jetstream {\n  sync_interval: always\n}\n');
    expect(jetStreamSyncConfig('2.12.1-beta', true)).toMatch(/sync_interval: always/);
    expect(jetStreamSyncConfig('2.9.10', true)).toBeNull();
    expect(jetStreamSyncConfig('2.12.0', false)).toBeNull();
    expect(jetStreamSyncConfig('unknown', true)).toBeNull();
  });

  it('says in one line what an ack means, from the settings read back', () => {
    expect(ackMeaning('postgres', { synchronous_commit: 'off', fsync: 'on', wal_writer_delay: '200' }, nats29)).toMatch(/synchronous_commit=off.*in the server's memory.*200 ms/);
    expect(ackMeaning('postgres', { synchronous_commit: 'on', fsync: 'on' }, nats29)).toMatch(/WAL is flushed to disk/);
    expect(ackMeaning('jetstream', {}, nats29)).toMatch(/in the server's memory/);
  });
});

describe('latency at a stated fraction of the max', () => {
  it('parses fractions or percentages, each in (0, 1], once', () => {
    expect(parseLatencyAt('0.5,0.9')).toEqual([0.5, 0.9]);
    expect(parseLatencyAt('50%, 90%')).toEqual([0.5, 0.9]);
    expect(parseLatencyAt(undefined)).toEqual([]);
    for (const bad of ['0', '1.5', '150%', 'x', '0.5,0.5']) expect(() => parseLatencyAt(bad)).toThrow(ConfigError);
  });

  it('follows an adapter max round that found a rate with fixed-rate rounds at its fractions; a baseline gets none', () => {
    const [round0] = planRounds(['postgres'], { runs: 1, baseline: true }, 'rid');
    const found = { ...round('postgres', 1, { eps: 1, p50: 1, p99: 1, cpu: 1 }), maxSearch: { slo: 'p99<50ms', sustainableRate: 1000, limitFound: true, hint: null, steps: [] } };
    const follow = latencyAtRounds(round0!, found, [0.5, 0.9]);
    expect(follow.map((r) => r.latencyAt)).toEqual([{ fraction: 0.5, rate: 500 }, { fraction: 0.9, rate: 900 }]);
    // Each follow-up writes into a namespace of its own (a seed-determined workload would resend duplicates).
    expect(new Set([round0!.namespace, ...follow.map((r) => r.namespace)]).size).toBe(3);
    expect(latencyAtRounds({ ...round0!, baselineOf: 'postgres' }, found, [0.5])).toEqual([]);
    expect(latencyAtRounds(follow[0]!, found, [0.5])).toEqual([]);
    expect(latencyAtRounds(round0!, { ...found, maxSearch: { ...found.maxSearch, sustainableRate: null } }, [0.5])).toEqual([]);
    const base = { executor: 'max', rate: 100, durationMs: 60_000, stepDurationMs: 5_000, runId: 'x' } as unknown as LoadScenario;
    expect(latencyAtScenario(base, follow[1]!)).toMatchObject({ executor: 'constant', rate: 900, durationMs: 5_000, runId: follow[1]!.runId });
  });

  it('a max round stands for the rate its search found, in events/s (efficiency of throughput compares those)', () => {
    const found = (backend: string, rate: number, baselineOf?: string) => ({
      ...round(backend, 1, { eps: 10, p50: 1, p99: 1, cpu: 1, ...(baselineOf ? { baselineOf } : {}) }),
      totals: { ...round(backend, 1, { eps: 1, p50: 1, p99: 1, cpu: 1 }).totals, appends: 100, events: 200 },
      maxSearch: { slo: 'p99<50ms', sustainableRate: rate, limitFound: true, hint: null, steps: [] },
    });
    expect(throughputOf(found('postgres', 400))).toBe(800);
    expect(computeEfficiencies([found('postgres', 400), found('raw-postgres', 500, 'postgres')], 'max', 'max')[0]!.value.median).toBe(0.8);
  });
});
