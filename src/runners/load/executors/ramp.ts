/**
 * `ramp` (k6: ramping-arrival-rate): open loop whose rate moves linearly from stage to stage, starting
 * at --rate (default 0). The warm-up runs at the start rate (or the first stage's when that is 0).
 */
import { z } from 'zod';
import { ConfigError } from '../../../core/event-store.ts';
import { MAX_RATE_PER_SEC } from '../limits.ts';
import { parseRate, parseStages } from '../parse.ts';
import { constantSegments, rampSegments } from '../schedule.ts';
import { parseOptions, type ExecutorModule } from './executor-module.ts';
import { runOpenSchedule } from './timed-phase.ts';

const rate = z.number().nonnegative().max(MAX_RATE_PER_SEC);
const optionsSchema = z.object({
  rate: rate.optional(),
  stages: z.array(z.object({ rate, durationMs: z.number().int().positive() })).min(1),
});

export const rampExecutor: ExecutorModule = {
  name: 'ramp',
  description: 'open loop ramping linearly through --stages from --rate (default 0)',
  flags: ['rate', 'stages'],
  fromFlags(flags) {
    if (flags.stages === undefined) throw new ConfigError("--executor ramp needs --stages, e.g. '100/s:10s,1000/s:20s'");
    const stages = parseStages(flags.stages);
    return {
      fields: { stages, durationMs: stages.reduce((a, s) => a + s.durationMs, 0), ...(flags.rate !== undefined ? { rate: parseRate(flags.rate, '--rate') } : {}) },
      notices: [],
    };
  },
  validate(scenario) {
    parseOptions(optionsSchema, scenario, 'ramp');
  },
  run(ctx) {
    const { stages, rate: startRate = 0 } = parseOptions(optionsSchema, ctx.scenario, 'ramp');
    const { warmupMs } = ctx.scenario;
    const ramp = rampSegments(startRate, stages);
    const warmRate = startRate > 0 ? startRate : stages[0]!.rate;
    const schedule = warmupMs > 0 ? [...constantSegments(warmRate, warmupMs), ...ramp] : ramp;
    return runOpenSchedule(ctx, schedule, ramp);
  },
};
