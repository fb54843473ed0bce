/**
 * The results JSON of `eventbench load` and `eventbench bench`: a versioned zod schema, validated before
 * it is written. One file per run; one entry per backend in `backends` (bench runs several).
 * Latencies are milliseconds; the raw HdrHistograms are kept (compressed base64) so anyone can
 * recompute other percentiles or merge runs exactly.
 */
import { z } from 'zod';
import { environmentSchema } from '../core/environment.ts';

/**
 * 2 (2026-12-04): `maxSearch` gained `limitFound` and `hint` (a max search in which no step failed found
 * only a lower bound). Files of version 1 do not validate against this schema: their max searches do
 * not say whether the limit was found.
 */
export const LOAD_RESULT_SCHEMA_VERSION = 2;

/** The load executors, k6's names where k6 has one (each a module in src/runners/load/executors/). */
export const EXECUTOR_NAMES = ['constant', 'ramp', 'closed', 'max'] as const;
export type ExecutorName = (typeof EXECUTOR_NAMES)[number];

export const latencySchema = z.object({
  count: z.number().int().nonnegative(),
  mean: z.number().nonnegative(),
  p50: z.number().nonnegative(),
  p90: z.number().nonnegative(),
  p99: z.number().nonnegative(),
  p999: z.number().nonnegative(),
  max: z.number().nonnegative(),
});

const usageSchema = z.object({
  name: z.string(),
  pid: z.number().int().nullable(),
  cpuPercent: z.number(),
  cpuSeconds: z.number(),
  rssMaxBytes: z.number(),
  rssEndBytes: z.number(),
});

export const thresholdOutcomeSchema = z.object({
  threshold: z.string(),
  metric: z.string(),
  op: z.enum(['<', '<=', '>', '>=']),
  limit: z.number(),
  actual: z.number().nullable(),
  passed: z.boolean(),
  by: z.number().nullable(),
  unit: z.string(),
  description: z.string(),
});

export const timelineEntrySchema = z.object({
  /** Seconds since the measured window started. */
  second: z.number().int().nonnegative(),
  targetRate: z.number().nullable(),
  appends: z.number().int().nonnegative(),
  events: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  dropped: z.number().int().nonnegative(),
  p50: z.number().nonnegative(),
  p99: z.number().nonnegative(),
  max: z.number().nonnegative(),
  lag: z.number().nullable(),
});

export const maxStepSchema = z.object({
  step: z.number().int(),
  targetRate: z.number(),
  achievedRate: z.number(),
  p50: z.number(),
  p99: z.number(),
  errors: z.number().int(),
  dropped: z.number().int(),
  unfinished: z.number().int(),
  lag: z.number().nullable(),
  passed: z.boolean(),
  reason: z.string(),
});

export const errorCountsSchema = z.object({
  conflict: z.number().int().nonnegative(),
  unavailable: z.number().int().nonnegative(),
  unknown_outcome: z.number().int().nonnegative(),
  duplicate: z.number().int().nonnegative(),
  other: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  /** Failed appends / appends sent in the measured window. */
  rate: z.number().nonnegative(),
});

export const backendResultSchema = z.object({
  backend: z.string(),
  /** What the backend guarantees (shown in every report). Null when the store could not be opened. */
  capabilities: z.record(z.string(), z.union([z.boolean(), z.number(), z.null()])).nullable(),
  /** Set when this backend's run failed; the other numbers are then partial or zero. */
  error: z.string().nullable(),
  interrupted: z.boolean(),
  measuredSeconds: z.number().nonnegative(),
  throughput: z.object({
    /** Events acknowledged inside the measured window per second. */
    eventsPerSec: z.number().nonnegative(),
    appendsPerSec: z.number().nonnegative(),
    /** Mean target arrival rate of the window (open loop), null for closed loop. */
    targetPerSec: z.number().nullable(),
  }),
  /** Append latency from the INTENDED send time to the ack (open loop: no coordinated omission). */
  latency: latencySchema,
  /** Append latency from the actual send to the ack: the client's own view, which hides stalls. */
  serviceTime: latencySchema,
  /** How late sends left relative to their intended time (the generator's own lag). */
  sendDelay: latencySchema,
  /** Intended send time -> consumer handler; null without a consumer. */
  endToEnd: latencySchema.nullable(),
  /** Consumer handler duration (validating the event); null without a consumer. */
  processing: latencySchema.nullable(),
  totals: z.object({
    /** Appends sent in the measured window. */
    sent: z.number().int().nonnegative(),
    appends: z.number().int().nonnegative(),
    events: z.number().int().nonnegative(),
    /** Still in flight when the run ended (after the drain timeout): backlog, neither acked nor failed. */
    unfinished: z.number().int().nonnegative(),
    /** The whole run including warm-up: what the store should hold from this run. */
    wholeRun: z.object({ sent: z.number().int(), appends: z.number().int(), events: z.number().int(), errors: z.number().int(), dropped: z.number().int() }),
  }),
  errors: errorCountsSchema,
  /** Due sends not made because `maxInFlight` appends were outstanding (k6's dropped iterations). */
  dropped: z.object({ count: z.number().int().nonnegative(), rate: z.number().nonnegative() }),
  late: z.object({ count: z.number().int().nonnegative(), thresholdMs: z.number() }),
  consumer: z
    .object({
      processed: z.number().int().nonnegative(),
      failed: z.number().int().nonnegative(),
      lagEnd: z.number().nullable(),
      lagMax: z.number().nullable(),
      caughtUp: z.boolean(),
    })
    .nullable(),
  storage: z
    .object({
      events: z.number().nonnegative(),
      bytes: z.number().nonnegative(),
      bytesPerEvent: z.number().nullable(),
      detail: z.record(z.string(), z.number()),
    })
    .nullable(),
  resources: z.object({ loadGenerator: usageSchema, servers: z.array(usageSchema) }),
  timeline: z.array(timelineEntrySchema),
  maxSearch: z
    .object({
      slo: z.string(),
      /** The highest rate whose step passed; with `limitFound: false` only a lower bound. */
      sustainableRate: z.number().nullable(),
      /** Whether a step failed; false: every step passed, the real limit is higher. */
      limitFound: z.boolean(),
      /** What to do when the limit was not found ("raise --duration or --rate"), null otherwise. */
      hint: z.string().nullable(),
      steps: z.array(maxStepSchema),
    })
    .nullable(),
  thresholds: z.array(thresholdOutcomeSchema),
  histograms: z.object({ unit: z.literal('microseconds'), latency: z.string(), endToEnd: z.string().nullable() }),
});

export const scenarioSchema = z.object({
  command: z.enum(['load', 'bench']),
  executor: z.enum(EXECUTOR_NAMES),
  workload: z.string(),
  seed: z.number().int(),
  runId: z.string(),
  namespace: z.string(),
  /** Appends per second (constant; start rate of max). */
  rate: z.number().nullable(),
  stages: z.array(z.object({ rate: z.number(), durationMs: z.number() })).nullable(),
  writers: z.number().int().nullable(),
  durationMs: z.number().nonnegative(),
  warmupMs: z.number().nonnegative(),
  maxInFlight: z.number().int(),
  workers: z.number().int(),
  streams: z.number().int().nullable(),
  slo: z.string().nullable(),
  stepDurationMs: z.number().nullable(),
  drainTimeoutMs: z.number(),
  consumer: z.boolean(),
  metrics: z.boolean(),
  thresholds: z.array(z.string()),
  backends: z.array(z.string()),
  infra: z.string().nullable(),
});

export const loadResultSchema = z.object({
  schemaVersion: z.literal(LOAD_RESULT_SCHEMA_VERSION),
  tool: z.literal('eventbench'),
  createdAt: z.string(),
  environment: environmentSchema,
  scenario: scenarioSchema,
  backends: z.array(backendResultSchema),
  thresholdsPassed: z.boolean(),
  /** Free-text notes a reader needs (shared machine, interrupted run, ...). */
  notes: z.array(z.string()),
});

export type LoadResult = z.infer<typeof loadResultSchema>;
export type BackendResult = z.infer<typeof backendResultSchema>;
export type LoadScenarioRecord = z.infer<typeof scenarioSchema>;
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;
export type MaxStep = z.infer<typeof maxStepSchema>;
export type ThresholdOutcomeRecord = z.infer<typeof thresholdOutcomeSchema>;
