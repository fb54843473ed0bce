/**
 * The fault timeline of a chaos run: a list of `{ at, fault, duration }` (ms from the start of the run),
 * data validated by zod so scenarios can be files. `runFaultTimeline` starts each fault at its time and
 * undoes it at its end; whatever is still on when the timeline ends, fails or is aborted (AbortSignal,
 * Ctrl-C) is undone in a `finally`, latest first. Every start and stop is reported through `onEvent`
 * (the history records them as `:nemesis` operations, as Jepsen does).
 *
 * Faults:
 * - `network`: a toxic (src/infra/fault-proxy/toxics.ts) on the fault proxy in front of `target`; works
 *   for managed and external servers alike, since the proxy touches only eventbench's own connections.
 * - `kill`: SIGKILL of the managed server (all its processes), restarted on the same data at the end.
 * - `pause`: SIGSTOP of the managed server, SIGCONT at the end.
 * - `pg_terminate_backend`: instantaneous; ends the harness's own PostgreSQL sessions, never others'.
 * - `consumer_crash`: SIGKILL of a consumer process in mid-batch, started again at the end.
 * On the replicated topology (docs/topologies.md), managed servers only:
 * - `node_kill`: SIGKILL of one JetStream cluster node, the run's stream `leader` or a `follower` (chosen
 *   when the fault starts), restarted on the same data at the end.
 * - `node_partition`: that node cut off from the other nodes (its routes reset and refused; clients still
 *   reach it), healed at the end.
 * - `standby_kill`: SIGKILL of PostgreSQL's synchronous standby (commits then wait), restarted at the end.
 * - `primary_failover`: SIGKILL of the PostgreSQL primary; at the end the standby is promoted
 *   (`pg_promote()`) and the fault proxy sends new connections to it. The old primary stays down (it
 *   would be a second primary on a diverged timeline).
 * Process faults need a server eventbench started (a `ServerHandle`): refused for external URLs.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { ConfigError } from '../../core/event-store.ts';
import type { FaultProxy } from '../../infra/fault-proxy.ts';
import { terminateBackends } from '../../infra/fault-proxy/terminate-backends.ts';
import { ToxicSchema } from '../../infra/fault-proxy/toxics.ts';
import type { ServerHandle } from '../../infra/server-handle.ts';
import type { NatsClusterHandle } from '../../infra/managed-nats-cluster.ts';
import { standbyStates, type PostgresStandbyPair } from '../../infra/managed-postgres-standby.ts';
import { waitFor } from '../../infra/process-registry.ts';
import type { ConsumerProcess } from './consumer-crash.ts';

export { terminateBackends, type SessionSelector } from '../../infra/fault-proxy/terminate-backends.ts';

const target = z.enum(['postgres', 'nats']);
export type FaultTarget = z.infer<typeof target>;

export const FaultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('network'), target, toxic: ToxicSchema }),
  z.strictObject({ kind: z.literal('kill'), target }),
  z.strictObject({ kind: z.literal('pause'), target }),
  z.strictObject({
    kind: z.literal('pg_terminate_backend'),
    /**
     * Which sessions are the harness's: `application_name` (the one the run's PostgreSQL URL sets, see
     * `FaultTargets.postgres.applicationName`) or `proxy` (the sessions whose client port is one of the
     * postgres fault proxy's server-side ports).
     */
    sessions: z.enum(['application_name', 'proxy']).default('application_name'),
  }),
  z.strictObject({ kind: z.literal('consumer_crash'), consumer: z.string().min(1), midBatch: z.boolean().default(true) }),
  z.strictObject({ kind: z.literal('node_kill'), node: z.enum(['leader', 'follower']) }),
  z.strictObject({ kind: z.literal('node_partition'), node: z.enum(['leader', 'follower']) }),
  z.strictObject({ kind: z.literal('standby_kill') }),
  z.strictObject({ kind: z.literal('primary_failover') }),
]);
export type Fault = z.output<typeof FaultSchema>;

const ms = z.number().int().min(0).max(7 * 24 * 3_600_000);
export const TimelineEntrySchema = z.strictObject({ at: ms, duration: ms.default(0), fault: FaultSchema });
export const FaultTimelineSchema = z.array(TimelineEntrySchema).max(10_000);
export type TimelineEntry = z.output<typeof TimelineEntrySchema>;
export type FaultTimeline = TimelineEntry[];

/** Faults that happen at one instant and have nothing to undo. */
const INSTANT: ReadonlySet<Fault['kind']> = new Set(['pg_terminate_backend']);

/** Parses a timeline from data (a scenario file); one line naming the entry and field on error. */
export function parseFaultTimeline(raw: unknown): FaultTimeline {
  const r = FaultTimelineSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ConfigError(`fault timeline ${formatPath(issue.path)}: ${issue.message}`);
  }
  r.data.forEach((e, i) => {
    if (INSTANT.has(e.fault.kind) && e.duration !== 0) throw new ConfigError(`fault timeline [${i}]: ${e.fault.kind} is instantaneous: its duration must be 0 (or left out)`);
  });
  return r.data;
}

function formatPath(path: PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(timeline)';
}

/** What a run has for each target, known before any server starts (so a bad scenario is refused first). */
export interface FaultCapabilities {
  postgres?: { managed: boolean; proxy: boolean; applicationName?: boolean; standby?: boolean };
  nats?: { managed: boolean; proxy: boolean; cluster?: boolean };
  consumers?: string[];
}

/**
 * Checks that every fault can act on what the run has, and that no two process faults overlap on one
 * target (a kill during a pause has no sensible undo order). Throws `ConfigError` with one line.
 */
export function checkFaultTimeline(timeline: FaultTimeline, has: FaultCapabilities): void {
  timeline.forEach((entry, i) => {
    const f = entry.fault;
    const where = `fault timeline [${i}] (${f.kind}${'target' in f ? ` ${f.target}` : ''})`;
    if (f.kind === 'network') {
      if (f.target === 'nats' && has.nats?.cluster) throw new ConfigError(`${where}: a cluster has a fault proxy per node, not one in front of "the server": use node_partition (node: leader or follower) on the replicated topology`);
      if (!has[f.target]?.proxy) throw new ConfigError(`${where}: no fault proxy in front of ${f.target} in this run`);
    } else if (f.kind === 'kill' || f.kind === 'pause' || f.kind === 'pg_terminate_backend') {
      const t = f.kind === 'pg_terminate_backend' ? 'postgres' : f.target;
      const server = has[t];
      if (!server) throw new ConfigError(`${where}: this run uses no ${t} server`);
      if (t === 'nats' && has.nats?.cluster) throw new ConfigError(`${where}: a cluster has three nodes: use node_kill (node: leader or follower) on the replicated topology`);
      if (!server.managed) {
        throw new ConfigError(`${where}: process faults act only on servers eventbench started; ${t} is external (--${t === 'postgres' ? 'pg' : 'nats'}-url): use network faults, or --infra managed`);
      }
      if (f.kind === 'pg_terminate_backend') {
        if (f.sessions === 'proxy' && !has.postgres?.proxy) throw new ConfigError(`${where}: sessions "proxy" needs a fault proxy in front of postgres`);
        if (f.sessions === 'application_name' && !has.postgres?.applicationName) throw new ConfigError(`${where}: the run's PostgreSQL sessions have no application_name of their own to select them by`);
      }
    } else if (f.kind === 'consumer_crash') {
      if (!has.consumers?.includes(f.consumer)) throw new ConfigError(`${where}: no consumer process named ${JSON.stringify(f.consumer)} (known: ${has.consumers?.join(', ') || 'none'})`);
    } else if (f.kind === 'node_kill' || f.kind === 'node_partition') {
      if (!has.nats?.cluster) throw new ConfigError(`${where}: needs a managed JetStream cluster: --topology replicated, without --nats-url`);
    } else if (f.kind === 'standby_kill' || f.kind === 'primary_failover') {
      if (!has.postgres?.standby) throw new ConfigError(`${where}: needs a managed PostgreSQL standby: --topology replicated, without --pg-url`);
      if (f.kind === 'primary_failover' && !has.postgres.proxy) throw new ConfigError(`${where}: needs the fault proxy in front of postgres, which sends clients to the promoted standby`);
    }
  });
  const processKey = (f: Fault) =>
    f.kind === 'kill' || f.kind === 'pause'
      ? `server ${f.target}`
      : f.kind === 'consumer_crash'
        ? `consumer ${f.consumer}`
        : f.kind === 'node_kill' || f.kind === 'node_partition'
          ? 'cluster nodes'
          : f.kind === 'standby_kill' || f.kind === 'primary_failover'
            ? 'standby'
            : undefined;
  for (let i = 0; i < timeline.length; i++) {
    for (let j = i + 1; j < timeline.length; j++) {
      const a = timeline[i]!;
      const b = timeline[j]!;
      const key = processKey(a.fault);
      if (!key || key !== processKey(b.fault)) continue;
      if (a.at < b.at + Math.max(b.duration, 1) && b.at < a.at + Math.max(a.duration, 1)) {
        throw new ConfigError(`fault timeline [${i}] and [${j}] overlap on the ${key}: one process fault at a time`);
      }
    }
  }
}

/** What the faults act on. */
export interface FaultTargets {
  postgres?: {
    proxy?: FaultProxy;
    /** Present only for a server eventbench started. */
    server?: ServerHandle;
    /** A URL straight to the server (not through the proxy) for `pg_terminate_backend`. */
    adminUrl?: string;
    /** The application_name the harness's PostgreSQL connections carry (set in their URL). */
    applicationName?: string;
    /** The replicated topology's primary + synchronous standby. */
    standby?: PostgresStandbyPair;
  };
  nats?: {
    proxy?: FaultProxy;
    server?: ServerHandle;
    /** The replicated topology's cluster, and which of its streams are the run's (their leader is "the leader"). */
    cluster?: NatsClusterHandle;
    runStream?: (stream: string) => boolean;
  };
  consumers?: Record<string, ConsumerProcess>;
}

/** A `:nemesis` operation for the history: a fault started or stopped. */
export interface NemesisEvent {
  phase: 'start' | 'stop';
  /** Index of the entry in the timeline. */
  index: number;
  fault: Fault;
  /** ms since the timeline started (the harness's clock). */
  at: number;
  /** What it did: PIDs killed and started, sessions terminated, the toxic's name, ... */
  detail?: Record<string, unknown>;
  /** Set when the action failed (the timeline then stops and undoes everything). */
  error?: string;
  /** Set on a stop that came early: the timeline was aborted or failed. */
  early?: true;
}

export interface RunFaultTimelineOptions {
  signal?: AbortSignal;
  onEvent?: (event: NemesisEvent) => void;
  /** The harness's clock, ms (default performance.now). */
  now?: () => number;
}

export interface FaultTimelineResult {
  events: NemesisEvent[];
  /** True when the timeline ran to its end (not aborted). */
  completed: boolean;
}

type Undo = () => Promise<Record<string, unknown> | undefined>;

/**
 * Runs the timeline: each fault from `at` for `duration` ms. Resolves once every fault was undone; on
 * abort resolves with `completed: false` after undoing what was on. If a fault or an undo fails, the rest
 * is still undone and the first error is thrown afterwards.
 */
export async function runFaultTimeline(timeline: FaultTimeline, targets: FaultTargets, options: RunFaultTimelineOptions = {}): Promise<FaultTimelineResult> {
  checkFaultTimeline(timeline, {
    postgres: targets.postgres && { managed: !!targets.postgres.server, proxy: !!targets.postgres.proxy, applicationName: !!targets.postgres.applicationName, standby: !!targets.postgres.standby },
    nats: targets.nats && { managed: !!targets.nats.server || !!targets.nats.cluster, proxy: !!targets.nats.proxy, cluster: !!targets.nats.cluster },
    consumers: Object.keys(targets.consumers ?? {}),
  });
  const now = options.now ?? (() => performance.now());
  const signal = options.signal;
  const started = now();
  const events: NemesisEvent[] = [];
  const report = (e: Omit<NemesisEvent, 'at'>) => {
    const event = { ...e, at: Math.round(now() - started) } as NemesisEvent;
    events.push(event);
    options.onEvent?.(event);
  };

  // Starts and stops in time order; at one instant, stops first.
  const steps = timeline
    .flatMap((entry, index) => {
      const start = { t: entry.at, phase: 'start' as const, index };
      return INSTANT.has(entry.fault.kind) ? [start] : [start, { t: entry.at + entry.duration, phase: 'stop' as const, index }];
    })
    .sort((a, b) => a.t - b.t || (a.phase === b.phase ? a.index - b.index : a.phase === 'stop' ? -1 : 1));

  const active = new Map<number, Undo>();
  let failure: unknown;
  let completed = false;
  try {
    for (const step of steps) {
      const wait = step.t - (now() - started);
      if (wait > 0) await delay(wait, undefined, { signal }).catch(() => {});
      if (signal?.aborted) break;
      const fault = timeline[step.index]!.fault;
      if (step.phase === 'start') {
        try {
          // The undo is registered before a process fault acts: a kill that fails half-way is still restarted.
          const detail = await startFault(fault, targets, (undo) => active.set(step.index, undo));
          report({ phase: 'start', index: step.index, fault, ...(detail && { detail }) });
          // An instantaneous fault is over once it has acted: its stop is reported at once, so time to
          // recover is measured from it (and a verdict does not read "never ended").
          if (INSTANT.has(fault.kind)) report({ phase: 'stop', index: step.index, fault });
        } catch (err) {
          report({ phase: 'start', index: step.index, fault, error: message(err) });
          throw err;
        }
      } else {
        const undo = active.get(step.index);
        active.delete(step.index);
        if (undo) await stop(step.index, fault, undo, false);
      }
    }
    completed = !signal?.aborted;
  } catch (err) {
    failure = err;
  } finally {
    // Latest first: a fault started on top of another is undone before it.
    for (const [index, undo] of [...active].reverse()) {
      active.delete(index);
      try {
        await stop(index, timeline[index]!.fault, undo, true);
      } catch (err) {
        failure ??= err;
      }
    }
  }
  if (failure) throw failure;
  return { events, completed };

  async function stop(index: number, fault: Fault, undo: Undo, early: boolean): Promise<void> {
    try {
      const detail = await undo();
      report({ phase: 'stop', index, fault, ...(detail && { detail }), ...(early && { early: true as const }) });
    } catch (err) {
      report({ phase: 'stop', index, fault, error: message(err), ...(early && { early: true as const }) });
      throw err;
    }
  }
}

async function startFault(fault: Fault, targets: FaultTargets, onUndo: (undo: Undo) => void): Promise<Record<string, unknown> | undefined> {
  switch (fault.kind) {
    case 'network': {
      const proxy = targets[fault.target]!.proxy!;
      const name = await proxy.add(fault.toxic);
      onUndo(async () => ((await proxy.remove(name)) ? { toxic: name } : undefined));
      return { toxic: name };
    }
    case 'kill': {
      const server = targets[fault.target]!.server!;
      const pid = server.pid;
      onUndo(async () => {
        await server.restart();
        return { pid: server.pid };
      });
      await server.kill();
      return { pid };
    }
    case 'pause': {
      const server = targets[fault.target]!.server!;
      onUndo(async () => {
        await server.resume();
        return { pid: server.pid };
      });
      await server.pause();
      return { pid: server.pid };
    }
    case 'pg_terminate_backend': {
      const pgTarget = targets.postgres!;
      const adminUrl = pgTarget.adminUrl ?? pgTarget.server?.url;
      if (!adminUrl) throw new ConfigError('pg_terminate_backend: no URL to reach the PostgreSQL server directly');
      const selector =
        fault.sessions === 'proxy'
          ? { clientPorts: pgTarget.proxy!.connections().flatMap((c) => (c.serverSidePort ? [c.serverSidePort] : [])) }
          : { applicationName: pgTarget.applicationName! };
      return { terminated: await terminateBackends(adminUrl, selector) };
    }
    case 'consumer_crash': {
      const consumer = targets.consumers![fault.consumer]!;
      if (consumer.state !== 'running') throw new Error(`${consumer.label} is not running, nothing to crash`);
      onUndo(async () => {
        await consumer.restart();
        return { pid: consumer.pid };
      });
      const crash = await consumer.crash({ midBatch: fault.midBatch });
      return { pid: crash.pid, inFlight: crash.inFlight };
    }
    case 'node_kill': {
      const { cluster, node, stream } = await pickNode(targets, fault.node);
      const server = cluster.nodes[node]!;
      const pid = server.pid;
      onUndo(async () => {
        await server.restart();
        return { node: `n${node}`, pid: server.pid, leader: await leaderName(cluster, stream) };
      });
      await server.kill();
      return { node: `n${node}`, role: fault.node, stream, pid };
    }
    case 'node_partition': {
      const { cluster, node, stream } = await pickNode(targets, fault.node);
      const heal = await cluster.partition(node);
      onUndo(async () => {
        await heal();
        return { node: `n${node}`, leader: await leaderName(cluster, stream) };
      });
      return { node: `n${node}`, role: fault.node, stream };
    }
    case 'primary_failover': {
      const pgTarget = targets.postgres!;
      const pair = pgTarget.standby!;
      if (pair.promoted) throw new Error('the standby was promoted already: one failover per run');
      const pid = pair.primary.pid;
      onUndo(async () => {
        const t0 = performance.now();
        await pair.promote();
        pgTarget.proxy!.retarget({ host: '127.0.0.1', port: pair.standby.port });
        return { promoted: pair.standby.pid, promoteMs: Math.round(performance.now() - t0) };
      });
      await pair.primary.kill();
      return { pid };
    }
        case 'standby_kill': {
      const pair = targets.postgres!.standby!;
      const standby = pair.standby;
      const pid = standby.pid;
      onUndo(async () => {
        const t0 = performance.now();
        await standby.restart();
        // Commits wait until the primary counts the standby as synchronous again: how long that took.
        const synced = await waitFor(async () => (await standbyStates(pair.primary.url).catch(() => [])).some((x) => x.syncState === 'sync' && x.state === 'streaming'), 30_000, 50);
        return { pid: standby.pid, syncAgainMs: synced ? Math.round(performance.now() - t0) : null };
      });
      await standby.kill();
      return { pid };
    }
  }
}

/**
 * The node a cluster fault acts on: the leader of the run's stream, or one of its followers, as the
 * cluster reports them when the fault starts. Waits (bounded) for the stream to exist and have a leader.
 */
async function pickNode(targets: FaultTargets, role: 'leader' | 'follower'): Promise<{ cluster: NatsClusterHandle; node: number; stream: string }> {
  const cluster = targets.nats!.cluster!;
  const mine = targets.nats!.runStream ?? (() => true);
  const until = Date.now() + 10_000;
  for (;;) {
    const placement = (await cluster.streams()).find((s) => mine(s.stream) && s.leader !== undefined);
    if (placement) {
      const node = role === 'leader' ? placement.leader! : placement.peers.find((p) => p !== placement.leader);
      if (node !== undefined) return { cluster, node, stream: placement.stream };
    }
    if (Date.now() > until) throw new Error(`no ${role} found: the run's stream has no leader in the cluster (is it replicated?)`);
    await delay(100);
  }
}

/**
 * The stream's leader once one is known (an election may be running, and a restarted node catching up
 * answers late: on a loaded 2-core machine 5 s was not always enough; waits up to 15 s), for the history.
 */
async function leaderName(cluster: NatsClusterHandle, stream: string): Promise<string | null> {
  const until = Date.now() + 15_000;
  for (;;) {
    const leader = (await cluster.streams()).find((s) => s.stream === stream)?.leader;
    if (leader !== undefined) return `n${leader}`;
    if (Date.now() > until) return null;
    await delay(100);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
