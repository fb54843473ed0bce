/**
 * NATS server metrics for Prometheus without an exporter: nats-server serves JSON on its monitoring port
 * (/varz, /connz, /jsz) and no Prometheus text, and prometheus-nats-exporter cannot be installed here
 * (not in Debian, no binary downloads). On each scrape of eventbench's /metrics this polls those
 * endpoints and writes the numbers under the exporter's own names and labels (src/core/server-metrics.ts),
 * so one dashboard reads either source.
 */
import { Gauge, Registry } from 'prom-client';
import { NATS_CONSUMER_LABELS, NATS_METRIC, NATS_SERVER_LABELS, NATS_STREAM_LABELS, NATS_VARZ_FIELDS } from '../core/server-metrics.ts';

export interface NatsMonitor {
  /** Exposition text for every monitored server; a server that does not answer is left out (as the exporter does). */
  scrape(): Promise<string>;
}

/** The parts of nats-server's /jsz answer (with `accounts`, `streams`, `consumers`) that we export. */
interface Jsz {
  config?: { max_storage?: number; domain?: string };
  meta_cluster?: { name?: string; leader?: string };
  streams?: number;
  consumers?: number;
  messages?: number;
  bytes?: number;
  account_details?: {
    name: string;
    id: string;
    stream_detail?: {
      name: string;
      cluster?: { leader?: string };
      state: { messages: number; bytes: number; last_seq: number };
      consumer_detail?: {
        name: string;
        created: string;
        cluster?: { leader?: string };
        config?: { description?: string };
        delivered: { stream_seq: number };
        num_pending: number;
        num_ack_pending: number;
        num_redelivered: number;
      }[];
    }[];
  }[];
}

interface Connz {
  num_connections: number;
  connections?: { pending_bytes?: number }[];
}

/**
 * Each poll waits at most this long for one endpoint (a loopback server answers in milliseconds): a paused
 * server must not make the whole scrape, harness series included, outlast `--prometheus`'s 1 s interval.
 */
const POLL_TIMEOUT_MS = 500;

/** `monitorUrls`: http://host:port of each server's monitoring endpoint. */
export function createNatsMonitor(monitorUrls: string[]): NatsMonitor {
  const registry = new Registry();
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge<L>({ name, help, labelNames, registers: [registry] });
  // Exporter behaviour: every numeric /varz field is a gauge `gnatsd_varz_<field>{server_id}`.
  const varz = new Map(NATS_VARZ_FIELDS.map((f) => [f, gauge(`gnatsd_varz_${f}`, `${f} from /varz`, ['server_id'])]));
  const connz = {
    connections: gauge(NATS_METRIC.connzConnections, 'num_connections from /connz', ['server_id']),
    pendingBytes: gauge(NATS_METRIC.connzPendingBytes, 'pending_bytes summed over /connz connections', ['server_id']),
  };
  const js = {
    storage: gauge(NATS_METRIC.jsStorageBytes, 'Total number of bytes stored in JetStream', NATS_SERVER_LABELS),
    messages: gauge(NATS_METRIC.jsMessages, 'Total number of stored messages in JetStream', NATS_SERVER_LABELS),
    streams: gauge(NATS_METRIC.jsStreams, 'Total number of streams in JetStream', NATS_SERVER_LABELS),
    consumers: gauge(NATS_METRIC.jsConsumers, 'Total number of consumers in JetStream', NATS_SERVER_LABELS),
    maxStorage: gauge(NATS_METRIC.jsMaxStorage, 'JetStream Max Storage', NATS_SERVER_LABELS),
    streamMessages: gauge(NATS_METRIC.streamMessages, 'Total number of messages from a stream', NATS_STREAM_LABELS),
    streamBytes: gauge(NATS_METRIC.streamBytes, 'Total stored bytes from a stream', NATS_STREAM_LABELS),
    streamLastSeq: gauge(NATS_METRIC.streamLastSeq, 'Last sequence from a stream', NATS_STREAM_LABELS),
    pending: gauge(NATS_METRIC.consumerPending, 'Number of pending messages from a consumer', NATS_CONSUMER_LABELS),
    ackPending: gauge(NATS_METRIC.consumerAckPending, 'Number of pending acks from a consumer', NATS_CONSUMER_LABELS),
    redelivered: gauge(NATS_METRIC.consumerRedelivered, 'Number of redelivered messages from a consumer', NATS_CONSUMER_LABELS),
    deliveredStreamSeq: gauge(NATS_METRIC.consumerDeliveredStreamSeq, 'Latest sequence number of a stream', NATS_CONSUMER_LABELS),
  };

  const pollOne = async (base: string): Promise<void> => {
    const [v, c, j] = await Promise.all([
      getJson<Record<string, unknown>>(`${base}/varz`),
      getJson<Connz>(`${base}/connz`),
      getJson<Jsz>(`${base}/jsz?accounts=true&streams=true&consumers=true&config=true`),
    ]);
    if (!v) return;
    const serverId = String(v.server_id ?? base);
    const serverName = String(v.server_name ?? '');
    for (const [field, g] of varz) {
      const value = v[field];
      if (typeof value === 'number') g.set({ server_id: serverId }, value);
    }
    if (c) {
      connz.connections.set({ server_id: serverId }, c.num_connections);
      connz.pendingBytes.set({ server_id: serverId }, (c.connections ?? []).reduce((sum, x) => sum + (x.pending_bytes ?? 0), 0));
    }
    if (!j) return;
    const metaLeader = j.meta_cluster?.leader ?? '';
    const server = {
      server_id: serverId,
      server_name: serverName,
      cluster: j.meta_cluster?.name ?? '',
      domain: j.config?.domain ?? '',
      meta_leader: metaLeader,
      // The exporter's rule: without a meta cluster a server is its own leader.
      is_meta_leader: String(!j.meta_cluster || metaLeader === serverName),
    };
    js.storage.set(server, j.bytes ?? 0);
    js.messages.set(server, j.messages ?? 0);
    js.streams.set(server, j.streams ?? 0);
    js.consumers.set(server, j.consumers ?? 0);
    js.maxStorage.set(server, j.config?.max_storage ?? 0);
    for (const account of j.account_details ?? []) {
      for (const s of account.stream_detail ?? []) {
        const stream = {
          ...server,
          account: account.name,
          account_id: account.id,
          stream_name: s.name,
          stream_leader: s.cluster?.leader ?? '',
          is_stream_leader: String(!s.cluster || s.cluster.leader === serverName),
        };
        js.streamMessages.set(stream, s.state.messages);
        js.streamBytes.set(stream, s.state.bytes);
        js.streamLastSeq.set(stream, s.state.last_seq);
        for (const k of s.consumer_detail ?? []) {
          const consumer = {
            ...stream,
            consumer_name: k.name,
            consumer_leader: k.cluster?.leader ?? '',
            is_consumer_leader: String(!k.cluster || k.cluster.leader === serverName),
            consumer_desc: k.config?.description ?? '',
            consumer_created: k.created,
          };
          js.pending.set(consumer, k.num_pending);
          js.ackPending.set(consumer, k.num_ack_pending);
          js.redelivered.set(consumer, k.num_redelivered);
          js.deliveredStreamSeq.set(consumer, k.delivered.stream_seq);
        }
      }
    }
  };

  return {
    async scrape() {
      // Streams and consumers come and go (tests delete theirs): a series exists only while its object does.
      registry.resetMetrics();
      await Promise.all(monitorUrls.map(pollOne));
      return registry.metrics();
    },
  };
}

/** One monitoring endpoint's JSON, or undefined when it does not answer in time (also used by server-snapshots.ts). */
export async function getJson<T>(url: string, timeoutMs = POLL_TIMEOUT_MS): Promise<T | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    return (await res.json()) as T;
  } catch {
    return undefined; // down or paused: its series are absent for this scrape, as with the exporter
  }
}
