/**
 * "eventbench: PostgreSQL server": prometheus-postgres-exporter's series plus eventbench's two queries
 * (WAL position and checkpoints; src/infra/managed-prometheus.ts): commits, WAL, checkpoints, locks,
 * connections, cache hit ratio.
 */
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { POSTGRES_METRIC } from '../../core/server-metrics.ts';
import { graph, labelVariable, newDashboard, row } from './panels.ts';
import { serverRate } from './promql.ts';

const DB = '{datname=~"$datname", run=~"$run"}';
const RUN = '{run=~"$run"}';

export function postgresServerDashboard(): DashboardBuilder {
  const m = POSTGRES_METRIC;
  return newDashboard('eventbench-postgres-server', 'eventbench: PostgreSQL server', 'PostgreSQL from prometheus-postgres-exporter (and eventbench’s WAL and checkpoint queries).')
    .withVariable(labelVariable('run', 'run', m.commits, 'Run'))
    .withVariable(labelVariable('datname', 'datname', `${m.commits}{run=~"$run"}`, 'Database'))
    .withRow(row('Transactions'))
    .withPanel(
      graph('Commits and rollbacks / s', 'Transactions per second by database', 'ops', [
        { expr: serverRate(`${m.commits}${DB}`, ['datname']), legend: 'commit {{datname}}' },
        { expr: serverRate(`${m.rollbacks}${DB}`, ['datname']), legend: 'rollback {{datname}}' },
      ]),
    )
    .withPanel(
      graph('Rows inserted / s', 'Tuples inserted per second (events, outbox, stream heads)', 'ops', [
        { expr: serverRate(`${m.tuplesInserted}${DB}`, ['datname']), legend: '{{datname}}' },
      ]),
    )
    .withPanel(
      graph('Cache hit ratio', 'Share of block reads served from shared buffers', 'percentunit', [
        {
          expr: `${serverRate(`${m.blocksHit}${DB}`, ['datname'])} / (${serverRate(`${m.blocksHit}${DB}`, ['datname'])} + ${serverRate(`${m.blocksRead}${DB}`, ['datname'])})`,
          legend: '{{datname}}',
        },
      ]),
    )
    .withPanel(
      graph('Connections', 'Backends connected per database', 'short', [{ expr: `sum by (datname) (${m.backends}${DB})`, legend: '{{datname}}' }]),
    )
    .withRow(row('WAL, checkpoints, locks'))
    .withPanel(
      graph('WAL written / s', 'Bytes of WAL per second (from the WAL position)', 'Bps', [{ expr: serverRate(`${m.walPosition}${RUN}`, []), legend: 'WAL' }]),
    )
    .withPanel(
      graph('Checkpoints / s', 'Scheduled (timed) and requested checkpoints', 'ops', [
        { expr: serverRate(`${m.checkpointsTimed}${RUN}`, []), legend: 'timed' },
        { expr: serverRate(`${m.checkpointsRequested}${RUN}`, []), legend: 'requested' },
      ]),
    )
    .withPanel(
      graph('Locks', 'Locks held, by mode', 'short', [{ expr: `sum by (mode) (${m.locks}${DB})`, legend: '{{mode}}' }]),
    )
    .withPanel(
      graph('Database size', 'On-disk size per database', 'bytes', [{ expr: `sum by (datname) (${m.databaseSize}${DB})`, legend: '{{datname}}' }]),
    );
}
