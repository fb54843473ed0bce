/** `constant` (k6: constant-arrival-rate): open loop at one rate for the whole run. */
import { z } from 'zod';
import { MAX_RATE_PER_SEC } from '../limits.ts';
import { parseRate } from '../parse.ts';
import { constantSegments } from '../schedule.ts';
import { parseOptions, type ExecutorModule } from './executor-module.ts';
import { runOpenSchedule } from './timed-phase.ts';

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
    const { warmupMs, durationMs } = ctx.scenario;
    return runOpenSchedule(ctx, constantSegments(rate, warmupMs + durationMs), constantSegments(rate, durationMs));
  },
};
