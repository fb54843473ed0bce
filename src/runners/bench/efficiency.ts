/**
 * Efficiency: adapter against its raw driver, from rounds of the same invocation, one ratio per run.
 * 1 means "as good as the driver alone"; below 1 is what the adapter costs.
 *
 * What is compared depends on the executor. At a fixed arrival rate (constant, ramp) both sides carry
 * the offered load, so throughput / throughput is ~1 by construction and says nothing: the ratio is of
 * latency (raw p99 / adapter p99, p50 alike) and of CPU per event (raw / adapter). Where the load side
 * finds the limit (max, closed) the ratio is of throughput (adapter / raw).
 */
import type { BackendResult, Efficiency } from '../../report/load-result.ts';
import { cpuPerEvent, throughputOf } from './metrics.ts';
import { spread } from './stats.ts';

export interface PairRatios {
  throughput: number | null;
  p50: number | null;
  p99: number | null;
  cpuPerEvent: number | null;
  replay: number | null;
}

const ratio = (num: number | null, den: number | null): number | null => (num === null || den === null || !(num > 0) || !(den > 0) ? null : num / den);

/** The ratios of one run's pair, each oriented so that 1 is "as good as raw" and lower is worse. */
export function pairRatios(adapter: BackendResult, raw: BackendResult): PairRatios {
  const measured = (r: BackendResult): boolean => r.error === null && r.latency.count > 0;
  if (!measured(adapter) || !measured(raw)) return { throughput: null, p50: null, p99: null, cpuPerEvent: null, replay: null };
  return {
    throughput: ratio(throughputOf(adapter), throughputOf(raw)),
    p50: ratio(raw.latency.p50, adapter.latency.p50),
    p99: ratio(raw.latency.p99, adapter.latency.p99),
    cpuPerEvent: ratio(cpuPerEvent(raw), cpuPerEvent(adapter)),
    // The same read-back (`--replay`) through the adapter's readAll and the driver's own page loop.
    replay: ratio(adapter.replay?.eventsPerSec ?? null, raw.replay?.eventsPerSec ?? null),
  };
}

export function efficiencyKind(executor: string): Efficiency['of'] {
  return executor === 'max' || executor === 'closed' ? 'throughput' : 'latency';
}

/**
 * One entry per adapter that has baseline rounds: the ratio of each run, then median and spread. `load`
 * describes the load in words ("500/s"), for the definition line.
 */
export function computeEfficiencies(results: BackendResult[], executor: string, load: string): Efficiency[] {
  const of = efficiencyKind(executor);
  const out: Efficiency[] = [];
  const adapters = [...new Set(results.filter((r) => r.baselineOf === null).map((r) => r.backend))];
  for (const backend of adapters) {
    const pairs: PairRatios[] = [];
    let baseline: string | null = null;
    for (const a of results.filter((r) => r.backend === backend && r.baselineOf === null)) {
      const raw = results.find((r) => r.baselineOf === backend && r.run === a.run);
      if (!raw) continue;
      baseline = raw.backend;
      pairs.push(pairRatios(a, raw));
    }
    if (!baseline || pairs.length === 0) continue;
    const series = (key: keyof PairRatios) => {
      const values = pairs.map((p) => p[key]);
      return values.every((v): v is number => v !== null) ? spread(values) : null;
    };
    const headline = of === 'throughput' ? series('throughput') : series('p99');
    if (!headline) continue; // a side failed or measured nothing: no ratio to quote
    out.push({
      backend,
      baseline,
      of,
      definition:
        of === 'throughput'
          ? `${backend} events/s / ${baseline} events/s (${load}${executor === 'max' ? ': the rates each search found' : ''})`
          : `${baseline} p99 / ${backend} p99 at ${load} (both carry the offered rate, so latency and CPU are compared)`,
      value: headline,
      throughput: series('throughput'),
      p50: series('p50'),
      p99: series('p99'),
      cpuPerEvent: series('cpuPerEvent'),
      replay: series('replay'),
    });
  }
  return out;
}
