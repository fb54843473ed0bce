/**
 * Bench scenarios as data (`scenarios/bench/<name>.yaml`, validated here): the workload, the executor
 * and its rates, the durations, streams, workers, consumer, thresholds and backends of one
 * `eventbench bench --scenario NAME` run, plus a `quick` block of overrides (shorter durations, fewer
 * streams) for `--quick` and CI.
 *
 * A scenario's values are written as the `bench` flags are (`rate: 500/s`, `duration: 30s`), and a
 * scenario resolves to flag values: the command then parses them exactly as typed flags, so a scenario
 * can say nothing a flag cannot, and an explicit flag overrides the scenario's value. Every value is
 * checked when the file is loaded (before any server starts): a bad file is one line naming the file
 * and the field.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../core/event-store.ts';
import { BACKEND_NAMES, type BackendName } from '../../store/index.ts';
import { WORKLOAD_NAMES } from '../../workloads/index.ts';
import { executorFromFlags } from '../load/executors/index.ts';
import { assertPipelineWorkload } from '../load/pipeline.ts';
import { checkReplay, REPLAY_KINDS } from './catch-up.ts';
import { MAX_WORKERS } from '../load/limits.ts';
import { parseBatch, parseConsumerSettings, parseDuration, parseEventSize, parsePositiveInt } from '../load/parse.ts';
import { EXECUTOR_NAMES } from '../load/scenario.ts';
import { parseThreshold } from '../load/thresholds.ts';

/** Where the bench scenarios shipped with eventbench live. */
export const BENCH_SCENARIO_DIR = fileURLToPath(new URL('../../../scenarios/bench/', import.meta.url));

/** The run values a scenario sets, and its `quick` block may override: each is a `bench` flag. */
const runFields = {
  executor: z.enum(EXECUTOR_NAMES).optional(),
  rate: z.string().optional(),
  stages: z.string().optional(),
  writers: z.number().int().min(1).optional(),
  /** Closed loop: retries per append on a version conflict (`--retries`). */
  retries: z.number().int().min(0).optional(),
  slo: z.string().optional(),
  stepDuration: z.string().optional(),
  duration: z.string().optional(),
  warmup: z.string().optional(),
  drainTimeout: z.string().optional(),
  streams: z.number().int().min(1).max(1_000_000).optional(),
  workers: z.number().int().min(1).max(MAX_WORKERS).optional(),
  maxInFlight: z.number().int().min(1).optional(),
  /** The run's consumer: on or off, or on with its settings (`--consumer-name`, `--max-ack-pending`). */
  consumer: z.union([z.boolean(), z.object({ name: z.string().optional(), maxAckPending: z.number().int().min(1).optional() }).strict()]).optional(),
  thresholds: z.array(z.string()).optional(),
  /** After the load: time reading it all back from position 0 (`--replay`). */
  replay: z.enum(REPLAY_KINDS).optional(),
  /** Build the appends before the clock starts (`--pregenerate`). */
  pregenerate: z.boolean().optional(),
  /** Run the workload's processors next to the load (`--processors`; debt-cases). */
  processors: z.boolean().optional(),
  /** Bytes of each event's data (`--event-size`; synthetic workload). */
  eventSize: z.number().int().min(1).optional(),
  /** Events per append (`--batch`; synthetic workload). */
  batch: z.number().int().min(1).optional(),
};

export const BenchScenarioSchema = z
  .object({
    description: z.string().min(1).max(200),
    workload: z.enum(WORKLOAD_NAMES as [string, ...string[]]),
    /** Backends it runs on by default (`--backends` overrides). */
    backends: z.array(z.enum(BACKEND_NAMES as [BackendName, ...BackendName[]])).min(1).default(['postgres', 'jetstream']),
    ...runFields,
    /** Overrides for `--quick`: the same scenario, short enough for CI. */
    quick: z.object(runFields).strict().default({}),
  })
  .strict();
export type BenchScenario = z.output<typeof BenchScenarioSchema> & { name: string; file: string };
type RunValues = z.output<z.ZodObject<typeof runFields>>;

/** The scenario's values as the `bench` command's option keys (commander's camelCase names). */
export interface ScenarioFlags {
  workload: string;
  executor?: string;
  rate?: string;
  stages?: string;
  writers?: string;
  retries?: string;
  slo?: string;
  stepDuration?: string;
  duration?: string;
  warmup?: string;
  drainTimeout?: string;
  streams?: string;
  workers?: string;
  maxInFlight?: string;
  consumer?: boolean;
  consumerName?: string;
  maxAckPending?: string;
  threshold?: string[];
  replay?: string;
  pregenerate?: boolean;
  processors?: boolean;
  eventSize?: string;
  batch?: string;
  backends?: string;
}

/** Names of the scenarios in `dir` (file names without `.yaml`), sorted. */
export function benchScenarioNames(dir = BENCH_SCENARIO_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/** A scenario name is what `--scenario` takes: lower case, digits, "-" (as the workload names). */
const NAME = /^[a-z][a-z0-9-]{0,63}$/;

/** Loads and validates one scenario; `ConfigError` (one line) for an unknown name or a bad file. */
export function loadBenchScenario(name: string, dir = BENCH_SCENARIO_DIR): BenchScenario {
  const names = benchScenarioNames(dir);
  if (!names.includes(name)) throw new ConfigError(`unknown bench scenario ${JSON.stringify(name)}: available: ${names.join(', ')} (eventbench scenarios)`);
  const file = join(dir, `${name}.yaml`);
  if (!NAME.test(name)) throw new ConfigError(`${file}: the file name must be lower-case letters, digits and "-" (it is the --scenario name)`);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const r = BenchScenarioSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ConfigError(`${file}: ${issue.path.join('.') || '(scenario)'}: ${issue.message}`);
  }
  const scenario: BenchScenario = { ...r.data, name, file };
  // Both variants must parse as flags would: a bad rate or duration is refused now, not when run.
  checkValues(scenario, false);
  checkValues(scenario, true);
  return scenario;
}

/** Every scenario in `dir`, validated (the first bad file throws). */
export function loadBenchScenarios(dir = BENCH_SCENARIO_DIR): BenchScenario[] {
  return benchScenarioNames(dir).map((n) => loadBenchScenario(n, dir));
}

function values(s: BenchScenario, quick: boolean): RunValues {
  const base: RunValues = {};
  for (const key of Object.keys(runFields) as (keyof RunValues)[]) if (s[key] !== undefined) (base as Record<string, unknown>)[key] = s[key];
  return quick ? { ...base, ...s.quick } : base;
}

/** Parses each value with the flag parser it feeds, naming the file and the field on failure. */
function checkValues(s: BenchScenario, quick: boolean): void {
  const v = values(s, quick);
  const where = (field: string): string => `${s.file}: ${quick && field in s.quick ? `quick.${field}` : field}`;
  const check = (field: string | null, fn: () => unknown): void => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // The parsers name the flag (`--rate "x" is not a rate`); here the field of the file is named
      // instead: the given one, or (for the executor's rules) the one the message starts with.
      const flag = /^--([a-z-]+)/.exec(err.message)?.[1];
      const named = field ?? (flag ? flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) : 'executor');
      throw new ConfigError(`${where(named)}: ${err.message.replace(/^--[a-z-]+ (?=")/, '')}`);
    }
  };
  const durationMs = v.duration !== undefined ? parseDurationField(v.duration, where('duration')) : 5000;
  if (v.warmup !== undefined) check('warmup', () => parseDuration(v.warmup!, '--warmup', { allowZero: true }));
  if (v.drainTimeout !== undefined) check('drainTimeout', () => parseDuration(v.drainTimeout!, '--drain-timeout', { allowZero: true }));
  if (v.streams !== undefined) check('streams', () => parsePositiveInt(String(v.streams), '--streams'));
  for (const t of v.thresholds ?? []) check('thresholds', () => parseThreshold(t));
  check('replay', () => checkReplay(v.replay, s.workload));
  if (v.processors) check('processors', () => assertPipelineWorkload(s.workload));
  const consumer = v.consumer;
  if (typeof consumer === 'object') check('consumer', () => parseConsumerSettings(consumer.name, consumer.maxAckPending === undefined ? undefined : String(consumer.maxAckPending)));
  if (v.eventSize !== undefined) check('eventSize', () => parseEventSize(String(v.eventSize), s.workload));
  if (v.batch !== undefined) check('batch', () => parseBatch(String(v.batch), s.workload));
  // The executor's own rules (its flags, which combinations it accepts), as `bench` would apply them.
  check(null, () =>
    executorFromFlags(
      v.executor,
      { rate: v.rate, stages: v.stages, writers: v.writers === undefined ? undefined : String(v.writers), slo: v.slo, stepDuration: v.stepDuration, retries: v.retries === undefined ? undefined : String(v.retries) },
      { rate: '500/s', durationMs },
    ),
  );
}

function parseDurationField(text: string, where: string): number {
  try {
    return parseDuration(text, '--duration');
  } catch (err) {
    throw new ConfigError(`${where}: ${(err as Error).message.replace(/^--[a-z-]+ (?=")/, '')}`);
  }
}

/** The scenario (its `quick` variant with `quick`) as `bench` option values. */
export function scenarioFlags(s: BenchScenario, quick: boolean): ScenarioFlags {
  const v = values(s, quick);
  const out: ScenarioFlags = { workload: s.workload, backends: s.backends.join(',') };
  const str = (x: number | undefined): string | undefined => (x === undefined ? undefined : String(x));
  const set = <K extends keyof ScenarioFlags>(k: K, x: ScenarioFlags[K] | undefined): void => {
    if (x !== undefined) out[k] = x;
  };
  set('executor', v.executor);
  set('rate', v.rate);
  set('stages', v.stages);
  set('writers', str(v.writers));
  set('retries', str(v.retries));
  set('slo', v.slo);
  set('stepDuration', v.stepDuration);
  set('duration', v.duration);
  set('warmup', v.warmup);
  set('drainTimeout', v.drainTimeout);
  set('streams', str(v.streams));
  set('workers', str(v.workers));
  set('maxInFlight', str(v.maxInFlight));
  if (typeof v.consumer === 'object') {
    set('consumer', true);
    set('consumerName', v.consumer.name);
    set('maxAckPending', str(v.consumer.maxAckPending));
  } else {
    set('consumer', v.consumer);
  }
  set('threshold', v.thresholds);
  set('replay', v.replay);
  set('pregenerate', v.pregenerate);
  set('processors', v.processors);
  set('eventSize', str(v.eventSize));
  set('batch', str(v.batch));
  return out;
}

/**
 * The flags that pick an executor or belong to one. When the user gives `--executor`, `--stages` or
 * `--writers` (a different kind of run), the scenario's executor and all its executor values give way,
 * so that the user's choice is never refused for clashing with the file; `--rate` alone only replaces
 * the scenario's rate.
 */
const EXECUTOR_KEYS = ['executor', 'rate', 'stages', 'writers', 'retries', 'slo', 'stepDuration'] as const;
const EXECUTOR_PICKERS = ['executor', 'stages', 'writers'] as const;

/**
 * Merges a scenario into the command's options: an option the user typed (`explicit(key)` true) wins;
 * every other option takes the scenario's value where it has one, else keeps its default.
 */
export function applyScenario<T extends object>(opts: T, flags: ScenarioFlags, explicit: (key: string) => boolean): T {
  const merged: Record<string, unknown> = { ...(opts as Record<string, unknown>) };
  const userPicksExecutor = EXECUTOR_PICKERS.some((k) => explicit(k));
  for (const [key, value] of Object.entries(flags)) {
    if (explicit(key)) continue;
    if (userPicksExecutor && (EXECUTOR_KEYS as readonly string[]).includes(key)) continue;
    merged[key] = value;
  }
  return merged as T;
}

/** One line of what a scenario runs, for `eventbench scenarios`. */
export function describeRun(s: BenchScenario, quick = false): string {
  const v = values(s, quick);
  const executor = v.executor ?? (v.stages !== undefined ? 'ramp' : v.writers !== undefined ? 'closed' : 'constant');
  const load =
    executor === 'max'
      ? `max rate under ${v.slo ?? 'p99<50ms'} from ${v.rate ?? '500/s'}`
      : executor === 'ramp'
        ? `ramp ${v.stages}`
        : executor === 'closed'
          ? `closed loop, ${v.writers ?? 10} writers`
          : `${v.rate ?? '500/s'} constant`;
  const parts = [
    s.workload,
    load,
    `${v.duration ?? '5s'}${v.warmup !== undefined ? ` + ${v.warmup} warm-up` : ''}`,
    `${v.streams ?? 1000} streams`,
  ];
  if ((v.workers ?? 1) > 1) parts.push(`${v.workers} workers`);
  if (v.consumer === false) parts.push('no consumer');
  if (typeof v.consumer === 'object') parts.push(`consumer ${v.consumer.name ?? 'load_<run id>'} (max ack pending ${v.consumer.maxAckPending ?? 256})`);
  if (v.pregenerate) parts.push('pregenerated');
  if (v.processors) parts.push('with the case processors');
  if (v.eventSize !== undefined) parts.push(`${v.eventSize}-byte events`);
  if ((v.batch ?? 1) > 1) parts.push(`${v.batch} events per append`);
  if (v.replay) parts.push(`then ${v.replay} from position 0`);
  parts.push(s.backends.join(','));
  return parts.join(', ');
}

/**
 * `bench --scenario NAME [--quick]`: the command's options with the scenario's values filled in where
 * the user typed no flag (`explicit(key)`: commander's option value source is 'cli'). Without
 * `--scenario` the options are returned as they are; `--quick` alone is refused (it shortens a scenario).
 */
export function withScenario<T extends { scenario?: string; quick?: boolean }>(
  opts: T,
  explicit: (key: string) => boolean,
  dir = BENCH_SCENARIO_DIR,
): { opts: T; scenario: BenchScenario | null; notice: string | null } {
  if (opts.scenario === undefined) {
    if (opts.quick) throw new ConfigError(`--quick shortens a scenario: give --scenario NAME too (available: ${benchScenarioNames(dir).join(', ')})`);
    return { opts, scenario: null, notice: null };
  }
  const scenario = loadBenchScenario(opts.scenario, dir);
  const quick = opts.quick === true;
  const flags = scenarioFlags(scenario, quick);
  const merged = applyScenario(opts, flags, explicit);
  const overridden = Object.keys(flags).filter((k) => explicit(k));
  const notice = `scenario ${scenario.name}${quick ? ' (quick)' : ''} from scenarios/bench/${scenario.name}.yaml: ${describeRun(scenario, quick)}${overridden.length ? `; overridden by flags: ${overridden.join(', ')}` : ''}`;
  return { opts: merged, scenario, notice };
}
