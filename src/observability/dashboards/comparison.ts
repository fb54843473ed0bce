/**
 * "eventbench: PostgreSQL vs NATS": the harness's own series side by side per backend (docs/metrics.md):
 * rates, latency percentiles, lag, errors, dropped sends, target vs achieved rate, and storage growth
 * from the two servers' exporters.
 */
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { METRIC } from '../../core/metrics.ts';
import { NATS_METRIC, POSTGRES_METRIC } from '../../core/server-metrics.ts';
import { graph, labelVariable, newDashboard, row } from './panels.ts';
import { counterRate, gauge, quantile, serverGrowth } from './promql.ts';

const QUANTILES = [0.5, 0.99, 0.999] as const;

export function comparisonDashboard(): DashboardBuilder {
  return newDashboard('eventbench-comparison', 'eventbench: PostgreSQL vs NATS', 'The same workload against each backend: throughput, latency, lag and errors (eventbench load / bench --metrics-port).')
    .withVariable(labelVariable('run', 'run', METRIC.published, 'Run'))
    .withVariable(labelVariable('backend', 'backend', `${METRIC.published}{run=~"$run"}`, 'Backend'))
    .withVariable(labelVariable('event_type', 'event_type', `${METRIC.published}{run=~"$run", backend=~"$backend"}`, 'Event type'))
    .withRow(row('Throughput'))
    .withPanel(
      graph('Published events / s', 'Appends acknowledged by the store, per backend and event type', 'ops', [
        { expr: counterRate('published', ['backend', 'event_type']), legend: '{{backend}} {{event_type}}' },
      ]),
    )
    .withPanel(
      graph('Processed events / s', 'Events handled by the run consumer, per backend and outcome', 'ops', [
        { expr: counterRate('processed', ['backend', 'status']), legend: '{{backend}} {{status}}' },
      ]),
    )
    .withPanel(
      graph('Target vs achieved rate', 'The load generator’s target arrival rate against appends acknowledged per second', 'ops', [
        { expr: gauge('targetRate', ['backend'], 'max'), legend: '{{backend}} target' },
        { expr: counterRate('published', ['backend']), legend: '{{backend}} achieved' },
      ]),
    )
    .withPanel(
      graph('Appends in flight', 'Appends sent and not yet acknowledged (bounded by --max-in-flight)', 'short', [
        { expr: gauge('inFlight', ['backend'], 'max'), legend: '{{backend}}' },
      ]),
    )
    .withRow(row('Latency'))
    .withPanel(
      graph('Append latency', 'From the intended send time to the acknowledgement (no coordinated omission)', 's',
        QUANTILES.map((q) => ({ expr: quantile(q, 'appendDuration', ['backend']), legend: `{{backend}} p${q * 100}` })),
      ),
    )
    .withPanel(
      graph('End-to-end latency', 'From the intended send time to the consumer handler receiving the event', 's',
        QUANTILES.map((q) => ({ expr: quantile(q, 'endToEndDuration', ['backend']), legend: `{{backend}} p${q * 100}` })),
      ),
    )
    .withPanel(
      graph('Consumer processing time', 'Time the consumer handler spent on one event', 's', [
        { expr: quantile(0.99, 'processingDuration', ['backend', 'event_type']), legend: '{{backend}} {{event_type}} p99' },
      ]),
    )
    .withRow(row('Lag and failures'))
    .withPanel(
      graph('Queue depth and consumer lag', 'Events appended but not yet handled by the consumer', 'short', [
        { expr: gauge('queueDepth', ['backend'], 'max'), legend: '{{backend}} queue depth' },
        { expr: gauge('consumerLag', ['backend', 'subscription'], 'max'), legend: '{{backend}} {{subscription}} lag' },
      ]),
    )
    .withPanel(
      graph('Append errors / s', 'Failed appends by kind', 'ops', [
        { expr: counterRate('appendErrors', ['backend', 'kind']), legend: '{{backend}} {{kind}}' },
      ]),
    )
    .withPanel(
      graph('Dropped sends / s', 'Scheduled appends not sent because --max-in-flight were outstanding (k6: dropped iterations)', 'ops', [
        { expr: counterRate('droppedSends', ['backend']), legend: '{{backend}}' },
      ]),
    )
    .withPanel(
      graph('Storage growth', 'Bytes per second added to the PostgreSQL database and to JetStream storage (server exporters)', 'Bps', [
        { expr: serverGrowth(`${POSTGRES_METRIC.databaseSize}{run=~"$run"}`, ['datname']), legend: 'postgres {{datname}}' },
        { expr: serverGrowth(`${NATS_METRIC.jsStorageBytes}{run=~"$run"}`, ['server_name']), legend: 'jetstream {{server_name}}' },
      ]),
    );
}
