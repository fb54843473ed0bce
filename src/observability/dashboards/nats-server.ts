/**
 * "eventbench: NATS server": prometheus-nats-exporter's series (or eventbench's own /metrics, which
 * exports the same names from the monitoring endpoints): messages and bytes in and out, JetStream
 * storage, stream messages, consumer pending and ack pending, slow consumers.
 */
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { NATS_METRIC } from '../../core/server-metrics.ts';
import { graph, labelVariable, newDashboard, row } from './panels.ts';
import { serverRate } from './promql.ts';

const SERVER = '{server_id=~"$server", run=~"$run"}';

export function natsServerDashboard(): DashboardBuilder {
  const m = NATS_METRIC;
  return newDashboard('eventbench-nats-server', 'eventbench: NATS server', 'nats-server and JetStream, from /varz, /connz and /jsz (prometheus-nats-exporter names).')
    .withVariable(labelVariable('run', 'run', m.inMsgs, 'Run'))
    .withVariable(labelVariable('server', 'server_id', `${m.inMsgs}{run=~"$run"}`, 'Server'))
    .withRow(row('Traffic'))
    .withPanel(
      graph('Messages / s', 'Messages received from and delivered to clients', 'ops', [
        { expr: serverRate(`${m.inMsgs}${SERVER}`, ['server_id']), legend: 'in {{server_id}}' },
        { expr: serverRate(`${m.outMsgs}${SERVER}`, ['server_id']), legend: 'out {{server_id}}' },
      ]),
    )
    .withPanel(
      graph('Bytes / s', 'Payload bytes received and delivered', 'Bps', [
        { expr: serverRate(`${m.inBytes}${SERVER}`, ['server_id']), legend: 'in {{server_id}}' },
        { expr: serverRate(`${m.outBytes}${SERVER}`, ['server_id']), legend: 'out {{server_id}}' },
      ]),
    )
    .withPanel(
      graph('Connections and slow consumers', 'Client connections, and clients the server cut off or fell behind for (slow consumers, cumulative)', 'short', [
        { expr: `sum by (server_id) (${m.connections}${SERVER})`, legend: 'connections {{server_id}}' },
        { expr: `sum by (server_id) (${m.slowConsumers}${SERVER})`, legend: 'slow consumers {{server_id}}' },
      ]),
    )
    .withPanel(
      graph('Server CPU', 'CPU use of nats-server (100% = one core)', 'percent', [{ expr: `max by (server_id) (${m.cpu}${SERVER})`, legend: '{{server_id}}' }]),
    )
    .withRow(row('JetStream'))
    .withPanel(
      graph('JetStream storage', 'Bytes of messages stored in JetStream (file and memory)', 'bytes', [
        { expr: `sum by (server_name) (${m.jsStorageBytes}${SERVER})`, legend: 'stored {{server_name}}' },
      ]),
    )
    .withPanel(
      // Every replica of a stream reports it (3 on an R3 cluster): max, not sum, is the stream's count.
      graph('Stream messages', 'Messages held per stream (the largest count among its replicas)', 'short', [{ expr: `max by (stream_name) (${m.streamMessages}${SERVER})`, legend: '{{stream_name}}' }]),
    )
    .withPanel(
      graph('Consumer pending', 'Messages in the stream not yet delivered to each consumer', 'short', [
        { expr: `max by (stream_name, consumer_name) (${m.consumerPending}${SERVER})`, legend: '{{stream_name}}/{{consumer_name}}' },
      ]),
    )
    .withPanel(
      graph('Consumer ack pending', 'Messages delivered and not yet acknowledged, per consumer', 'short', [
        { expr: `max by (stream_name, consumer_name) (${m.consumerAckPending}${SERVER})`, legend: '{{stream_name}}/{{consumer_name}}' },
      ]),
    );
}
