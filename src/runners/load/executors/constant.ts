/** `constant` (k6: constant-arrival-rate): open loop at one rate for the whole run. */
import { z } from 'zod';
import { MAX_RATE_PER_SEC } from '../limits.ts';
import { parseRate } from '../parse.ts';
import { constantSegments, totalDurationMs } from '../schedule.ts';
import { parseOptions, phaseWindows, shareInFlight, shareSegments, staggerMs, type ExecutorModule } from './executor-module.ts';
import { runTimedPhase } from './timed-phase.ts';

const optionsSchema = z.object({ rate: z.number().positive().max(MAX_RATE_PER_SEC) });

export const constantExecutor: ExecutorModule = {
  name: 'constant',
  description: 'open loop at --rate',
  flags: ['rate'],
  fromFlags(flags, defaults) {
    return { fields: { rate: parseRate(flags.rate ?? defaults.rate, '--rate') }, notices: [] };
  },
  validate(scenario) {
    parseOptions(optionsSchema, scenario, 'constant');
  },
  run(ctx) {
    const { rate } = parseOptions(optionsSchema, ctx.scenario, 'constant');
    const { warmupMs, durationMs, maxInFlight, drainTimeoutMs } = ctx.scenario;
    const schedule = constantSegments(rate, warmupMs + durationMs);
    return runTimedPhase(ctx, schedule, constantSegments(rate, durationMs), (startAt, i) => ({
      kind: 'open',
      startAt: startAt + staggerMs(schedule, i),
      durationMs: totalDurationMs(schedule),
      segments: shareSegments(schedule, ctx.sides),
      windows: phaseWindows(warmupMs),
      maxInFlight: shareInFlight(maxInFlight, ctx.sides),
      drainTimeoutMs,
    }));
  },
};
