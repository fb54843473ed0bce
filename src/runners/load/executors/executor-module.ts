/**
 * What an executor is (k6's model: one module per executor holding its options, their validation and
 * its run), and the context `runLoad` hands it: the load sides to drive, the consumer, the live
 * progress state. An executor decides the phases (when to send what) and returns the window it measured.
 */
import type { z } from 'zod';
import { ConfigError } from '../../../core/event-store.ts';
import type { BackendResult } from '../../../report/load-result.ts';
import type { Clock } from '../clock.ts';
import type { RunConsumer } from '../consumer.ts';
import type { PhaseResult, PhaseSpec, PhaseWindow } from '../executor.ts';
import type { WindowResult } from '../recorder.ts';
import type { ExecutorName, LoadScenario } from '../scenario.ts';
import type { Segment } from '../schedule.ts';

/** The raw values of the executor-specific flags, as typed (undefined when not given). */
export interface ExecutorFlags {
  rate?: string | undefined;
  stages?: string | undefined;
  writers?: string | undefined;
  slo?: string | undefined;
  stepDuration?: string | undefined;
  retries?: string | undefined;
}
export type ExecutorFlag = keyof ExecutorFlags;
export const FLAG_NAMES: Record<ExecutorFlag, string> = { rate: '--rate', stages: '--stages', writers: '--writers', slo: '--slo', stepDuration: '--step-duration', retries: '--retries' };

/** The scenario fields an executor sets from its flags, and one-line notices for stderr (defaults used). */
export interface ExecutorOptions {
  fields: Partial<Pick<LoadScenario, 'rate' | 'stages' | 'writers' | 'slo' | 'stepDurationMs' | 'durationMs' | 'retries'>>;
  notices: string[];
}

export interface ExecutorContext {
  scenario: LoadScenario;
  clock: Clock;
  signal: AbortSignal;
  /** Number of load sides (worker threads, or 1). */
  sides: number;
  /** Runs one phase on every side at once; `spec(i)` is side i's share. */
  runPhase(spec: (side: number) => PhaseSpec): Promise<PhaseResult[]>;
  consumer: RunConsumer | null;
  /** Live progress: what the progress line and the target-rate gauge show. */
  setPhase(name: string): void;
  setSchedule(segments: Segment[] | null, startAt: number): void;
  setMeasureStart(atMs: number): void;
  setTotalMs(ms: number): void;
  /** Per-second consumer-lag samples of the measured window (the timeline's lag column). */
  lagSamples: Map<number, number>;
  /** Adds a phase's counts to the whole-run totals (what the store should hold). */
  countWholeRun(results: PhaseResult[]): void;
  /** Waits (at most `timeoutMs`) until nothing is in flight and the consumer has seen every event. */
  waitIdle(timeoutMs: number): Promise<boolean>;
}

export interface ExecutorOutcome {
  measured: WindowResult;
  /** Epoch ms the measured window started. */
  measureStart: number;
  /** Its planned length. */
  windowMs: number;
  /** The target schedule of the measured window (open loop), null for closed loop. */
  targetSegments: Segment[] | null;
  maxSearch: BackendResult['maxSearch'];
  /** The consumer histograms of the measured window when they were taken apart (max: the chosen step). */
  consumerHistograms: { endToEnd: string; processing: string } | null;
}

export interface ExecutorModule {
  name: ExecutorName;
  /** For `--help`. */
  description: string;
  /** The executor-specific flags it takes; any other given is refused. */
  flags: readonly ExecutorFlag[];
  /** Turns the flags into scenario fields (ConfigError naming the flag on bad input). */
  fromFlags(flags: ExecutorFlags, defaults: { rate: string; durationMs: number }): ExecutorOptions;
  /** Checks a complete scenario (from the CLI or built by code) before anything starts. */
  validate(scenario: LoadScenario): void;
  run(ctx: ExecutorContext): Promise<ExecutorOutcome>;
}

/** Parses `value` with an executor's zod schema; a failure is a ConfigError naming the field. */
export function parseOptions<T>(schema: z.ZodType<T>, value: unknown, executor: ExecutorName): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new ConfigError(`--executor ${executor}: ${issue.path.join('.') || 'options'}: ${issue.message}`);
}

/** Measurement windows of a phase: warm-up first (when there is one), then the measured window. */
export function phaseWindows(warmupMs: number): PhaseWindow[] {
  const measure = { name: 'measure', endOffsetMs: Number.MAX_SAFE_INTEGER };
  return warmupMs > 0 ? [{ name: 'warmup', endOffsetMs: warmupMs }, measure] : [measure];
}

/** Side i's share of a schedule: rate / n. */
export function shareSegments(segments: Segment[], n: number): Segment[] {
  return segments.map((s) => ({ fromRate: s.fromRate / n, toRate: s.toRate / n, durationMs: s.durationMs }));
}

/** Side i starts i/n of an arrival interval later, so N workers interleave instead of sending in bursts of N. */
export function staggerMs(segments: Segment[], side: number): number {
  return segments[0] && segments[0].fromRate > 0 ? (side * 1000) / segments[0].fromRate : 0;
}

/** Side i's share of the in-flight limit. */
export function shareInFlight(maxInFlight: number, n: number): number {
  return Math.max(1, Math.floor(maxInFlight / n));
}

/** Lets the sides' connections settle before the first intended send time. */
export const START_DELAY_MS = 50;
