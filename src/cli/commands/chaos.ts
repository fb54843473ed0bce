/**
 * `eventbench chaos --backend postgres|jetstream|both --scenario NAME [--duration D] [--out DIR] [--list]`
 * (docs/case-processing.md §Tools the design describes: `chaos --backend both --scenario network_partition`): runs a scenario of
 * scenarios/chaos/*.yaml against each backend (src/runners/chaos/run.ts), prints the verdict table with
 * the evidence, and writes history, verdict and summary per backend. Every input is checked before a
 * server starts.
 */
import { Option, type Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLoopbackHost } from '../../infra/fault-proxy.ts';
import { parseDuration } from '../../runners/load/parse.ts';
import { checkFaultTimeline } from '../../runners/chaos/faults.ts';
import { CHAOS_BACKENDS, loadScenario, scenarioNames, timelineFor, type ChaosBackend, type ChaosScenario } from '../../runners/chaos/scenario.ts';
import type { ChaosRunResult } from '../../runners/chaos/run.ts';
import { LIMITATIONS, formatBackendSummary, formatRecovery, verdictLine } from '../../runners/chaos/summary.ts';
import { makeTempOutDir, prepareOutDir } from '../../report/out-dir.ts';
import { addServerOptions, addTopologyOption, openServers, type ServerCliOptions } from '../server-options.ts';
import { parseObservabilityOptions, startRunObservability } from '../run-observability.ts';
import { startMetricsServer, type MetricsServer } from '../../runners/load/metrics-server.ts';
import { createChaosMetrics } from '../../runners/chaos/metrics.ts';
import { UsageError } from '../errors.ts';
import { EXIT } from '../exit-codes.ts';

interface ChaosCliOptions extends ServerCliOptions {
  backend?: string;
  scenario?: string;
  duration?: string;
  out?: string;
  list?: boolean;
  metricsPort?: string;
  prometheus?: boolean;
}

const BACKEND_CHOICES = [...CHAOS_BACKENDS, 'both'] as const;
const MIN_DURATION_MS = 1_000;
const MAX_DURATION_MS = 3_600_000;

const CHAOS_HELP = `
A broken expectation (e.g. an acknowledged event lost, an event stored twice) exits ${EXIT.failure}, after the
verdict table that lists the event ids behind it. Process faults (server_kill, server_pause, pg_terminate)
act only on servers eventbench starts: with --pg-url / --nats-url they are refused. Scenarios named
replicated_* run on the replicated topology (a managed 3-node JetStream cluster with R3 streams, a
PostgreSQL primary with a synchronous standby; docs/topologies.md), which they select themselves.`;

/** The URL a backend will use, if it is external (known before any server starts). */
function externalUrl(opts: ChaosCliOptions, backend: ChaosBackend): string | undefined {
  if (opts.infra === 'managed') return undefined;
  const url = backend === 'postgres' ? (opts.pgUrl ?? process.env.PG_URL) : (opts.natsUrl ?? process.env.NATS_URL);
  return url?.trim() ? url.trim() : undefined;
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `nats://${url}`).hostname;
  } catch {
    return undefined; // openServers names what is wrong with it
  }
}

/** Which backends run, refusing what cannot run: one line each, before anything starts. */
function plan(opts: ChaosCliOptions, scenario: ChaosScenario, durationMs: number | undefined): { run: ChaosBackend[]; skipped: { backend: ChaosBackend; reason: string }[] } {
  const wanted: ChaosBackend[] = opts.backend === 'both' ? [...CHAOS_BACKENDS] : [opts.backend as ChaosBackend];
  const run = wanted.filter((b) => scenario.backends.includes(b));
  const skipped = wanted.filter((b) => !scenario.backends.includes(b)).map((backend) => ({ backend, reason: scenario.skipReason ?? `scenario ${scenario.name} is for ${scenario.backends.join(', ')} only` }));
  if (run.length === 0) throw new UsageError(`scenario ${scenario.name} does not run on ${opts.backend}: ${skipped[0]!.reason}`);
  const scale = (durationMs ?? scenario.load.durationMs) / scenario.load.durationMs;
  for (const backend of run) {
    const url = externalUrl(opts, backend);
    if (opts.infra === 'external' && !url) continue; // openServers says which URL is missing
    const flag = backend === 'postgres' ? '--pg-url' : '--nats-url';
    if (url) {
      const host = hostOf(url);
      if (host !== undefined && !isLoopbackHost(host)) {
        throw new UsageError(`${flag} points at ${host}: chaos puts its fault proxy in front of the server and sends traffic only to loopback; use a server on 127.0.0.1 or --infra managed`);
      }
    }
    const target = backend === 'postgres' ? 'postgres' : 'nats';
    const replicated = opts.topology === 'replicated' && !url;
    try {
      checkFaultTimeline(timelineFor(scenario, backend, scale), {
        // A managed cluster has proxies per node, not one in front of "the server": node faults instead.
        [target]: { managed: !url, proxy: !(replicated && target === 'nats'), applicationName: true, standby: replicated, cluster: replicated },
        consumers: scenario.load.consumer ? ['c0'] : [],
      });
    } catch (err) {
      throw new UsageError(`scenario ${scenario.name} on ${backend}: ${(err as Error).message}`);
    }
  }
  return { run, skipped };
}

export function registerChaos(program: Command): void {
  const cmd = program
    .command('chaos')
    .description('run a chaos scenario (faults on a timeline while writers and a consumer run), then check every acknowledged event')
    .addOption(new Option('--backend <name>', 'the store(s) to test').choices(BACKEND_CHOICES))
    .option('--scenario <name>', 'a scenario of scenarios/chaos/ (see --list)')
    .option('--duration <time>', `load phase length, e.g. 10s (${MIN_DURATION_MS / 1000} s to ${MAX_DURATION_MS / 60_000} min); the fault timeline scales with it (default: the scenario's)`)
    .option('--out <dir>', 'where to write history.jsonl, verdict.json, summary.md and report.html per backend (default: a new temp directory)')
    .option('--list', 'list the scenarios, one line each')
    .option('--metrics-port <port>', 'serve Prometheus /metrics on 127.0.0.1:<port> during the run: faults active, append outcomes, latency, what the checker found (0 = any free port)')
    .option('--prometheus', 'start a Prometheus (Debian prometheus) scraping this run (and postgres-exporter if installed); its data is kept under --out/prometheus');
  cmd.addHelpText('after', CHAOS_HELP);
  addTopologyOption(addServerOptions(cmd)).action(async (opts: ChaosCliOptions) => {
    if (opts.list) {
      const names = scenarioNames();
      const width = Math.max(...names.map((n) => n.length));
      for (const name of names) {
        const s = loadScenario(name);
        const only = s.backends.length < CHAOS_BACKENDS.length ? ` (${s.backends.join(', ')} only)` : '';
        process.stdout.write(`${name.padEnd(width)}  ${s.description}${only}\n`);
      }
      return;
    }
    if (!opts.backend) throw new UsageError(`--backend is required: ${BACKEND_CHOICES.join(', ')}`);
    if (!opts.scenario) throw new UsageError(`--scenario is required: ${scenarioNames().join(', ')} (eventbench chaos --list)`);
    const scenario = loadScenario(opts.scenario);
    // A replicated scenario needs the replicated topology; a single one runs on either where its faults fit.
    if (cmd.getOptionValueSource('topology') !== 'cli') opts.topology = scenario.topology;
    else if (scenario.topology === 'replicated' && opts.topology !== 'replicated') {
      throw new UsageError(`scenario ${scenario.name} needs the replicated topology: leave --topology out or use --topology replicated`);
    }
    let durationMs: number | undefined;
    if (opts.duration !== undefined) {
      if (/^\s*\d+(\.\d+)?\s*$/.test(opts.duration)) throw new UsageError(`--duration ${JSON.stringify(opts.duration)} needs a unit: e.g. ${opts.duration}s`);
      durationMs = parseDuration(opts.duration, '--duration');
      if (durationMs < MIN_DURATION_MS || durationMs > MAX_DURATION_MS) {
        throw new UsageError(`--duration ${JSON.stringify(opts.duration)}: from ${MIN_DURATION_MS / 1000} s to ${MAX_DURATION_MS / 60_000} min`);
      }
    }
    let metricsPort: number | undefined;
    if (opts.metricsPort !== undefined) {
      metricsPort = Number(opts.metricsPort);
      if (!/^\d+$/.test(opts.metricsPort) || metricsPort > 65535) throw new UsageError(`--metrics-port ${JSON.stringify(opts.metricsPort)} must be a port number (0-65535)`);
    }
    const observability = parseObservabilityOptions({ ...(opts.prometheus ? { prometheus: true } : {}), metrics: true });
    if (observability.prometheus && metricsPort === undefined) metricsPort = 0;
    const { run, skipped } = plan(opts, scenario, durationMs);
    const out = opts.out !== undefined ? prepareOutDir(opts.out) : makeTempOutDir(`eventbench-chaos-${new Date().toISOString().replace(/[:.]/g, '-')}-`);

    const abort = new AbortController();
    const onSignal = () => {
      if (!abort.signal.aborted) process.stderr.write('\neventbench: interrupted, healing the faults and writing the partial verdict (Ctrl-C again to quit now)\n');
      abort.abort();
    };
    const results: ChaosRunResult[] = [];
    // The metrics port first: a port in use is found before any server starts.
    let metricsServer: MetricsServer | null = null;
    try {
      metricsServer = metricsPort !== undefined ? await startMetricsServer(metricsPort) : null;
    } catch (err) {
      out.release();
      throw err;
    }
    const metrics = metricsServer ? createChaosMetrics(scenario.name) : undefined;
    // Every backend's series exist (at 0) from the first scrape on, so the first fault and append are increments.
    const recorders = new Map(run.map((b) => [b, metrics?.forRun(b, timelineFor(scenario, b, (durationMs ?? scenario.load.durationMs) / scenario.load.durationMs))]));
    if (metricsServer && metrics) metricsServer.setSource(() => metrics.metrics());
    try {
      await using servers = await openServers(opts, { postgres: run.includes('postgres'), nats: run.includes('jetstream') }, { clusterFaultProxies: true });
      if (metricsServer) process.stderr.write(`eventbench: metrics at ${metricsServer.url}\n`);
      // The `run` label of every series Prometheus stores for this command (both backends).
      const runLabel = `chaos-${scenario.name}-${Date.now().toString(36)}`;
      await using _observability = await startRunObservability({
        options: observability,
        metricsServer,
        metricsHost: '127.0.0.1',
        servers,
        runId: runLabel,
        outDir: out.path,
        resultWritten: () => results.length > 0,
      });
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      // Loaded on use: the runner pulls in the drivers.
      const [{ runChaos }, { captureEnvironment }] = await Promise.all([import('../../runners/chaos/run.ts'), import('../../infra/environment.ts')]);
      const environment = await captureEnvironment(servers);
      for (const s of skipped) process.stderr.write(`eventbench: chaos ${scenario.name}: ${s.backend} skipped: ${s.reason}\n`);
      for (const backend of run) {
        if (abort.signal.aborted) break;
        const result = await runChaos({
          backend,
          scenario,
          ...(durationMs !== undefined ? { durationMs } : {}),
          servers,
          dir: join(out.path, backend),
          environment,
          signal: abort.signal,
          log: (line) => process.stderr.write(`eventbench: chaos ${line}\n`),
          ...(recorders.get(backend) ? { metrics: recorders.get(backend)! } : {}),
        });
        out.keep();
        results.push(result);
        process.stdout.write(formatBackendSummary(result, 'terminal'));
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await metricsServer?.close();
    }
    if (results.length > 0) {
      writeFileSync(join(out.path, 'summary.md'), formatRunSummary(scenario, results, skipped));
      out.keep();
    } else {
      out.release();
    }
    process.stdout.write(`${formatOverview(results, skipped)}\n${LIMITATIONS}\n\nresults: ${out.path}\n`);
    if (abort.signal.aborted) process.exitCode = EXIT.interrupted;
    else if (results.some((r) => r.broken.length > 0)) process.exitCode = EXIT.failure;
  });
}

function formatOverview(results: ChaosRunResult[], skipped: { backend: ChaosBackend; reason: string }[]): string {
  const lines = results.map(
    (r) =>
      `  ${r.backend.padEnd(10)} ${verdictLine(r).padEnd(30)} acked ${r.verdict.acked}, lost ${r.verdict.lost.count}, duplicates ${r.verdict.duplicates.count}, unknown ${r.verdict.unknown.count}, recovered ${r.verdict.recovered.count}; recovery: ${formatRecovery(r.verdict)}`,
  );
  for (const s of skipped) lines.push(`  ${s.backend.padEnd(10)} skipped: ${s.reason}`);
  return `\nverdict:\n${lines.join('\n')}\n`;
}

function formatRunSummary(scenario: ChaosScenario, results: ChaosRunResult[], skipped: { backend: ChaosBackend; reason: string }[]): string {
  const parts = [`# eventbench chaos ${scenario.name}\n`, `${scenario.description}\n`, formatOverview(results, skipped), ...results.map((r) => formatBackendSummary(r, 'markdown')), `## What this cannot show\n\n${LIMITATIONS}\n`];
  return parts.join('\n');
}
