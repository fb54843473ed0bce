/**
 * Many generators, one schedule: `--start-at` fixes the wall-clock instant the arrival schedule (warm-up
 * included) begins at, so N `eventbench load` processes on N machines form one open-loop schedule, and
 * `--generator-id` keeps their streams and event ids apart. The distribution itself belongs to whatever
 * starts the processes (a Kubernetes indexed Job, a shell loop): eventbench only agrees on the instant.
 * docs/multi-generator.md says how the pieces fit.
 */
import { ConfigError } from '../../core/event-store.ts';
import { Random } from '../../core/random.ts';
import { parseDuration } from './parse.ts';
import type { ExecutorName } from './scenario.ts';

/** A start further ahead than this is almost certainly a mistake (a wrong date), not a plan. */
export const MAX_START_AHEAD_MS = 24 * 3_600_000;
/** Generator ids 0..MAX_GENERATOR_ID (a Kubernetes Job's completion index fits easily). */
export const MAX_GENERATOR_ID = 9999;

/**
 * The epoch ms of `--start-at`: an ISO 8601 time with a zone (`2026-12-04T19:00:00Z`) or `+<duration>`
 * from now (`+10s`). Refused when in the past or more than MAX_START_AHEAD_MS ahead.
 */
export function parseStartAt(text: string, nowMs: number): number {
  let at: number;
  if (text.startsWith('+')) {
    // The duration's own limit is days; a start more than 24 h ahead is refused below, naming the whole value.
    let delayMs: number;
    try {
      delayMs = parseDuration(text.slice(1), '--start-at');
    } catch {
      throw new ConfigError(`--start-at ${JSON.stringify(text)}: give a delay from now such as +10s or +2m, or an ISO time with a zone, e.g. 2026-12-04T19:00:00Z`);
    }
    at = nowMs + delayMs;
  } else {
    // A zone is required: "19:00" on two machines in two zones would be two instants.
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
      throw new ConfigError(`--start-at ${JSON.stringify(text)}: give an ISO time with a zone, e.g. 2026-12-04T19:00:00Z, or a delay from now, e.g. +10s`);
    }
    at = Date.parse(text);
    if (!Number.isFinite(at)) throw new ConfigError(`--start-at ${JSON.stringify(text)} is not a valid time`);
  }
  if (at <= nowMs) {
    throw new ConfigError(`--start-at ${JSON.stringify(text)} is ${new Date(at).toISOString()}, ${Math.round(nowMs - at)} ms in the past: give a time ahead, e.g. +10s`);
  }
  if (at - nowMs > MAX_START_AHEAD_MS) {
    throw new ConfigError(`--start-at ${JSON.stringify(text)} is more than 24 h ahead (${new Date(at).toISOString()}): give a time within a day`);
  }
  return at;
}

/** `--generator-id`: a whole number 0..MAX_GENERATOR_ID (a Kubernetes Job's `JOB_COMPLETION_INDEX`). */
export function parseGeneratorId(text: string): number {
  const id = Number(text);
  if (!/^\d+$/.test(text) || id > MAX_GENERATOR_ID) {
    throw new ConfigError(`--generator-id ${JSON.stringify(text)} must be a whole number from 0 to ${MAX_GENERATOR_ID} (e.g. the Job's completion index)`);
  }
  return id;
}

/**
 * Executors a shared start fits: their whole schedule is fixed in advance. A max search decides each
 * step from its own previous step's results, so N generators would drift apart after the first step.
 */
export function assertStartAtFits(executor: ExecutorName): void {
  if (executor === 'max') {
    throw new ConfigError('--start-at works with --executor constant, ramp or closed: a max search chooses each step from its own results, so generators would not stay together (search with one generator, then run a constant rate on many)');
  }
}

/**
 * The seed generator `id` draws its events from: generator 0 uses the run's seed (so it reproduces a
 * single-generator run), every other one a fork of it, so no two generators write the same event ids.
 */
export function generatorSeed(seed: number, id: number | undefined): number {
  return id === undefined || id === 0 ? seed : new Random(seed).fork(`generator-${id}`).seed;
}

/** The run id generator `id` writes under: streams, event ids and the consumer's name carry it. */
export function generatorRunId(runId: string, id: number | undefined): string {
  return id === undefined ? runId : `${runId}g${id}`;
}
