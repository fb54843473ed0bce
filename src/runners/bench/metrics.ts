/**
 * The per-store numbers a bench compares, taken from one round's result: throughput, latency, end to
 * end, errors, storage and CPU per event on either side (from /proc, src/runners/load/resources.ts).
 * One list, so the side-by-side table, the efficiency and the run statistics all read the same values.
 */
import type { BackendResult, MetricStat } from '../../report/load-result.ts';

export interface MetricDef {
  metric: string;
  unit: string;
  better: MetricStat['better'];
  /** Null when the round did not measure it (no consumer, no events, failed). */
  value(r: BackendResult): number | null;
}

const perEvent = (seconds: number, r: BackendResult): number | null => (r.totals.wholeRun.events > 0 ? (seconds * 1e6) / r.totals.wholeRun.events : null);

/** Client CPU (the load generator's process: generator, driver, consumer) per event stored, µs. */
export const clientCpuPerEvent = (r: BackendResult): number | null => perEvent(r.resources.loadGenerator.cpuSeconds, r);
/** Server CPU (every managed server process the run used) per event stored, µs; null without managed servers. */
export const serverCpuPerEvent = (r: BackendResult): number | null =>
  r.resources.servers.length === 0 ? null : perEvent(r.resources.servers.reduce((a, s) => a + s.cpuSeconds, 0), r);
/** Both sides together, µs per event. */
export const cpuPerEvent = (r: BackendResult): number | null => {
  const c = clientCpuPerEvent(r);
  const s = serverCpuPerEvent(r);
  return c === null ? null : c + (s ?? 0);
};

/**
 * Events/s a round stands for: after a max search, the highest rate that met the SLO (in events: the
 * search steps appends); otherwise what was acknowledged in the measured window.
 */
export function throughputOf(r: BackendResult): number {
  const found = r.maxSearch?.sustainableRate;
  if (found === null || found === undefined) return r.throughput.eventsPerSec;
  return found * (r.totals.appends > 0 ? r.totals.events / r.totals.appends : 1);
}

export const METRICS: MetricDef[] = [
  { metric: 'throughput', unit: 'events/s', better: 'higher', value: throughputOf },
  { metric: 'p50', unit: 'ms', better: 'lower', value: (r) => (r.latency.count > 0 ? r.latency.p50 : null) },
  { metric: 'p99', unit: 'ms', better: 'lower', value: (r) => (r.latency.count > 0 ? r.latency.p99 : null) },
  { metric: 'p99.9', unit: 'ms', better: 'lower', value: (r) => (r.latency.count > 0 ? r.latency.p999 : null) },
  { metric: 'e2e p99', unit: 'ms', better: 'lower', value: (r) => (r.endToEnd && r.endToEnd.count > 0 ? r.endToEnd.p99 : null) },
  { metric: 'error rate', unit: 'fraction', better: 'lower', value: (r) => r.errors.rate },
  { metric: 'conflict rate', unit: 'fraction', better: 'lower', value: (r) => (r.totals.sent > 0 ? r.errors.conflict / r.totals.sent : 0) },
  { metric: 'bytes/event', unit: 'bytes', better: 'lower', value: (r) => r.storage?.bytesPerEvent ?? null },
  { metric: 'client CPU/event', unit: 'µs', better: 'lower', value: clientCpuPerEvent },
  { metric: 'server CPU/event', unit: 'µs', better: 'lower', value: serverCpuPerEvent },
];
