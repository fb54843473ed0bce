/**
 * Prometheus series of a chaos run (`eventbench chaos --metrics-port`, docs/observability.md), named and
 * shaped in src/core/metrics.ts (`METRIC.chaos*`, `METRIC_SHAPE`) so the Chaos dashboard cannot graph a
 * series that is not here. One registry for the whole command: `--backend both` runs the backends one
 * after the other and their series stay apart by the `backend` label.
 *
 * What feeds it, without a second bookkeeping next to the checker's:
 * - the history (a `HistorySink`): every writer's append invoke and completion -> attempts, outcomes
 *   (ok / fail / info as acknowledged / failed / unknown), acknowledged events, and the latency from
 *   invoke to completion;
 * - the fault timeline's start and stop events -> the fault-active gauge (the dashboard's annotation
 *   regions) and start / stop counters (an instantaneous fault, `pg_terminate_backend`, is on for no
 *   scrape, but its start is counted);
 * - the checker's verdict at the end -> acked, lost, unknown, recovered, duplicates, unexpected.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CHAOS_CHECKED, LATENCY_BUCKETS, METRIC, METRIC_SHAPE, type ChaosChecked, type ChaosOutcome } from '../../core/metrics.ts';
import type { Fault, FaultTimeline, NemesisEvent } from './faults.ts';
import type { HistoryOp, HistorySink } from './history.ts';
import type { ChaosBackend } from './scenario.ts';
import type { Verdict } from './verdict.ts';

/** The recorder of one backend's run: a history sink, the timeline's events and the verdict. */
export interface ChaosRunMetrics extends HistorySink {
  fault(event: NemesisEvent): void;
  checked(verdict: Verdict): void;
}

export interface ChaosMetrics {
  readonly registry: Registry;
  /** Series for `backend`; the timeline's faults and the outcomes show as 0 from the first scrape. */
  forRun(backend: ChaosBackend, timeline: FaultTimeline): ChaosRunMetrics;
  /** Exposition text (the /metrics source). */
  metrics(): Promise<string>;
}

/**
 * The `fault` and `target` labels of a fault: its kind (a network fault by its toxic, e.g.
 * `network_timeout`) and what it acts on (a server, a consumer, a cluster node by role, the standby).
 */
export function faultLabels(fault: Fault): { fault: string; target: string } {
  switch (fault.kind) {
    case 'network':
      return { fault: `network_${fault.toxic.type}`, target: fault.target };
    case 'kill':
    case 'pause':
      return { fault: fault.kind, target: fault.target };
    case 'pg_terminate_backend':
      return { fault: fault.kind, target: 'postgres' };
    case 'consumer_crash':
      return { fault: fault.kind, target: `consumer ${fault.consumer}` };
    case 'node_kill':
    case 'node_partition':
      return { fault: fault.kind, target: `nats ${fault.node}` };
    case 'standby_kill':
      return { fault: fault.kind, target: 'postgres standby' };
    case 'primary_failover':
      return { fault: fault.kind, target: 'postgres primary' };
  }
}

const OUTCOME: Record<'ok' | 'fail' | 'info', ChaosOutcome> = { ok: 'acknowledged', fail: 'failed', info: 'unknown' };

function labelNames<K extends keyof typeof METRIC_SHAPE>(key: K): string[] {
  return [...METRIC_SHAPE[key].labels];
}

export function createChaosMetrics(scenario: string): ChaosMetrics {
  const registry = new Registry();
  const active = new Gauge({ name: METRIC.chaosFaultActive, help: 'Faults of this kind on this target now on (the Chaos dashboard draws its fault windows from it)', labelNames: labelNames('chaosFaultActive'), registers: [registry] });
  const faults = new Counter({ name: METRIC.chaosFaults, help: 'Faults started and ended (phase start / stop)', labelNames: labelNames('chaosFaults'), registers: [registry] });
  const attempts = new Counter({ name: METRIC.chaosAttempts, help: 'Appends the chaos writers invoked', labelNames: labelNames('chaosAttempts'), registers: [registry] });
  const appends = new Counter({ name: METRIC.chaosAppends, help: 'Appends completed, by what the writer was told: acknowledged (ok), failed (fail: nothing written), unknown (info: a timeout, a connection lost)', labelNames: labelNames('chaosAppends'), registers: [registry] });
  const acked = new Counter({ name: METRIC.chaosAckedEvents, help: 'Events acknowledged to the writers (a partial append counts its stored prefix)', labelNames: labelNames('chaosAckedEvents'), registers: [registry] });
  const duration = new Histogram({ name: METRIC.chaosAppendDuration, help: 'From an append invoked to its completion, by outcome (an unknown one ends at the client timeout)', labelNames: labelNames('chaosAppendDuration'), buckets: LATENCY_BUCKETS, registers: [registry] });
  const checked = new Gauge({ name: METRIC.chaosChecked, help: 'What the checker found after the run: acknowledged, lost (acknowledged, never read), unknown, recovered, duplicates, unexpected', labelNames: labelNames('chaosChecked'), registers: [registry] });

  return {
    registry,
    metrics: () => registry.metrics(),
    forRun(backend, timeline) {
      const run = { backend, scenario };
      // A counter that first appears at 1 loses that increment to rate(): every series starts at 0.
      for (const entry of timeline) {
        const l = { ...run, ...faultLabels(entry.fault) };
        active.set(l, 0);
        for (const phase of ['start', 'stop']) faults.inc({ ...l, phase }, 0);
      }
      attempts.inc(run, 0);
      acked.inc(run, 0);
      for (const outcome of Object.values(OUTCOME)) {
        appends.inc({ ...run, outcome }, 0);
        duration.zero({ ...run, outcome });
      }
      /** Invoke times (ns, the history's clock) of each writer process's append in flight. */
      const invoked = new Map<number, number>();
      /** Timeline entries whose start succeeded and that have not stopped. */
      const on = new Set<number>();
      return {
        add(op: HistoryOp) {
          if (op.f !== 'append') return;
          if (op.type === 'invoke') {
            invoked.set(op.process, op.time);
            attempts.inc(run);
            return;
          }
          const outcome = OUTCOME[op.type];
          appends.inc({ ...run, outcome });
          const events = op.type === 'ok' ? op.ids.length : (op.acked ?? 0);
          if (events > 0) acked.inc(run, events);
          const t0 = invoked.get(op.process);
          invoked.delete(op.process);
          if (t0 !== undefined) duration.observe({ ...run, outcome }, Math.max(0, op.time - t0) / 1e9);
        },
        fault(e) {
          const l = { ...run, ...faultLabels(e.fault) };
          if (e.phase === 'start') {
            if (e.error !== undefined) return; // never on
            on.add(e.index);
            active.inc(l);
            faults.inc({ ...l, phase: 'start' });
          } else if (on.delete(e.index)) {
            active.dec(l);
            faults.inc({ ...l, phase: 'stop' });
          }
        },
        checked(verdict) {
          const counts: Record<ChaosChecked, number> = {
            acked: verdict.acked,
            lost: verdict.lost.count,
            unknown: verdict.unknown.count,
            recovered: verdict.recovered.count,
            duplicates: verdict.duplicates.count,
            unexpected: verdict.unexpected.count,
          };
          for (const result of CHAOS_CHECKED) checked.set({ ...run, result }, counts[result]);
        },
      };
    },
  };
}
