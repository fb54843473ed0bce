/**
 * What a topology means for the rest of a run (docs/topologies.md): which store settings it implies
 * (R3 streams on a replicated JetStream), and what results record about it (cluster nodes, meta leader,
 * PostgreSQL standbys from `pg_stat_replication`), read from the servers themselves, managed or external.
 */
import pg from 'pg';
import { TOPOLOGIES, type Topology, type TopologyEnvironment } from '../core/environment.ts';
import { ConfigError } from '../core/event-store.ts';
import { standbyStates } from './managed-postgres-standby.ts';

export { TOPOLOGIES, type Topology };

/** Stream replicas on the replicated topology: seed-documented production setting (docs/topologies.md). */
export const REPLICATED_STREAM_REPLICAS = 3;

/** `--topology` checked: one line naming the choices. */
export function parseTopology(value: string | undefined): Topology {
  const t = value ?? 'single';
  if (!(TOPOLOGIES as readonly string[]).includes(t)) throw new ConfigError(`--topology ${JSON.stringify(t)}: expected one of ${TOPOLOGIES.join(', ')}`);
  return t as Topology;
}

/**
 * Settings a backend's stores need on this topology: `replicas: 3` for a backend that keeps events in
 * JetStream and has a `replicas` setting (the adapter, the hybrid store); nothing otherwise (a raw
 * baseline writes into the streams its adapter created).
 */
export function topologyStoreSettings(topology: Topology | undefined, backend: { needs: { nats: boolean }; parseSettings(raw: Record<string, unknown> | undefined): unknown }): Record<string, unknown> {
  if (topology !== 'replicated' || !backend.needs.nats) return {};
  const settings = { replicas: REPLICATED_STREAM_REPLICAS };
  try {
    backend.parseSettings(settings);
    return settings;
  } catch {
    return {};
  }
}

interface Jsz {
  meta_cluster?: { name?: string; leader?: string; cluster_size?: number };
  account_details?: { stream_detail?: { name: string; cluster?: { leader?: string; replicas?: { name: string }[] } }[] }[];
}

/** At most this many streams are listed with their leader (a bench of many rounds creates many). */
const MAX_STREAMS_LISTED = 100;

/**
 * Reads the topology from the servers: NATS meta group (from a monitoring URL, when there is one) and the
 * PostgreSQL primary's standbys. Never throws: what cannot be read is null.
 */
export async function captureTopology(options: {
  topology: Topology;
  pgUrl?: string;
  natsUrl?: string;
  natsMonitorUrls?: string[];
  timeoutMs?: number;
}): Promise<TopologyEnvironment> {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const [nats, postgres] = await Promise.all([
    options.natsUrl ? captureNatsTopology(options.natsUrl, options.natsMonitorUrls ?? [], options.topology, timeoutMs) : null,
    options.pgUrl ? capturePostgresTopology(options.pgUrl, timeoutMs) : null,
  ]);
  return { name: options.topology, nats, postgres };
}

async function captureNatsTopology(url: string, monitorUrls: string[], topology: Topology, timeoutMs: number): Promise<TopologyEnvironment['nats']> {
  let jsz: Jsz | undefined;
  for (const m of monitorUrls) {
    try {
      const res = await fetch(`${m}/jsz?accounts=true&streams=true&config=false`, { signal: AbortSignal.timeout(timeoutMs) });
      if (res.ok) jsz = (await res.json()) as Jsz;
      else await res.body?.cancel();
    } catch {
      // next node
    }
    if (jsz) break;
  }
  return {
    urls: url.split(',').filter((s) => s.trim()).length,
    cluster: jsz?.meta_cluster?.name ?? null,
    nodes: jsz ? (jsz.meta_cluster?.cluster_size ?? 1) : null,
    metaLeader: jsz?.meta_cluster?.leader ?? null,
    streamReplicas: topology === 'replicated' ? REPLICATED_STREAM_REPLICAS : 1,
    // Where each stream lives when this was read (captured again at the end of a load or bench, once the
    // run's streams exist): its leader's server name and how many replicas it has.
    streams: (jsz?.account_details ?? [])
      .flatMap((a) => a.stream_detail ?? [])
      .slice(0, MAX_STREAMS_LISTED)
      .map((d) => ({ stream: d.name, leader: d.cluster?.leader ?? null, replicas: 1 + (d.cluster?.replicas?.length ?? 0) })),
  };
}

async function capturePostgresTopology(url: string, timeoutMs: number): Promise<TopologyEnvironment['postgres']> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => {});
  let names: string | null = null;
  try {
    await client.connect();
    names = (await client.query<{ v: string }>(`select current_setting('synchronous_standby_names') as v`)).rows[0]?.v || null;
  } catch {
    // reported as unknown below
  } finally {
    await client.end().catch(() => {});
  }
  const standbys = await standbyStates(url, timeoutMs).catch(() => []);
  return { synchronousStandbyNames: names, standbys };
}
