/**
 * "eventbench: Chaos": a chaos run (`eventbench chaos --metrics-port` / `--prometheus`) seen over time:
 * fault windows as annotations on every panel (from the fault-active gauge), append outcomes and
 * availability, events acknowledged against those the checker found lost, and write latency, also
 * restricted to the moments a fault is on. Series: src/runners/chaos/metrics.ts.
 */
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { METRIC } from '../../core/metrics.ts';
import { graph, labelVariable, newDashboard, promAnnotation, row, single } from './panels.ts';
import { counterRate, counterTotal, gauge, quantile } from './promql.ts';

const QUANTILES = [0.5, 0.99, 0.999] as const;

/** Fault windows: each sample where a fault is on; Grafana joins consecutive ones into a region. */
export const FAULT_WINDOWS = `${gauge('chaosFaultActive', ['backend', 'fault', 'target'])} > 0`;
/** Fault starts, so that an instantaneous fault (pg_terminate_backend), on for no scrape, shows too. */
export const FAULT_STARTS = `${counterRate('chaosFaults', ['backend', 'fault', 'target'], { phase: 'start' })} > 0`;

export function chaosDashboard(): DashboardBuilder {
  return newDashboard('eventbench-chaos', 'eventbench: Chaos', 'A chaos run: fault windows (annotations), what the writers were told, availability, acknowledged vs lost, write latency during faults (eventbench chaos --metrics-port).')
    .withVariable(labelVariable('run', 'run', METRIC.chaosAttempts, 'Run'))
    .withVariable(labelVariable('scenario', 'scenario', `${METRIC.chaosAttempts}{run=~"$run"}`, 'Scenario'))
    .withVariable(labelVariable('backend', 'backend', `${METRIC.chaosAttempts}{run=~"$run", scenario=~"$scenario"}`, 'Backend'))
    .annotation(promAnnotation('Fault windows', 'red', FAULT_WINDOWS, '{{fault}} on {{target}}', '{{backend}}: {{fault}} on {{target}}'))
    .annotation(promAnnotation('Fault starts', 'orange', FAULT_STARTS, '{{fault}} started', '{{backend}}: {{fault}} on {{target}} started'))
    .withRow(row('Faults'))
    .withPanel(
      graph('Faults on', 'Faults of each kind acting on each target (1 while on; the red regions on every panel)', 'short', [
        { expr: gauge('chaosFaultActive', ['backend', 'fault', 'target']), legend: '{{backend}} {{fault}} on {{target}}' },
      ]),
    )
    .withPanel(
      graph('Faults started and ended', 'Count since the run started, by phase (an instantaneous fault starts and ends at once)', 'short', [
        { expr: counterTotal('chaosFaults', ['backend', 'fault', 'phase']), legend: '{{backend}} {{fault}} {{phase}}' },
      ]),
    )
    .withRow(row('Writes'))
    .withPanel(
      graph('Append outcomes / s', 'Appends completed, by what the writer was told: acknowledged, failed (nothing written), unknown (a timeout, a lost connection)', 'ops', [
        { expr: counterRate('chaosAppends', ['backend', 'outcome']), legend: '{{backend}} {{outcome}}' },
        { expr: counterRate('chaosAttempts', ['backend']), legend: '{{backend}} invoked' },
      ]),
    )
    .withPanel(
      // Over completed appends, not invoked ones: an append invoked just before the interval and answered
      // in it would push a ratio over invocations above 100 %. A timeout completes as unknown, so an outage
      // shows as 0 once the client timeout has passed.
      graph('Availability', 'Share of the appends completed in each interval that were acknowledged (failed and unknown ones count against it)', 'percentunit', [
        { expr: `${counterRate('chaosAppends', ['backend'], { outcome: 'acknowledged' })} / ${counterRate('chaosAppends', ['backend'])}`, legend: '{{backend}}' },
      ]),
    )
    .withPanel(
      graph('Acknowledged vs lost events', 'Events acknowledged to the writers as the run goes; after the run, what the checker read back: acknowledged and lost (acknowledged, never read)', 'short', [
        { expr: counterTotal('chaosAckedEvents', ['backend']), legend: '{{backend}} acknowledged (live)' },
        { expr: gauge('chaosChecked', ['backend'], 'max', { result: 'acked' }), legend: '{{backend}} acknowledged (checker)' },
        { expr: gauge('chaosChecked', ['backend'], 'max', { result: 'lost' }), legend: '{{backend}} lost (checker)' },
      ]),
    )
    .withPanel(
      single('What the checker found', 'The verdict’s counts once the run is checked: acked, lost, unknown, recovered, duplicates, unexpected', 'short', [
        { expr: gauge('chaosChecked', ['backend', 'result'], 'max'), legend: '{{backend}} {{result}}' },
      ], 12),
    )
    .withRow(row('Latency'))
    .withPanel(
      graph('Append latency (acknowledged)', 'From an append invoked to its acknowledgement', 's',
        QUANTILES.map((q) => ({ expr: quantile(q, 'chaosAppendDuration', ['backend'], { outcome: 'acknowledged' }), legend: `{{backend}} p${q * 100}` })),
      ),
    )
    .withPanel(
      graph('Append latency while a fault is on', 'Invoke to completion of every append (an unknown one ends at the client timeout), only where a fault is on', 's', [
        { expr: `${quantile(0.5, 'chaosAppendDuration', ['backend'])} and on (backend) (${gauge('chaosFaultActive', ['backend'])} > 0)`, legend: '{{backend}} p50' },
        { expr: `${quantile(0.99, 'chaosAppendDuration', ['backend'])} and on (backend) (${gauge('chaosFaultActive', ['backend'])} > 0)`, legend: '{{backend}} p99' },
      ]),
    );
}
