/** The ramp, closed and max executors end to end on the memory backend (no servers, short runs). */
import { describe, expect, it } from 'vitest';
import { runLoad, type LoadScenario } from '../../src/runners/load/run.ts';
import { formatMaxSearch } from '../../src/report/load-summary.ts';
import { uniqueName } from '../support/servers.ts';

function run(scenario: Partial<LoadScenario>) {
  return runLoad({
    backend: 'memory',
    backendOptions: { namespace: uniqueName('exec') },
    scenario: {
      executor: 'constant',
      workload: 'synthetic',
      seed: 5,
      runId: uniqueName('r'),
      durationMs: 2000,
      warmupMs: 0,
      maxInFlight: 10_000,
      workers: 1,
      drainTimeoutMs: 5000,
      consumer: false,
      metrics: false,
      ...scenario,
    },
  });
}

describe('executors on memory', () => {
  it('ramp: sends the integral of the rate and the timeline follows the target', async () => {
    const r = await run({ executor: 'ramp', rate: 0, stages: [{ rate: 2000, durationMs: 2000 }], durationMs: 2000 });
    expect(r.totals.sent).toBe(2000);
    expect(r.timeline.map((t) => t.targetRate)).toEqual([500, 1500]);
    expect(r.timeline[1]!.events).toBeGreaterThan(r.timeline[0]!.events * 2);
  });

  it('closed: writers as fast as they can, no target rate', async () => {
    const r = await run({ executor: 'closed', writers: 4 });
    expect(r.throughput.targetPerSec).toBeNull();
    expect(r.totals.appends).toBeGreaterThan(500);
    expect(r.dropped.count).toBe(0);
    // Closed loop has no schedule to fall behind: intended = actual send time.
    expect(r.sendDelay.max).toBe(0);
  });

  it('max: runs doubling steps on a real (in-process) store and reports what it found', async () => {
    const r = await run({
      executor: 'max',
      rate: 50,
      durationMs: 2000,
      stepDurationMs: 500,
      slo: { source: 'p99<10s', metric: 'p99', op: '<', value: 10_000 },
    });
    const search = r.maxSearch!;
    const steps = search.steps;
    expect(steps.length).toBeGreaterThanOrEqual(2);
    expect(steps[0]!.targetRate).toBe(50);
    if (steps[0]!.passed) expect(steps[1]!.targetRate).toBe(100);
    const passed = steps.filter((s) => s.passed).map((s) => s.targetRate);
    expect(search.sustainableRate).toBe(passed.length ? Math.max(...passed) : null);
    // A limit is found exactly when a step failed; otherwise the result says it is a lower bound.
    expect(search.limitFound).toBe(steps.some((s) => !s.passed));
    if (!search.limitFound) expect(formatMaxSearch(search)).toMatch(/at least .*lower bound: raise --duration or --rate/);
  });
});
