/**
 * `closed` (k6: constant-vus): --writers concurrent writers, each sending its next append when the
 * previous one returns. Shown for contrast: its latency hides stalls (coordinated omission).
 */
import { z } from 'zod';
import { parsePositiveInt } from '../parse.ts';
import { parseOptions, phaseWindows, type ExecutorModule } from './executor-module.ts';
import { runTimedPhase } from './timed-phase.ts';

/** Writers when --writers is not given (said on stderr). */
export const DEFAULT_WRITERS = 10;
const MAX_WRITERS = 10_000;

const optionsSchema = z.object({ writers: z.number().int().min(1).max(MAX_WRITERS) });

export const closedExecutor: ExecutorModule = {
  name: 'closed',
  description: 'closed loop: --writers writers, each as fast as its appends return',
  flags: ['writers'],
  fromFlags(flags) {
    if (flags.writers !== undefined) return { fields: { writers: parsePositiveInt(flags.writers, '--writers', MAX_WRITERS) }, notices: [] };
    return { fields: { writers: DEFAULT_WRITERS }, notices: [`closed loop with ${DEFAULT_WRITERS} writers (the default; set --writers to choose)`] };
  },
  validate(scenario) {
    parseOptions(optionsSchema, scenario, 'closed');
  },
  run(ctx) {
    const { writers } = parseOptions(optionsSchema, ctx.scenario, 'closed');
    const { warmupMs, durationMs, drainTimeoutMs } = ctx.scenario;
    const n = ctx.sides;
    return runTimedPhase(ctx, null, null, (startAt, i) => ({
      kind: 'closed',
      startAt,
      durationMs: warmupMs + durationMs,
      writers: Math.floor(writers / n) + (i < writers % n ? 1 : 0),
      windows: phaseWindows(warmupMs),
      maxInFlight: Number.MAX_SAFE_INTEGER,
      drainTimeoutMs,
    }));
  },
};
