/**
 * The one phase `constant`, `ramp` and `closed` run: warm-up then the measured window, on every side at
 * once from one start time. The max executor runs a phase per step instead.
 */
import type { PhaseSpec } from '../executor.ts';
import { mergeWindowResults } from '../recorder.ts';
import { totalDurationMs, type Segment } from '../schedule.ts';
import { phaseWindows, shareInFlight, shareSegments, staggerMs, START_DELAY_MS, type ExecutorContext, type ExecutorOutcome } from './executor-module.ts';

/**
 * @param schedule the whole schedule including warm-up (open loop), or null (closed loop)
 * @param targetSegments the measured window's target schedule (for the timeline), or null
 * @param spec side i's phase, given the common start time
 */
export async function runTimedPhase(
  ctx: ExecutorContext,
  schedule: Segment[] | null,
  targetSegments: Segment[] | null,
  spec: (startAt: number, side: number) => PhaseSpec,
): Promise<ExecutorOutcome> {
  const { scenario, clock } = ctx;
  // `--start-at`: every generator begins at the same wall-clock instant (start-at.ts).
  const startAt = scenario.startAtMs ?? clock.now() + START_DELAY_MS;
  const measureStart = startAt + scenario.warmupMs;
  ctx.consumer?.measureWindow(measureStart, measureStart + scenario.durationMs);
  ctx.setTotalMs(scenario.warmupMs + scenario.durationMs + Math.max(START_DELAY_MS, startAt - clock.now()));
  ctx.setPhase(startAt - clock.now() > START_DELAY_MS ? 'waiting for --start-at' : scenario.warmupMs > 0 ? 'warmup' : 'measure');
  const startTimer = setTimeout(() => ctx.setPhase(scenario.warmupMs > 0 ? 'warmup' : 'measure'), Math.max(0, startAt - clock.now()));
  startTimer.unref();
  ctx.setSchedule(schedule, startAt);
  ctx.setMeasureStart(measureStart);
  const phaseTimer = scenario.warmupMs > 0 ? setTimeout(() => ctx.setPhase('measure'), measureStart - clock.now()) : null;
  phaseTimer?.unref();
  try {
    const results = await ctx.runPhase((i) => spec(startAt, i));
    ctx.countWholeRun(results);
    return {
      measured: mergeWindowResults(results.map((r) => r.measure!).filter(Boolean)),
      measureStart,
      windowMs: scenario.durationMs,
      targetSegments,
      maxSearch: null,
      consumerHistograms: null,
    };
  } finally {
    if (phaseTimer) clearTimeout(phaseTimer);
    clearTimeout(startTimer);
  }
}

/**
 * The open-loop phase of `constant` and `ramp`: every side runs its share of `schedule` (warm-up
 * included), staggered so the sides interleave, with its share of the in-flight limit.
 * @param targetSegments the measured window's target schedule (for the timeline)
 */
export function runOpenSchedule(ctx: ExecutorContext, schedule: Segment[], targetSegments: Segment[]): Promise<ExecutorOutcome> {
  const { warmupMs, maxInFlight, drainTimeoutMs } = ctx.scenario;
  return runTimedPhase(ctx, schedule, targetSegments, (startAt, i) => ({
    kind: 'open',
    startAt: startAt + staggerMs(schedule, i),
    durationMs: totalDurationMs(schedule),
    segments: shareSegments(schedule, ctx.sides),
    windows: phaseWindows(warmupMs),
    maxInFlight: shareInFlight(maxInFlight, ctx.sides),
    drainTimeoutMs,
  }));
}
