/**
 * The sweep's pure parts (src/runners/bench/sweep.ts) and the event-size knob it varies: specs parse or
 * are refused in one line, the planned time counts every round, and `--event-size` pads the synthetic
 * workload's data to about the size asked for.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/event-store.ts';
import { checkSweepTime, estimateSweepMs, parseSweep } from '../../src/runners/bench/sweep.ts';
import { syntheticWorkload } from '../../src/workloads/synthetic.ts';

describe('parseSweep', () => {
  it('reads one parameter and its values, with k / m suffixes', () => {
    expect(parseSweep('streams=1000,100k,1m')).toEqual({ parameter: 'streams', values: [1000, 100_000, 1_000_000] });
    expect(parseSweep('size=256,1024,16384,65536')).toEqual({ parameter: 'size', values: [256, 1024, 16384, 65536] });
    expect(parseSweep('writers=1,4,16,64')).toEqual({ parameter: 'writers', values: [1, 4, 16, 64] });
  });

  it.each([
    ['streams', /expected <parameter>=<v1>,<v2>/],
    ['rate=1,2', /unknown parameter "rate"/],
    ['streams=5', /at least two values/],
    ['streams=0,5', /--sweep streams value "0"/],
    ['streams=2m,5', /--sweep streams value "2m"/],
    ['writers=1,2,3,4,5,6,7,8,9,10,11,12,13', /13 values, at most 12/],
  ])('refuses %s', (spec, message) => {
    expect(() => parseSweep(spec)).toThrow(ConfigError);
    expect(() => parseSweep(spec)).toThrow(message);
  });
});

describe('the planned time of a sweep', () => {
  it('counts points, backends, baselines, runs and latency-at rounds, and refuses more than 2 h', () => {
    const scenario = { warmupMs: 1000, durationMs: 5000, stepDurationMs: undefined };
    const one = estimateSweepMs(1, scenario, { backends: 2, baseline: false, runs: 1, latencyAt: 0 });
    expect(estimateSweepMs(3, scenario, { backends: 2, baseline: false, runs: 1, latencyAt: 0 })).toBe(3 * one);
    expect(estimateSweepMs(1, scenario, { backends: 2, baseline: true, runs: 1, latencyAt: 0 })).toBeGreaterThan(one);
    expect(estimateSweepMs(1, scenario, { backends: 2, baseline: false, runs: 3, latencyAt: 0 })).toBeGreaterThan(2 * one);
    expect(() => checkSweepTime({ parameter: 'streams', values: [1, 2] }, 2 * 3_600_000 + 1)).toThrow(/about 121 min, more than 2h/);
    expect(() => checkSweepTime({ parameter: 'streams', values: [1, 2] }, 3_600_000)).not.toThrow();
  });
});

describe('--event-size (synthetic)', () => {
  it.each([256, 1024, 16384, 65536])('pads the data of each event to about %i bytes of JSON', (size) => {
    const gen = syntheticWorkload.create({ seed: 1, eventBytes: size } as Parameters<typeof syntheticWorkload.create>[0]);
    for (let i = 0; i < 20; i++) {
      const bytes = JSON.stringify(gen.next().events[0]!.data).length;
      expect(bytes).toBeGreaterThan(size * 0.9);
      expect(bytes).toBeLessThanOrEqual(size * 1.05);
    }
  });
});
