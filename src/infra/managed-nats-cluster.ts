/**
 * A throwaway 3-node JetStream cluster on loopback (the replicated topology, docs/topologies.md): three
 * managed nats-server processes (src/infra/managed-nats.ts), one store dir and server name each, routes on
 * 127.0.0.1. Streams created on it with `replicas: 3` get a leader and two followers.
 *
 * With `faultProxies` every client link and every route goes through a fault proxy
 * (src/infra/fault-proxy.ts), so that chaos can cut off any one node: one proxy in front of each node's
 * client port, and one per ordered pair of nodes (i dials j through its own proxy to j's route port). Each node advertises an address where nothing listens, so no node learns a route around
 * the proxies from another's gossip (nats-server dials advertised routes it does not know yet). Without
 * `faultProxies` (load, bench) clients and routes are direct: a proxy in the measuring process would
 * cost the replicated side CPU the single server does not pay.
 *
 * One owner: `stop()` stops the nodes and closes the proxies; each node is also owned by the process
 * registry (Ctrl-C, exit) and watched by its directory's watchdog.
 */
import { randomBytes } from 'node:crypto';
import { createFaultProxy, type FaultProxy } from './fault-proxy.ts';
import { freePort } from './managed-process.ts';
import { startManagedNats, type NatsServerHandle } from './managed-nats.ts';
import { waitFor } from './process-registry.ts';

export const CLUSTER_SIZE = 3;

export interface ManagedNatsClusterOptions {
  /** Put every client link and route behind a fault proxy (chaos). Default false. */
  faultProxies?: boolean;
  /** Where to look for nats-server (tests use this). */
  candidates?: string[];
  /** How long the cluster may take to elect a JetStream meta leader. Default 30 s. */
  formTimeoutMs?: number;
  /** Every node fsyncs before it acks, where the server has the option (src/infra/managed-nats.ts `syncAlways`). */
  syncAlways?: boolean;
}

/** Where one stream lives: its leader and every replica, as node indexes (0, 1, 2). */
export interface StreamPlacement {
  stream: string;
  leader: number | undefined;
  /** Every node holding a replica (leader included). */
  peers: number[];
  /** Followers that are not current (lagging or unreachable), as their leader sees them. */
  behind: number[];
  messages: number;
}

export interface NatsClusterHandle extends AsyncDisposable {
  readonly name: string;
  readonly nodes: readonly NatsServerHandle[];
  /** What clients use: every node, comma-separated (through the client proxies with `faultProxies`). */
  readonly url: string;
  readonly faultProxies: boolean;
  /** The node (index) `nodeOf` finds for a server name, or undefined. */
  nodeOf(serverName: string | undefined): number | undefined;
  /** Cuts node `i` off from the other nodes (its routes; clients still reach it). Resolves to the undo. */
  partition(i: number): Promise<() => Promise<void>>;
  /** Where each stream lives, as the JetStream meta and stream leaders report it. */
  streams(): Promise<StreamPlacement[]>;
  /** The node that leads JetStream's meta group (stream creation), or undefined during an election. */
  metaLeader(): Promise<number | undefined>;
  /**
   * Every node running, healthy and routed to every other node, and a meta leader known. A cluster can
   * have a meta leader (a majority) and healthy nodes while one pair of nodes has no route yet (a route
   * dialled before its far end listened is retried a second later): a JetStream API reply that must
   * cross the missing route is lost, and the client times out.
   */
  whole(): Promise<boolean>;
  /** Stops every node and proxy. Idempotent. */
  stop(): Promise<void>;
}

const NODE_NAME = (i: number) => `n${i}`;
/** An advertised route address where nothing listens: port 1 on loopback refuses at once. */
const NOWHERE = '127.0.0.1:1';

export async function startManagedNatsCluster(options: ManagedNatsClusterOptions = {}): Promise<NatsClusterHandle> {
  const name = `eventbench-${randomBytes(4).toString('hex')}`;
  const proxied = options.faultProxies ?? false;
  const nodes: NatsServerHandle[] = [];
  const proxies: FaultProxy[] = [];
  /** Route proxies by node: every proxy a node's routes pass through (to cut it off). */
  const routeProxies = new Map<number, FaultProxy[]>();
  let clientProxies: FaultProxy[] = [];
  const stopAll = async () => {
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await Promise.allSettled(proxies.map((p) => p.close()));
  };
  try {
    const routePorts = await distinctFreePorts(CLUSTER_SIZE);
    // routesOf[i]: the URLs node i dials: every other node (JetStream refuses a node without configured
    // routes). Both nodes of a pair dial, and the server keeps one connection of the two.
    const routesOf: string[][] = routePorts.map(() => []);
    for (let i = 0; i < CLUSTER_SIZE; i++) {
      for (let j = 0; j < CLUSTER_SIZE; j++) {
        if (i === j) continue;
        if (!proxied) {
          routesOf[i]!.push(`nats-route://127.0.0.1:${routePorts[j]}`);
          continue;
        }
        const proxy = await createFaultProxy({ upstream: { host: '127.0.0.1', port: routePorts[j]! } });
        proxies.push(proxy);
        for (const n of [i, j]) routeProxies.set(n, [...(routeProxies.get(n) ?? []), proxy]);
        routesOf[i]!.push(`nats-route://127.0.0.1:${proxy.port}`);
      }
    }
    // All at once: a node reports healthy only once a JetStream meta leader exists, which needs a majority.
    const started = await Promise.allSettled(
      routePorts.map((port, i) =>
        startManagedNats({
          ...(options.candidates ? { candidates: options.candidates } : {}),
          ...(options.syncAlways ? { syncAlways: true } : {}),
          cluster: { name, serverName: NODE_NAME(i), port, routes: routesOf[i]!, ...(proxied ? { advertise: NOWHERE } : {}) },
        }),
      ),
    );
    for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    if (proxied) {
      clientProxies = await Promise.all(nodes.map((n) => createFaultProxy({ upstream: { host: '127.0.0.1', port: n.port } })));
      proxies.push(...clientProxies);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }

  const handle: NatsClusterHandle = {
    name,
    nodes,
    url: (proxied ? clientProxies.map((p) => `nats://127.0.0.1:${p.port}`) : nodes.map((n) => n.url)).join(','),
    faultProxies: proxied,
    nodeOf(serverName) {
      const i = serverName === undefined ? -1 : nodes.findIndex((_, k) => NODE_NAME(k) === serverName);
      return i >= 0 ? i : undefined;
    },
    async partition(i) {
      const cut = routeProxies.get(i);
      if (!cut) throw new Error(`node ${i}: no route proxies (start the cluster with faultProxies to cut nodes off)`);
      // Reset what is open and refuse what is dialled: a blackhole would keep the route "up" until
      // nats-server's route pings time out (minutes), which is a slow node, not a partition.
      const names = await Promise.all(cut.map(async (p) => [await p.add({ type: 'refuse' }), await p.add({ type: 'reset_peer', timeout: 0 })]));
      return async () => {
        await Promise.all(cut.map(async (p, k) => Promise.all(names[k]!.map((n) => p.remove(n)))));
      };
    },
    streams: () => streamPlacements(handle),
    async metaLeader() {
      for (const n of nodes) {
        if (n.state !== 'running') continue;
        const jsz = await monitor<{ meta_cluster?: { leader?: string } }>(n, '/jsz');
        const leader = handle.nodeOf(jsz?.meta_cluster?.leader);
        if (leader !== undefined) return leader;
      }
      return undefined;
    },
    async whole() {
      if (nodes.some((n) => n.state !== 'running')) return false;
      const [meta, health, routed] = await Promise.all([handle.metaLeader(), Promise.all(nodes.map(healthy)), Promise.all(nodes.map(routedToAll))]);
      return meta !== undefined && health.every(Boolean) && routed.every(Boolean);
    },
    stop: stopAll,
    [Symbol.asyncDispose]: stopAll,
  };
  // A node answers its start probe before it knows the meta leader (up to ~2 s later here), and a client
  // connected to it then gets JetStream API timeouts; a route may still be missing after that (whole()):
  // the first R3 stream created then timed out in 2 of 15 starts, its reply lost on the missing route.
  const formed = await waitFor(() => handle.whole(), options.formTimeoutMs ?? 30_000, 100);
  if (!formed) {
    await stopAll();
    throw new Error(`nats cluster ${name}: not formed (a JetStream meta leader, every node healthy and routed to the others) within ${options.formTimeoutMs ?? 30_000} ms (logs: ${nodes.map((n) => n.logFile).join(', ')})`);
  }
  return handle;
}

/** `count` different free ports (the OS may hand out the same port twice in a row). */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < count && tries < count * 10; tries++) ports.add(await freePort());
  if (ports.size < count) throw new Error('no free ports for the cluster routes');
  return [...ports];
}

interface JszStream {
  name: string;
  state?: { messages?: number };
  cluster?: { leader?: string; replicas?: { name: string; current?: boolean; offline?: boolean }[] };
}
interface Jsz {
  account_details?: { stream_detail?: JszStream[] }[];
}

/**
 * Asks every running node's monitoring endpoint which streams it holds; the leader's view (it knows its
 * followers' state) wins. A node that is down or cut off answers for itself only, or not at all.
 */
async function streamPlacements(cluster: NatsClusterHandle): Promise<StreamPlacement[]> {
  const byName = new Map<string, StreamPlacement>();
  for (const [i, node] of cluster.nodes.entries()) {
    if (node.state !== 'running') continue;
    const jsz = await monitor<Jsz>(node, '/jsz?accounts=true&streams=true&config=false');
    for (const account of jsz?.account_details ?? []) {
      for (const s of account.stream_detail ?? []) {
        const leader = cluster.nodeOf(s.cluster?.leader);
        if (byName.has(s.name) && leader !== i) continue;
        const replicas = s.cluster?.replicas ?? [];
        const peers = [...new Set([i, ...(leader !== undefined ? [leader] : []), ...replicas.flatMap((r) => cluster.nodeOf(r.name) ?? [])])].sort();
        byName.set(s.name, {
          stream: s.name,
          leader,
          peers,
          behind: replicas.filter((r) => !r.current || r.offline).flatMap((r) => cluster.nodeOf(r.name) ?? []),
          messages: s.state?.messages ?? 0,
        });
      }
    }
  }
  return [...byName.values()];
}

async function healthy(node: NatsServerHandle): Promise<boolean> {
  try {
    const res = await fetch(`${node.monitorUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** The node has a route to each of the other nodes (counted by their server ids: a duplicate route being closed counts once). */
async function routedToAll(node: NatsServerHandle): Promise<boolean> {
  const routez = await monitor<{ routes?: { remote_id?: string }[] }>(node, '/routez');
  return new Set((routez?.routes ?? []).map((r) => r.remote_id)).size >= CLUSTER_SIZE - 1;
}

async function monitor<T>(node: NatsServerHandle, path: string): Promise<T | undefined> {
  try {
    const res = await fetch(`${node.monitorUrl}${path}`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    return (await res.json()) as T;
  } catch {
    return undefined;
  }
}
