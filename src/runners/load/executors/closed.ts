/**
 * `closed` (k6: constant-vus): --writers concurrent writers, each sending its next append when the
 * previous one returns. Shown for contrast: its latency hides stalls (coordinated omission).
 * `--retries N` gives the writers a retry policy, as an application writing under optimistic concurrency
 * has: on a version conflict, re-read the stream's version and send the same events again, at most N times;
 * the result says what that cost (retries per successful append, the share that needed any, their latency,
 * the appends given up).
 */
import { z } from 'zod';
import { ConfigError } from '../../../core/event-store.ts';
import { parsePositiveInt } from '../parse.ts';
import { parseOptions, phaseWindows, type ExecutorModule } from './executor-module.ts';
import { runTimedPhase } from './timed-phase.ts';

/** Writers when --writers is not given (said on stderr). */
export const DEFAULT_WRITERS = 10;
const MAX_WRITERS = 10_000;
/** Retries per append at most (`--retries`): beyond this a writer is spinning, not retrying. */
export const MAX_RETRIES = 100;

const optionsSchema = z.object({ writers: z.number().int().min(1).max(MAX_WRITERS), retries: z.number().int().min(0).max(MAX_RETRIES).optional() });

export const closedExecutor: ExecutorModule = {
  name: 'closed',
  description: 'closed loop: --writers writers, each as fast as its appends return',
  flags: ['writers', 'retries'],
  fromFlags(flags) {
    const retries = flags.retries === undefined ? {} : { retries: parseRetries(flags.retries) };
    if (flags.writers !== undefined) return { fields: { writers: parsePositiveInt(flags.writers, '--writers', MAX_WRITERS), ...retries }, notices: [] };
    return { fields: { writers: DEFAULT_WRITERS, ...retries }, notices: [`closed loop with ${DEFAULT_WRITERS} writers (the default; set --writers to choose)`] };
  },
  validate(scenario) {
    parseOptions(optionsSchema, scenario, 'closed');
  },
  run(ctx) {
    const { writers, retries } = parseOptions(optionsSchema, ctx.scenario, 'closed');
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
      ...(retries !== undefined ? { retries } : {}),
    }));
  },
};

/** `--retries N`: 0 (count conflicts, retry none) to MAX_RETRIES. */
function parseRetries(text: string): number {
  if (!/^\s*\d+\s*$/.test(text) || Number(text) > MAX_RETRIES) throw new ConfigError(`--retries ${JSON.stringify(text)} must be a whole number from 0 to ${MAX_RETRIES}`);
  return Number(text);
}
