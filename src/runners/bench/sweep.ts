/**
 * `eventbench bench --sweep streams=1000,100000,1000000`: the same bench repeated for each value of one
 * parameter, so a reader sees how each backend's cost grows with it (throughput, p99, bytes and CPU per
 * event: the `sweep` block of the result, docs/bench.md "Sweeps"). This module parses the spec, plans
 * and bounds the time, and condenses each point's result; the CLI runs the points (it owns the servers).
 */
import { ConfigError } from '../../core/event-store.ts';
import type { BackendResult, LoadResult, SweepBlock, SweepParameter, SweepPoint } from '../../report/load-result.ts';
import { SWEEP_PARAMETERS } from '../../report/load-result.ts';
import { cpuPerEvent, medianOf } from '../../report/tables.ts';
import { formatDuration, parsePositiveInt } from '../load/parse.ts';
import type { LoadScenario } from '../load/scenario.ts';
import { MAX_EVENT_BYTES } from '../../workloads/synthetic.ts';

export interface SweepSpec {
  parameter: SweepParameter;
  values: number[];
}

/** What each parameter sets, as the flag a user would give (the flag's own checks then apply). */
export const SWEEP_FLAGS: Record<SweepParameter, { option: 'streams' | 'writers' | 'eventSize'; flag: string; max: number; needs: string }> = {
  streams: { option: 'streams', flag: '--streams', max: 1_000_000, needs: 'a workload that spreads appends over streams' },
  size: { option: 'eventSize', flag: '--event-size', max: MAX_EVENT_BYTES, needs: 'the synthetic workload (--event-size)' },
  writers: { option: 'writers', flag: '--writers', max: 1_000, needs: 'the closed executor (--writers)' },
};

/** Values per sweep at most: each is a whole bench. */
export const MAX_SWEEP_POINTS = 12;

/** A sweep whose planned time is longer is refused (reduce --duration, --runs or the values). */
export const MAX_SWEEP_MS = 2 * 3_600_000;

/** `streams=1000,100000` (also `1k`, `1m`); one parameter, 2 to MAX_SWEEP_POINTS distinct values. */
export function parseSweep(text: string): SweepSpec {
  const m = /^\s*([a-z]+)\s*=\s*(.+)$/.exec(text);
  const known = SWEEP_PARAMETERS.join(', ');
  if (!m) throw new ConfigError(`--sweep ${JSON.stringify(text)}: expected <parameter>=<v1>,<v2>,..., e.g. streams=1000,100000 (parameters: ${known})`);
  const parameter = m[1]!;
  if (!(SWEEP_PARAMETERS as readonly string[]).includes(parameter)) throw new ConfigError(`--sweep: unknown parameter ${JSON.stringify(parameter)}; sweepable: ${known} (one per sweep)`);
  const p = parameter as SweepParameter;
  const { flag, max } = SWEEP_FLAGS[p];
  const values = m[2]!.split(',').map((raw) => {
    const t = raw.trim().toLowerCase();
    const mult = t.endsWith('k') ? 1_000 : t.endsWith('m') ? 1_000_000 : 1;
    const digits = mult === 1 ? t : t.slice(0, -1);
    return parsePositiveInt(String(Number(digits) * mult), `--sweep ${p} value ${JSON.stringify(raw.trim())} (${flag})`, max);
  });
  if (values.length < 2) throw new ConfigError(`--sweep ${p}: give at least two values to compare, e.g. ${p}=${values[0] ?? 1},${(values[0] ?? 1) * 10}`);
  if (values.length > MAX_SWEEP_POINTS) throw new ConfigError(`--sweep ${p}: ${values.length} values, at most ${MAX_SWEEP_POINTS} (each is a whole bench)`);
  if (new Set(values).size !== values.length) throw new ConfigError(`--sweep ${p}: a value is listed twice`);
  return { parameter: p, values };
}

/** Refuses a parameter the run cannot honour (before any server starts); without an executor, the workload only. */
export function checkSweepFits(spec: SweepSpec, scenario: { workload: string; executor?: LoadScenario['executor'] }): void {
  if (spec.parameter === 'size' && scenario.workload !== 'synthetic') {
    throw new ConfigError(`--sweep size needs ${SWEEP_FLAGS.size.needs}; the ${scenario.workload} workload's events have the sizes of their domain (use --workload synthetic)`);
  }
  if (spec.parameter === 'writers' && scenario.executor !== undefined && scenario.executor !== 'closed') {
    throw new ConfigError(`--sweep writers needs ${SWEEP_FLAGS.writers.needs}; this run's executor is ${scenario.executor} (drop --rate / --stages / --executor)`);
  }
}

/** Start and stop of managed servers and stores per point and round: a generous guess from runs here. */
const POINT_OVERHEAD_MS = 10_000;
const ROUND_OVERHEAD_MS = 3_000;

/**
 * The planned time of a sweep: per point, every round (backends, their baselines, runs, latency-at
 * follow-ups) takes warm-up + duration (a max search's whole budget) plus its start / stop.
 */
export function estimateSweepMs(points: number, scenario: Pick<LoadScenario, 'warmupMs' | 'durationMs' | 'stepDurationMs'>, rounds: { backends: number; baseline: boolean; runs: number; latencyAt: number }): number {
  const perRound = scenario.warmupMs + scenario.durationMs + ROUND_OVERHEAD_MS;
  const follow = rounds.latencyAt * (scenario.stepDurationMs ?? scenario.durationMs);
  const perRun = rounds.backends * ((rounds.baseline ? 2 : 1) * perRound + follow);
  return points * (POINT_OVERHEAD_MS + rounds.runs * perRun);
}

export function checkSweepTime(spec: SweepSpec, plannedMs: number): void {
  if (plannedMs > MAX_SWEEP_MS) {
    throw new ConfigError(`--sweep ${spec.parameter}: ${spec.values.length} points would take about ${Math.ceil(plannedMs / 60_000)} min, more than ${formatDuration(MAX_SWEEP_MS)}; reduce --duration, --runs or the values`);
  }
}

/** Each store's figures at one point: the median over its runs (baselines included; latency-at rounds left out). */
export function sweepPoint(value: number, result: LoadResult, exitCode: number, dir: string | null): SweepPoint {
  const byStore = new Map<string, BackendResult[]>();
  for (const b of result.backends) {
    if (b.latencyAt) continue;
    byStore.set(b.backend, [...(byStore.get(b.backend) ?? []), b]);
  }
  const stores: SweepPoint['stores'] = {};
  for (const [name, entries] of byStore) {
    const ok = entries.filter((b) => b.error === null);
    stores[name] = {
      eventsPerSec: medianOf(ok, (b) => b.throughput.eventsPerSec),
      p99Ms: medianOf(ok, (b) => (b.latency.count > 0 ? b.latency.p99 : null)),
      bytesPerEvent: medianOf(ok, (b) => b.storage?.bytesPerEvent ?? null),
      cpuUsPerEvent: medianOf(ok, (b) => {
        const cpu = cpuPerEvent(b);
        return cpu.client === null ? null : cpu.client + (cpu.servers ?? 0);
      }),
    };
  }
  return { value, stores, exitCode, dir };
}

export function sweepBlock(spec: SweepSpec, points: SweepPoint[]): SweepBlock {
  return { parameter: spec.parameter, values: spec.values, points };
}
