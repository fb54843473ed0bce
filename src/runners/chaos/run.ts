/**
 * One chaos run on one backend: a fault proxy in front of the server, writers (and a consumer in its own
 * process) through it, the scenario's fault timeline, then heal, drain, read back, check and judge.
 * Writes `history.jsonl` (the writers' and the nemesis' ops), `consumer/consumer-<pid>.jsonl` (each
 * consumer process's ops), `verdict.json` and `summary.md` into `dir`.
 *
 * Every resource has an owner here (a `finally`, latest first): the proxy, both stores, the consumer
 * process; the timeline undoes its own faults. On `signal` (Ctrl-C) the load and the faults stop, the
 * drain is skipped, and what was recorded is still read back and checked: a partial verdict.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { EventStore } from '../../core/event-store.ts';
import type { Environment } from '../../core/environment.ts';
import { createFaultProxy, proxiedUrl, type FaultProxy } from '../../infra/fault-proxy.ts';
import type { Servers } from '../../infra/servers.ts';
import { redactUrl } from '../../infra/servers.ts';
import { formatSnapshotDelta, startServerSnapshots } from '../../infra/server-snapshots.ts';
import { standbyStates } from '../../infra/managed-postgres-standby.ts';
import { REPLICATED_STREAM_REPLICAS } from '../../infra/topology.ts';
import { waitFor } from '../../infra/process-registry.ts';
import { createStore } from '../../store/index.ts';
import { createChecker } from './checker.ts';
import { TIMEOUT, classifyAppendError, runWriters } from './clients.ts';
import { chaosConsumerCommand, startConsumerProcess, type ConsumerProcess } from './consumer-crash.ts';
import { runFaultTimeline, type FaultTargets } from './faults.ts';
import { createHistoryWriter, epochClock, replayHistory, type HistoryOp, type HistorySink, type HistoryWriter } from './history.ts';
import { judge } from './judge.ts';
import { readBack } from './read-back.ts';
import { timelineFor, type ChaosBackend, type ChaosScenario } from './scenario.ts';
import { LIMITATIONS, formatBackendSummary } from './summary.ts';
import { VerdictSchema } from './verdict.ts';
import type { ChaosRunResult } from './run-result.ts';
import type { ChaosRunMetrics } from './metrics.ts';
import { writeChaosReport } from '../../report/html/chaos.ts';

export type { ChaosRunResult } from './run-result.ts';

export const CHAOS_CATEGORY = 'chaos';

export interface ChaosRunOptions {
  backend: ChaosBackend;
  scenario: ChaosScenario;
  /** Load phase length (ms); the fault timeline is scaled by the same factor. Default: the scenario's. */
  durationMs?: number;
  servers: Servers;
  /** This backend's output directory (created if missing). */
  dir: string;
  environment?: Environment;
  signal?: AbortSignal;
  /** Progress lines for a person (stderr). */
  log?: (line: string) => void;
  /** This backend's Prometheus series (`--metrics-port`): fed by the history, the timeline and the verdict. */
  metrics?: ChaosRunMetrics;
}


/** Where a store URL points (NATS URLs may come without a scheme). */
function endpoint(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `nats://${url}`);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : defaultPort };
}

/** Resolves within `ms` whatever `p` does: cleanup must not hang the run. */
async function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => {}), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

export async function runChaos(options: ChaosRunOptions): Promise<ChaosRunResult> {
  const { backend, scenario, servers, dir } = options;
  const log = options.log ?? (() => {});
  const signal = options.signal ?? new AbortController().signal;
  const loadMs = options.durationMs ?? scenario.load.durationMs;
  const scale = loadMs / scenario.load.durationMs;
  const timeline = timelineFor(scenario, backend, scale);
  const runId = `r${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const namespace = `chaos_${runId}`;
  const subscription = `chaos_${runId}`;
  const applicationName = `eventbench-chaos-${runId}`;
  const directUrl = backend === 'postgres' ? servers.pgUrl : servers.natsUrl;
  if (!directUrl) throw new Error(`chaos ${backend}: no server URL`);
  mkdirSync(dir, { recursive: true });
  const consumerDir = join(dir, 'consumer');

  const cleanups: (() => Promise<unknown>)[] = [];
  const originEpochMs = performance.timeOrigin + performance.now();
  const checker = createChecker();
  const recovery = recoveryTracker();
  const metrics = options.metrics;
  const history = createHistoryWriter({ path: join(dir, 'history.jsonl'), clock: epochClock(originEpochMs), sinks: [checker, recovery, ...(metrics ? [metrics] : [])] });
  cleanups.push(async () => history.close());
  // Replicated JetStream: the cluster has a fault proxy in front of every node's client port and route
  // already (its URL lists them); the faults act on nodes, not on one client link.
  const cluster = backend === 'jetstream' ? servers.natsCluster : undefined;
  const standby = backend === 'postgres' ? servers.postgresStandby : undefined;
  try {
    const proxy: FaultProxy | undefined = cluster ? undefined : await createFaultProxy({ upstream: endpoint(directUrl, backend === 'postgres' ? 5432 : 4222) });
    if (proxy) cleanups.push(() => proxy.close());
    let storeUrl = proxy ? proxiedUrl(/^[a-z][a-z0-9+.-]*:\/\//i.test(directUrl) ? directUrl : `nats://${directUrl}`, proxy) : directUrl;
    if (backend === 'postgres') {
      // Lets `pg_terminate_backend` pick the harness's sessions and nobody else's.
      const u = new URL(storeUrl);
      u.searchParams.set('application_name', applicationName);
      storeUrl = u.toString();
    }
    log(cluster ? `${backend}: cluster ${cluster.name}, clients and routes through fault proxies (${storeUrl}); namespace ${namespace}` : `${backend}: fault proxy ${proxy!.url} -> ${redactUrl(directUrl)}; namespace ${namespace}`);
    const settings = backend === 'postgres' ? { connectTimeoutMs: 2_000, pollIntervalMs: 200 } : cluster ? { replicas: REPLICATED_STREAM_REPLICAS } : {};
    const open = (url: string): Promise<EventStore> =>
      createStore(backend, { ...(backend === 'postgres' ? { pgUrl: url } : { natsUrl: url }), namespace, settings });
    const store = await open(storeUrl);
    cleanups.push(() => bounded(store.close(), 10_000));
    // The server's own counters at the start and the end of the run, straight from it (not through the proxy).
    const snapshots = await startServerSnapshots({
      ...(backend === 'postgres' ? { pgUrl: directUrl } : { natsUrl: directUrl }),
      natsMonitorUrls: cluster ? cluster.nodes.map((n) => n.monitorUrl) : servers.nats ? [servers.nats.monitorUrl] : options.environment?.nats?.monitorUrl ? [options.environment.nats.monitorUrl] : [],
      namespace,
    });

    let consumer: ConsumerProcess | undefined;
    if (scenario.load.consumer) {
      mkdirSync(consumerDir, { recursive: true });
      consumer = await startConsumerProcess({
        ...chaosConsumerCommand({
          backend,
          url: storeUrl,
          namespace,
          category: CHAOS_CATEGORY,
          subscription,
          historyDir: consumerDir,
          originEpochMs,
          handleMs: scenario.load.handleMs,
          ackWaitMs: scenario.load.ackWaitMs,
          ...(cluster ? { settings: { replicas: REPLICATED_STREAM_REPLICAS } } : {}),
        }),
        label: `chaos consumer (${backend})`,
      });
      cleanups.push(() => consumer!.stop());
    }

    const targets: FaultTargets =
      backend === 'postgres'
        ? { postgres: { proxy, adminUrl: directUrl, applicationName, ...(servers.postgres ? { server: servers.postgres } : {}), ...(standby ? { standby } : {}) } }
        : {
            nats: {
              proxy,
              ...(servers.nats ? { server: servers.nats } : {}),
              // The run's category stream is `<namespace>-<category>` (src/store/jetstream/README.md).
              ...(cluster ? { cluster, runStream: (stream: string) => stream === `${namespace}-${CHAOS_CATEGORY}` } : {}),
            },
          };
    if (consumer) targets.consumers = { c0: consumer };

    log(`${backend}: ${scenario.load.writers} writers for ${(loadMs / 1000).toFixed(1)} s, ${timeline.length} fault(s)`);
    const [writersOutcome, timelineOutcome] = await Promise.allSettled([
      runWriters({
        store,
        history,
        writers: scenario.load.writers,
        category: CHAOS_CATEGORY,
        runId,
        streams: scenario.load.streams === 'own' ? { mode: 'own', perWriter: scenario.load.streamCount } : { mode: 'shared', count: scenario.load.streamCount },
        eventsPerAppend: scenario.load.eventsPerAppend,
        durationMs: loadMs,
        opTimeoutMs: scenario.load.opTimeoutMs,
        settleTimeoutMs: 5_000,
        signal,
      }),
      runFaultTimeline(timeline, targets, {
        signal,
        onEvent: (e) => {
          history.record({ type: 'info', process: 'nemesis', f: e.phase, fault: `${e.fault.kind}#${e.index}`, value: { ...e.detail, ...(e.error ? { error: e.error } : {}), ...(e.early ? { early: true } : {}) } });
          log(`${backend}: fault ${e.fault.kind}#${e.index} ${e.phase}${e.error ? ` FAILED: ${e.error}` : ''}`);
          metrics?.fault(e);
        },
      }),
    ]);
    // The timeline heals what it started; this also clears anything left on the proxy.
    await proxy?.heal();
    if (recovery.awaiting && !signal.aborted) {
      // A fault ended too close to the end of the load for any writer to see the store back: probe until
      // one append is acknowledged, so the time to recover is measured rather than reported as "never".
      log(`${backend}: probing until an append is acknowledged (at most ${RECOVERY_PROBE_MS / 1000} s)`);
      await probeRecovery(store, history, runId, scenario.load.opTimeoutMs, signal, () => !recovery.awaiting);
    }
    if (writersOutcome.status === 'rejected') throw writersOutcome.reason;
    const writers = writersOutcome.value;
    const faultError = timelineOutcome.status === 'rejected' ? String((timelineOutcome.reason as Error)?.message ?? timelineOutcome.reason) : undefined;

    // A restarted node may still be dialling its routes or catching up, or the meta leader still being
    // elected: a client's JetStream API request then times out (its reply lost on a missing route). The
    // faults are over, so wait (bounded) for the cluster to be whole before reading back, as Jepsen
    // heals and waits before its final reads.
    if (cluster && !signal.aborted && !(await waitFor(() => cluster.whole(), CLUSTER_SETTLE_MS, 200))) {
      log(`${backend}: the cluster is not whole after ${CLUSTER_SETTLE_MS / 1000} s (a node down or unrouted, or no meta leader); reading back anyway`);
    }
    // Read-back and drain go straight to the server (every node of a cluster): the proxy's part is over.
    // After a failover the promoted standby is the primary: read back from it.
    const readUrl = cluster ? cluster.nodes.map((n) => n.url).join(',') : standby?.promoted ? standby.standby.url : directUrl;
    const direct = await open(/^[a-z][a-z0-9+.-]*:\/\//i.test(readUrl) ? readUrl : `nats://${readUrl}`);
    cleanups.push(() => bounded(direct.close(), 10_000));
    let drained: boolean | null = null;
    if (consumer && !signal.aborted) {
      log(`${backend}: draining (at most ${(scenario.drainMs / 1000).toFixed(0)} s)`);
      drained = await drain(direct, consumer, scenario.drainMs, signal);
    }
    if (consumer) {
      await consumer.stop();
      await replayHistory(
        readdirSync(consumerDir).filter((f) => f.endsWith('.jsonl')).sort().map((f) => join(consumerDir, f)),
        [checker],
      );
    }
    history.close();
    log(`${backend}: reading back and checking`);
    const verdict = VerdictSchema.parse(await checker.check(readBack(direct, { categories: checker.categories() })));
    metrics?.checked(verdict);
    const broken = judge(verdict, scenario.expectations[backend] ?? {});
    if (consumer) await direct.deleteSubscription(subscription).catch(() => {});
    // Where the run's stream ended up (leader, peers, followers behind) and how the standby keeps up.
    const topology = {
      name: servers.topology,
      ...(cluster ? { streams: (await cluster.streams()).filter((s) => s.stream.startsWith(`${namespace}-`)) } : {}),
      ...(standby ? { promoted: standby.promoted, standbys: standby.promoted ? [] : await standbyStates(standby.primary.url).catch(() => []) } : {}),
    };
    // The end snapshot once the run's sessions are closed: a PostgreSQL session reports its statistics
    // when it ends (idle, it may hold them for seconds). Closing is idempotent; the cleanups close again.
    await bounded(store.close(), 10_000);
    await bounded(direct.close(), 10_000);
    const serverSnapshots = await snapshots.finish();
    const result: ChaosRunResult = {
      backend,
      scenario: scenario.name,
      runId,
      namespace,
      interrupted: signal.aborted,
      loadMs,
      drained,
      writers,
      verdict,
      broken,
      ...(faultError ? { faultError } : {}),
      serverSnapshots,
    };
    writeFileSync(
      join(dir, 'verdict.json'),
      `${JSON.stringify(
        {
          ...result,
          scenario: { ...scenario, timeline },
          expectations: scenario.expectations[backend] ?? {},
          limitations: LIMITATIONS,
          topology,
          environment: options.environment,
        },
        null,
        2,
      )}\n`,
    );
    const counters = serverSnapshots.map((e) => `- server counters, end - start: ${formatSnapshotDelta(e)}\n`).join('');
    writeFileSync(join(dir, 'summary.md'), `${formatBackendSummary(result, 'markdown')}\n${counters ? `${counters}\n` : ''}${LIMITATIONS}\n`);
    // The page a person opens (docs/reports.md), from the verdict.json just written.
    writeChaosReport(dir);
    return result;
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  }
}

/** The longest a run probes for the store to come back after its last fault. */
const RECOVERY_PROBE_MS = 30_000;
/** The longest a replicated run waits for its cluster to be whole again before reading back. */
const CLUSTER_SETTLE_MS = 30_000;

/** Knows whether a fault ended with no acknowledged append since (the checker's rule for time to recover). */
function recoveryTracker(): HistorySink & { awaiting: boolean } {
  const tracker = {
    awaiting: false,
    add(op: HistoryOp) {
      if (op.f === 'stop' && op.type === 'info') tracker.awaiting = true;
      else if (op.f === 'append' && op.type === 'ok') tracker.awaiting = false;
    },
  };
  return tracker;
}

/**
 * Appends one event at a time to a stream of its own until one is acknowledged or the probe time is up.
 * Each attempt is its own process in the history (numbers above any writer's), so the checker's per-
 * writer order (lost prefix / middle / postfix) never mixes probe events with a writer's.
 */
async function probeRecovery(store: EventStore, history: HistoryWriter, runId: string, opTimeoutMs: number, signal: AbortSignal, done: () => boolean): Promise<void> {
  const until = Date.now() + RECOVERY_PROBE_MS;
  const stream = `${CHAOS_CATEGORY}-${runId}_probe`;
  for (let n = 0; !done() && !signal.aborted && Date.now() < until; n++) {
    const process = PROBE_PROCESS + n;
    const ids = [`${runId}-probe-${n}`];
    history.record({ type: 'invoke', process, f: 'append', stream, ids, expected: 'any' });
    let timer: NodeJS.Timeout | undefined;
    try {
      const r = await Promise.race([
        store.appendToStream(stream, [{ id: ids[0]!, type: 'chaos.written', data: { probe: n } }], { expectedVersion: 'any' }),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(TIMEOUT), opTimeoutMs))),
      ]);
      history.record({ type: 'ok', process, f: 'append', stream, ids, expected: 'any', version: r.streamVersion, positions: r.positions });
    } catch (err) {
      const o = classifyAppendError(err);
      history.record({ type: o.type, process, f: 'append', stream, ids, expected: 'any', error: o.error, message: o.message });
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Writers are processes 0, 1, ... (a retired one continues as n + writers): the probe's are far above. */
const PROBE_PROCESS = 1_000_000_000;

/** Waits until the consumer handled every event stored (read straight from the server), at most `ms`. */
async function drain(store: EventStore, consumer: ConsumerProcess, ms: number, signal: AbortSignal): Promise<boolean> {
  const until = Date.now() + ms;
  const stored: string[] = [];
  for await (const page of readBack(store, { categories: [CHAOS_CATEGORY], signal })) for (const e of page) stored.push(e.id);
  const handled = new Set<string>();
  let seen = 0;
  const done = () => {
    for (; seen < consumer.handled.length; seen++) handled.add(consumer.handled[seen]!);
    return signal.aborted || stored.every((id) => handled.has(id));
  };
  const ok = await waitFor(done, Math.max(0, until - Date.now()), 50);
  return ok && !signal.aborted;
}
