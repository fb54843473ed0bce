/**
 * The results JSON of `eventbench load` and `eventbench bench`: a versioned zod schema, validated before
 * it is written. One file per run; one entry per backend in `backends` (bench runs several).
 * Latencies are milliseconds; the raw HdrHistograms are kept (compressed base64) so anyone can
 * recompute other percentiles or merge runs exactly.
 */
import { z } from 'zod';
import { environmentSchema } from '../core/environment.ts';
import { serverSnapshotsSchema } from '../infra/server-snapshots.ts';

/**
 * 2 (2026-12-04): `maxSearch` gained `limitFound` and `hint` (a max search in which no step failed found
 * only a lower bound). Files of version 1 do not validate against this schema: their max searches do
 * not say whether the limit was found.
 * 3 (2026-12-04): a bench runs each backend's raw-driver baseline in the same invocation: every entry of
 * `backends` says its `run` and whether it is a `baselineOf` an adapter, and the `bench` block holds the
 * efficiency (adapter / raw), the median and min-max of every metric over `--runs`, which differences
 * lie inside the spread (noise), and the durability profile with the settings read back from the servers.
 */
export const LOAD_RESULT_SCHEMA_VERSION = 3;

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
  /** End-to-end p50 / p99 (ms) of the events intended in this second; absent when the consumer saw none. */
  e2eP50: z.number().nonnegative().optional(),
  e2eP99: z.number().nonnegative().optional(),
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

/** One load thread (the main thread, or worker N) in its busiest phase. */
export const loadThreadUsageSchema = z.object({
  worker: z.number().int().nonnegative(),
  thread: z.enum(['main', 'worker']),
  /** Event-loop utilisation 0-1. */
  elu: z.number().nonnegative(),
  /** The thread's own CPU, in cores; null where /proc/thread-self is missing. */
  cpuCores: z.number().nonnegative().nullable(),
  cpuSeconds: z.number().nonnegative().nullable(),
  seconds: z.number().nonnegative(),
  saturated: z.boolean(),
});

export const clientBoundSchema = z.object({
  bound: z.boolean(),
  /** The rule's finding in one line (which thread was how busy, and the symptom). */
  reason: z.string(),
  perWorker: z.array(loadThreadUsageSchema),
});

/** An effect's outcomes in one step of the case pipeline (src/workloads/debt-cases/processors.ts). */
const stepCountsSchema = z.object({ applied: z.number().int(), duplicate: z.number().int(), superseded: z.number().int() });

/** `processors: true` (debt-cases): the case pipeline that ran next to the load (src/runners/load/pipeline.ts). */
export const pipelineSchema = z.object({
  /** Competing instances of each processor, and handlers per instance. */
  instances: z.number().int().positive(),
  concurrency: z.number().int().positive(),
  /** Intakes the load appended (whole run): each starts a case. */
  casesStarted: z.number().int().nonnegative(),
  /** `case.completed` appended by the processors (whole run, drain included). */
  casesCompleted: z.number().int().nonnegative(),
  /** `case.completed` appended inside the measured window (first window of a max search), its length, and per second of it. */
  completedInWindow: z.number().int().nonnegative(),
  measuredSeconds: z.number().nonnegative(),
  casesPerSec: z.number().nonnegative(),
  /** Every case started was completed before the drain timeout. */
  caughtUp: z.boolean(),
  /** Intake intended send time -> `case.completed` appended, for intakes intended inside the window. */
  latency: latencySchema,
  steps: z.object({ analysis: stepCountsSchema, decision: stepCountsSchema, escalation: stepCountsSchema, completion: stepCountsSchema }),
  /** Events delivered to the processors (each sees every case event, handling its own type). */
  deliveries: z.number().int().nonnegative(),
});
export type PipelineResult = z.infer<typeof pipelineSchema>;

export const backendResultSchema = z.object({
  backend: z.string(),
  /** Which run of `--runs` this round belongs to (1-based); 1 for `load`. */
  run: z.number().int().positive().default(1),
  /** Set on a raw-driver baseline round: the adapter whose work it did with the driver alone. */
  baselineOf: z.string().nullable().default(null),
  /**
   * Set on a bench's follow-up of a max search: a fixed-rate round at `fraction` of the rate the search
   * found in the same run (latency is quoted at a stated load, not at "as fast as it goes").
   */
  latencyAt: z.object({ fraction: z.number().positive(), rate: z.number().positive() }).nullable().default(null),
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
      /**
       * The consumer's name and in-flight bound as it ran: read back from the server's consumer info
       * (`source: server`, JetStream) or the bound the subscriber enforces itself (`client`, PostgreSQL).
       * Absent in results written before it was recorded.
       */
      settings: z
        .object({ name: z.string(), maxAckPending: z.number().int(), ackWaitMs: z.number().nullable(), maxDeliver: z.number().int().nullable(), source: z.enum(['server', 'client']) })
        .nullable()
        .optional(),
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
  /**
   * The closed loop's retry policy (`--retries N`, a scenario's `retries:`): on a conflict the writer
   * re-reads the stream version and sends again, at most `limit` times. `retries` conflicts were retried,
   * `retriedAppends` successful appends needed at least one, `abandoned` were given up after `limit` (each
   * counted as a conflict error); their shares are of the successful appends. The append latency above
   * includes the retries (first send -> final ack); `retriedLatency` is that of the retried appends alone.
   * Absent without a retry policy.
   */
  retries: z
    .object({
      limit: z.number().int().nonnegative(),
      retries: z.number().int().nonnegative(),
      retriedAppends: z.number().int().nonnegative(),
      abandoned: z.number().int().nonnegative(),
      retriesPerSuccess: z.number().nonnegative(),
      retriedShare: z.number().nonnegative(),
      retriedLatency: latencySchema,
    })
    .nullable()
    .optional(),
  thresholds: z.array(thresholdOutcomeSchema),
  histograms: z.object({
    unit: z.literal('microseconds'),
    latency: z.string(),
    endToEnd: z.string().nullable(),
    /** Also kept (optional: absent in files written before 2026-12-04) so `eventbench merge` adds every latency exactly. */
    serviceTime: z.string().optional(),
    sendDelay: z.string().optional(),
    processing: z.string().nullable().optional(),
  }),
  /**
   * When the schedule began (warm-up included), the measured window began and the first append left
   * (epoch ms), and how late that first send was against its intended time: what `--start-at`
   * generators are aligned and judged by. Absent when the round failed.
   */
  start: z
    .object({
      scheduleStartMs: z.number(),
      measureStartMs: z.number(),
      firstSendMs: z.number().nullable(),
      firstSendLateMs: z.number().nullable(),
    })
    .optional(),
  /**
   * Whether the load side, not the backend, was the limit (the rule: src/runners/load/resources.ts
   * `judgeClientBound`), with each load thread's busiest phase. Absent when the round failed.
   */
  clientBound: clientBoundSchema.nullable().optional(),
  /**
   * `--replay`: after the load, the workload's category read back from position 0 (`catch-up`), or the
   * debt-case read model rebuilt from it (`projection-rebuild`), timed. The whole category of the namespace
   * is read (in a bench, earlier rounds' events too): compare by events/s. Null without; absent when the round failed.
   */
  replay: z
    .object({
      kind: z.enum(['catch-up', 'projection-rebuild']),
      events: z.number().int().nonnegative(),
      /** Events the run stored (whole run): the read is `complete` when it got at least these. */
      expected: z.number().int().nonnegative(),
      complete: z.boolean(),
      seconds: z.number().nonnegative(),
      eventsPerSec: z.number().nonnegative(),
      pages: z.number().int().nonnegative(),
      pageSize: z.number().int().positive(),
      /** One readAll page's round trip. */
      pageLatency: latencySchema,
      /** projection-rebuild: cases in the rebuilt read model; null for catch-up. */
      cases: z.number().int().nullable(),
    })
    .nullable()
    .optional(),
  /** The case pipeline's block (`processors: true`); null without; absent when the round failed. */
  pipeline: pipelineSchema.nullable().optional(),
  /** `--pregenerate`: what was built before the clock started (null: events generated as sent). Absent when the round failed. */
  pregenerated: z
    .object({ appends: z.number().int(), events: z.number().int(), bytes: z.number().int(), ms: z.number(), generatedLive: z.number().int() })
    .nullable()
    .optional(),
  /**
   * The round's servers' own counters at the start and end of its load, per server (src/infra/server-snapshots.ts):
   * PostgreSQL's pg_stat_database / pg_stat_wal / pg_stat_bgwriter (/ pg_stat_checkpointer), NATS's /healthz,
   * /varz, /jsz, /connz. Absent for a round that failed, on in-process backends, and in files before 2026-12-04 22:00.
   */
  serverSnapshots: serverSnapshotsSchema.optional(),
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

/** One number over the runs of a bench: the median and the spread (min-max) it came from. */
export const spreadSchema = z.object({
  median: z.number(),
  min: z.number(),
  max: z.number(),
  /** One value per run, in run order. */
  values: z.array(z.number()),
});

/**
 * Adapter / raw driver, measured in the same invocation. What it is a ratio of depends on the load: at a
 * fixed arrival rate both sides carry the same throughput by construction, so the ratio is of latency
 * (raw p99 / adapter p99) and of CPU per event (raw / adapter); for max / closed runs it is of
 * throughput (adapter / raw). 1 means "as good as the driver alone"; lower is the adapter's cost.
 */
export const efficiencySchema = z.object({
  backend: z.string(),
  baseline: z.string(),
  of: z.enum(['latency', 'throughput']),
  /** In words, for the table ("raw p99 / adapter p99 at 500/s"). */
  definition: z.string(),
  /** The headline ratio: of `of`. */
  value: spreadSchema,
  /** The ratios behind it where measured (null where a side had no events). */
  throughput: spreadSchema.nullable(),
  p50: spreadSchema.nullable(),
  p99: spreadSchema.nullable(),
  cpuPerEvent: spreadSchema.nullable(),
  /** `--replay`: the read-back's events/s, adapter / raw (null without a replay on both sides). */
  replay: spreadSchema.nullable().default(null),
});

/** A metric of one store over the runs, and whether backends differ by more than their spreads. */
export const metricStatSchema = z.object({
  metric: z.string(),
  unit: z.string(),
  /** Which way is better. */
  better: z.enum(['higher', 'lower']),
  stores: z.record(z.string(), spreadSchema),
  /**
   * Between the (non-baseline) backends: `noise` when their min-max ranges overlap (the difference lies
   * inside the spread), else the better one's name; null with one run (no spread to judge by) or one backend.
   */
  verdict: z.string().nullable(),
});

export const durabilitySideSchema = z.object({
  backend: z.string(),
  /** One line: what an acknowledgement means on this side, from the settings below. */
  ack: z.string(),
  /** The settings that decide it, as the server reported them (in the store's own kind of session). */
  settings: z.record(z.string(), z.string()),
});

export const benchBlockSchema = z.object({
  runs: z.number().int().positive(),
  /** Whether the raw-driver baselines ran (`--no-baseline` turns them off). */
  baseline: z.boolean(),
  durability: z.object({
    profile: z.enum(['default', 'matched']),
    /** What the profile changed (e.g. "postgres: synchronous_commit=off"), or why it could not. */
    changes: z.array(z.string()),
    sides: z.array(durabilitySideSchema),
  }),
  efficiency: z.array(efficiencySchema),
  metrics: z.array(metricStatSchema),
  /** Latency at stated fractions of the max found (`--latency-at`), per backend over the runs. */
  latencyAt: z
    .array(
      z.object({
        fraction: z.number(),
        stores: z.record(z.string(), z.object({ rate: spreadSchema, p50: spreadSchema, p99: spreadSchema, p999: spreadSchema })),
      }),
    )
    .default([]),
});

/** The parameters `bench --sweep` can vary, one per sweep (src/runners/bench/sweep.ts). */
export const SWEEP_PARAMETERS = ['streams', 'size', 'writers'] as const;
export type SweepParameter = (typeof SWEEP_PARAMETERS)[number];

/** One value of a sweep: each store's median over the runs at that value (null where not measured). */
export const sweepPointSchema = z.object({
  value: z.number(),
  stores: z.record(
    z.string(),
    z.object({
      eventsPerSec: z.number().nullable(),
      p99Ms: z.number().nullable(),
      bytesPerEvent: z.number().nullable(),
      /** Servers' and load side's CPU µs per event stored, over the whole round. */
      cpuUsPerEvent: z.number().nullable(),
    }),
  ),
  /** The point's own exit code (0, 99 a threshold broke, 1 a backend failed, 130 interrupted). */
  exitCode: z.number().int(),
  /** Where the point's full result was written, relative to this result (null when not written). */
  dir: z.string().nullable(),
});

/** `bench --sweep`: how each backend's cost grows with one parameter (null without a sweep). */
export const sweepBlockSchema = z.object({
  parameter: z.enum(SWEEP_PARAMETERS),
  values: z.array(z.number()),
  points: z.array(sweepPointSchema),
});

/** One generator of a multi-generator run (docs/multi-generator.md). */
export const generatorSchema = z.object({
  /** `--generator-id` (a Kubernetes indexed Job's completion index); null when not given. */
  id: z.number().int().nonnegative().nullable(),
  /** `--start-at` as an ISO instant; null when the generator started on its own. */
  startAt: z.string().nullable(),
  /** How late the first append left against the instant it was due at (ms): the generator's clock offset at start. */
  startOffsetMs: z.number().nullable(),
});

/** What `eventbench merge` records about the results it added up. */
export const mergedSchema = z.object({
  generators: z.array(
    z.object({
      file: z.string(),
      id: z.number().int().nonnegative().nullable(),
      runId: z.string(),
      startAt: z.string().nullable(),
      startOffsetMs: z.number().nullable(),
      /** Epoch ms its first append left (null: none left, or a file without the `start` block). */
      firstSendMs: z.number().nullable(),
      /** Its own rate (appends/s; null for closed loop) and what it measured. */
      rate: z.number().nullable(),
      events: z.number().int().nonnegative(),
      eventsPerSec: z.number().nonnegative(),
      environment: environmentSchema,
      loadGenerator: usageSchema,
    }),
  ),
  /** Latest minus earliest first send across generators (ms); null when not every generator recorded it. */
  startSpreadMs: z.number().nullable(),
  /** The generators' rates added up (appends/s; null for closed loop): `scenario.rate` of the merged result. */
  totalRate: z.number().nullable(),
});

export const loadResultSchema = z.object({
  schemaVersion: z.literal(LOAD_RESULT_SCHEMA_VERSION),
  tool: z.literal('eventbench'),
  createdAt: z.string(),
  environment: environmentSchema,
  scenario: scenarioSchema,
  backends: z.array(backendResultSchema),
  thresholdsPassed: z.boolean(),
  /** `eventbench bench` only: baselines, efficiency, runs and durability (null for `load`). */
  bench: benchBlockSchema.nullable().default(null),
  /** `eventbench bench --sweep` only; the rest of the result is the sweep's last point. Optional: no version bump. */
  sweep: sweepBlockSchema.nullable().default(null),
  /** Free-text notes a reader needs (shared machine, interrupted run, ...). */
  notes: z.array(z.string()),
  /** `load --generator-id`: which generator of many this was, and the instant (`--start-at`) they shared. */
  generator: generatorSchema.optional(),
  /** `eventbench merge`: this result adds up several generators' results exactly (src/report/merge.ts). */
  merged: mergedSchema.optional(),
});

export type LoadResult = z.infer<typeof loadResultSchema>;
export type MergedBlock = z.infer<typeof mergedSchema>;
export type GeneratorBlock = z.infer<typeof generatorSchema>;
export type BenchBlock = z.infer<typeof benchBlockSchema>;
export type SweepBlock = z.infer<typeof sweepBlockSchema>;
export type SweepPoint = z.infer<typeof sweepPointSchema>;
export type Efficiency = z.infer<typeof efficiencySchema>;
export type Spread = z.infer<typeof spreadSchema>;
export type MetricStat = z.infer<typeof metricStatSchema>;
export type BackendResult = z.infer<typeof backendResultSchema>;
export type LoadScenarioRecord = z.infer<typeof scenarioSchema>;
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;
export type MaxStep = z.infer<typeof maxStepSchema>;
export type ThresholdOutcomeRecord = z.infer<typeof thresholdOutcomeSchema>;
