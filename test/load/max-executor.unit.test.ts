/**
 * The max executor against a scripted system (no store, no servers): the steps it runs follow the rate
 * controller, a step that leaves a backlog fails, and the backlog drains before the next step starts
 * (outside the measured steps), so it does not count against that step.
 */
import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/runners/load/clock.ts';
import type { PhaseResult, PhaseSpec } from '../../src/runners/load/executor.ts';
import type { ExecutorContext } from '../../src/runners/load/executors/executor-module.ts';
import { maxExecutor } from '../../src/runners/load/executors/max.ts';
import { formatMaxSearch } from '../../src/report/load-summary.ts';
import { WindowRecorder } from '../../src/runners/load/recorder.ts';
import type { LoadScenario } from '../../src/runners/load/scenario.ts';
import { expectedCount } from '../../src/runners/load/schedule.ts';

/** A system that sustains `capacity` appends/s: above it a step leaves a backlog of what it could not do. */
function scriptedContext(capacity: number) {
  const clock = createVirtualClock();
  const log: string[] = [];
  let backlog = 0;
  const scenario: LoadScenario = {
    executor: 'max', workload: 'synthetic', seed: 1, runId: 'r', rate: 100, durationMs: 60_000, warmupMs: 0, maxInFlight: 1_000_000,
    workers: 1, drainTimeoutMs: 5000, consumer: false, metrics: false, stepDurationMs: 1000,
    slo: { source: 'p99<50ms', metric: 'p99', op: '<', value: 50 },
  };
  const ctx: ExecutorContext = {
    scenario, clock, signal: new AbortController().signal, sides: 1, consumer: null, lagSamples: new Map(),
    setPhase: () => {}, setSchedule: () => {}, setMeasureStart: () => {}, setTotalMs: () => {}, countWholeRun: () => {},
    async runPhase(spec: (i: number) => PhaseSpec): Promise<PhaseResult[]> {
      const s = spec(0);
      await clock.sleep(s.startAt - clock.now() + s.durationMs);
      const due = Math.round(expectedCount(s.segments!));
      const rate = due / (s.durationMs / 1000);
      log.push(`step ${rate}/s${backlog > 0 ? ` with ${backlog} left from before` : ''}`);
      const rec = new WindowRecorder(s.startAt, s.startAt + s.durationMs);
      // A backlog still in flight from an earlier step holds this one's appends back: each waits for it.
      const served = Math.min(due, Math.max(0, Math.floor((capacity * s.durationMs) / 1000) - backlog));
      for (let i = 0; i < due; i++) {
        const intended = s.startAt + (i * s.durationMs) / due;
        rec.onSend(intended, intended);
        if (i < served) rec.onAck(intended, intended, intended + 1 + (backlog > 0 ? 100 : 0), 1, 'synthetic.recorded');
      }
      backlog = due - served;
      return [{ measure: rec.toResult() }];
    },
    async waitIdle(timeoutMs: number): Promise<boolean> {
      log.push(`drain ${backlog}`);
      await clock.sleep(Math.min(timeoutMs, backlog));
      backlog = 0;
      return true;
    },
  };
  return { ctx, log };
}

describe('max executor', () => {
  it("drains a failed step's backlog before the next step, so the next one is judged on its own", async () => {
    const { ctx, log } = scriptedContext(1000);
    const out = await maxExecutor.run(ctx);
    const steps = out.maxSearch!.steps;
    // 100, 200, 400, 800 pass; 1600 fails (backlog); bisecting: 1200 fails, 1000 passes, 1100 fails.
    expect(steps.map((s) => [s.targetRate, s.passed])).toEqual([
      [100, true], [200, true], [400, true], [800, true], [1600, false], [1200, false], [1000, true], [1100, false],
    ]);
    expect(steps[4]!.reason).toMatch(/still in flight/);
    // Every step after a failed one started with nothing left over: the drain ran in between.
    expect(log.filter((l) => l.includes('left from before'))).toEqual([]);
    expect(log.indexOf('drain 600')).toBe(log.indexOf('step 1600/s') + 1);
    expect(out.maxSearch).toMatchObject({ sustainableRate: 1000, limitFound: true, hint: null });
  });

  it('a search in which no step failed reports a lower bound, in the JSON and the table', async () => {
    const { ctx } = scriptedContext(Number.POSITIVE_INFINITY);
    ctx.scenario.durationMs = 4000;
    const out = await maxExecutor.run(ctx);
    const search = out.maxSearch!;
    expect(search.steps.map((s) => [s.targetRate, s.passed])).toEqual([[100, true], [200, true], [400, true], [800, true]]);
    expect(search).toMatchObject({ sustainableRate: 800, limitFound: false, hint: 'no step failed, so this is a lower bound: raise --duration or --rate to find the limit' });
    expect(formatMaxSearch(search)).toBe('max sustainable rate under p99<50ms: at least 800/s (no step failed, so this is a lower bound: raise --duration or --rate to find the limit)');
  });
});
