/**
 * `eventbench load --backend <b> --workload <w> --rate 100/s --duration 60s`: one load test against one
 * backend, k6-style (executors, thresholds, exit code 99 on a broken threshold), measured the way
 * OpenMessaging Benchmark does (open loop, HdrHistogram, the harness owns the clock).
 * The run / output helpers here are shared with `eventbench bench`.
 */
import { Option, type Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { ConfigError } from '../../core/event-store.ts';
import type { Environment } from '../../core/environment.ts';
import { captureEnvironment, captureRunTopology } from '../../infra/environment.ts';
import type { BackendResult, LoadResult } from '../../report/load-result.ts';
import { assembleLoadResult, failedBackendResult, thresholdValues } from '../../report/result-assembly.ts';
import { formatTerminalSummary } from '../../report/load-summary.ts';
import { verdictLine } from '../../report/verdict.ts';
import { prepareOutDir, type OutDir } from '../../report/out-dir.ts';
import { writeLoadResult } from '../../report/write-result.ts';
import { executorFromFlags, executors } from '../../runners/load/executors/index.ts';
import { DEFAULT_SLO, DEFAULT_STEP_DURATION } from '../../runners/load/executors/max.ts';
import { MAX_DURATION_MS, MAX_RATE_PER_SEC, MAX_WORKERS, MAX_WORKERS_PER_CORE } from '../../runners/load/limits.ts';
import { startMetricsServer, type MetricsServer } from '../../runners/load/metrics-server.ts';
import { planPregeneration } from '../../runners/load/load-side.ts';
import { checkReplay, REPLAY_KINDS, type ReplayKind } from '../../runners/bench/catch-up.ts';
import { fmtCount } from '../../report/format.ts';
import { parseBatch, parseConsumerSettings, parseDuration, parseEventSize, parsePositiveInt } from '../../runners/load/parse.ts';
import { assertStartAtFits, generatorRunId, parseGeneratorId, parseStartAt } from '../../runners/load/start-at.ts';
import { LATE_SEND_MS } from '../../runners/load/recorder.ts';
import { assertScenarioFitsBackend, EXECUTORS, runLoad, type LoadScenario } from '../../runners/load/run.ts';
import { assertPipelineWorkload } from '../../runners/load/pipeline.ts';
import { evaluateThresholds, parseThreshold, type Threshold } from '../../runners/load/thresholds.ts';
import { BACKEND_NAMES, backends, isBackendName, storeModule, type BackendName, type StoreName } from '../../store/index.ts';
import { buildBenchBlock, readSessionSettings } from '../../runners/bench/bench-block.ts';
import { durabilitySettings, type DurabilityProfile } from '../../runners/bench/durability.ts';
import { planRounds, type BenchRound } from '../../runners/bench/rounds.ts';
import { latencyAtRounds, latencyAtScenario } from '../../runners/bench/latency-at.ts';
import { isWorkloadName, WORKLOAD_NAMES } from '../../workloads/index.ts';
import { MAX_BATCH, MAX_EVENT_BYTES, MIN_EVENT_BYTES } from '../../workloads/synthetic.ts';
import { EXIT } from '../exit-codes.ts';
import { addServerOptions, addTopologyOption, openServers, type ServerCliOptions } from '../server-options.ts';
import { topologyStoreSettings } from '../../infra/topology.ts';
import { createProgressReporter } from '../load-progress.ts';
import { natsMonitorUrls, parseObservabilityOptions, startRunObservability, type ObservabilityOptions } from '../run-observability.ts';

export interface LoadCliOptions extends ServerCliOptions {
  backend?: string;
  workload: string;
  executor?: string;
  rate?: string;
  stages?: string;
  writers?: string;
  retries?: string;
  duration: string;
  warmup: string;
  maxInFlight: string;
  workers: string;
  streams: string;
  seed: string;
  slo?: string;
  stepDuration?: string;
  drainTimeout: string;
  threshold: string[];
  namespace: string;
  runId?: string;
  consumer: boolean;
  metrics: boolean;
  metricsPort?: string;
  metricsHost: string;
  prometheus?: boolean;
  natsMonitorUrl?: string;
  otlp?: string;
  out?: string;
  json?: boolean;
  pregenerate?: boolean;
  replay?: string;
  processors?: boolean;
  batch?: string;
  eventSize?: string;
  consumerName?: string;
  maxAckPending?: string;
  startAt?: string;
  generatorId?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The flags `load` and `bench` share (defaults differ; each command passes its own). */
export function addLoadOptions(cmd: Command, defaults: { duration: string; warmup: string; rate?: string }): Command {
  const executorHelp = Object.values(executors).map((e) => `${e.name} (${e.description})`).join(', ');
  return cmd
    .option('--workload <name>', `workload: ${WORKLOAD_NAMES.join(', ')}`, 'synthetic')
    .addOption(new Option('--executor <name>', `${executorHelp}; default: ramp with --stages, closed with --writers, else constant`).choices(EXECUTORS))
    .option('--rate <rate>', `arrival rate, e.g. 100/s, 100/sec, 1.5k/s or 6000/min, at most ${fmtCount(MAX_RATE_PER_SEC)}/s in total: constant (default ${defaults.rate ?? '100/s'}), the first step of max, the start of a ramp (default 0)`)
    .option('--stages <list>', "ramp stages <rate>:<duration>, e.g. '100/s:10s,1000/s:20s' (linear from the previous rate)")
    .option('--writers <n>', 'closed loop: concurrent writers, each sending its next append when the previous one returns (default 10)')
    .option('--retries <n>', 'closed loop: on a version conflict re-read the stream version and send again, at most n times (default: no retries, a conflict is counted); the result reports retries per successful append and the appends given up')
    .option('--duration <time>', `measured duration (max: the whole search), e.g. 60s, 1m30s or 2h, at most ${MAX_DURATION_MS / 86_400_000} days`, defaults.duration)
    .option('--warmup <time>', 'warm-up before measuring, excluded from results', defaults.warmup)
    .option('--max-in-flight <n>', 'appends outstanding at most; a due append beyond it is dropped and counted (k6: dropped iterations)', '1000')
    .option('--workers <n>', `load generator worker threads (at most ${MAX_WORKERS}, and ${MAX_WORKERS_PER_CORE} per core), each with its own store connection and rate/N`, '1')
    .option('--streams <n>', 'streams the workload spreads appends over (where it has a choice)', '1000')
    .option('--event-size <bytes>', `synthetic workload: bytes of each event's data (${MIN_EVENT_BYTES}-${fmtCount(MAX_EVENT_BYTES)}, default ~1,024), padded with random text; what --sweep size varies`)
    .option('--batch <n>', `synthetic workload: events per append (1-${MAX_BATCH}, default 1), one stream's next n versions in one call; --rate counts appends`)
    .option('--seed <n>', 'workload seed: same seed, same events', '1')
    .option('--slo <objective>', `max: the latency objective the highest rate must meet (default ${DEFAULT_SLO})`)
    .option('--step-duration <time>', `max: length of one rate step (default ${DEFAULT_STEP_DURATION})`)
    .option('--drain-timeout <time>', 'after the schedule: how long to wait for appends in flight and for the consumer to catch up', '10s')
    .option('--threshold <expr>', "fail (exit 99) unless it holds, e.g. 'p99<50ms', 'error_rate<0.1%' (a percentage or a fraction 0-1), 'rate>=490/s', 'dropped<1' (repeatable)", collect, [] as string[])
    .option('--namespace <name>', 'PostgreSQL schema / JetStream stream prefix of the run', 'eventbench')
    .option('--run-id <id>', 'synthetic workload: prefix of stream names and event ids (default: random; set it to reproduce a run byte for byte)')
    .option('--no-consumer', 'do not run the consumer (no end-to-end latency, lag or processing metrics)')
    .option('--consumer-name <name>', "the run consumer's durable name (default load_<run id>); it is deleted when the run ends, so never name a subscription the namespace already uses (bench rounds have namespaces of their own)")
    .option('--max-ack-pending <n>', "the run consumer's deliveries in flight at most: JetStream max_ack_pending, PostgreSQL the subscription's in-flight bound (default 256)")
    .option('--no-metrics', 'do not record Prometheus metrics (the harness-overhead baseline)')
    .option('--metrics-port <port>', 'serve Prometheus /metrics on this port during the run (0 = any free port)')
    .option('--metrics-host <host>', 'address the /metrics server binds to', '127.0.0.1')
    .option('--prometheus', 'start a Prometheus (Debian prometheus) scraping this run (and postgres-exporter if installed); its data is kept under --out/prometheus')
    .option('--nats-monitor-url <url>', "external NATS's monitoring endpoint, polled for NATS server metrics on /metrics (default: http://<nats host>:8222)")
    .option('--otlp <url>', 'send append -> consume traces (OpenTelemetry) to this OTLP/HTTP collector, e.g. http://127.0.0.1:4318 (off by default)')
    .option('--out <dir>', 'write result.json, summary.md and report.html to this directory (created; checked before anything starts)')
    .option('--json', 'print the result JSON to stdout instead of the table')
    .addOption(new Option('--replay <kind>', 'after the load, time reading everything the run stored back from position 0: catch-up (readAll), projection-rebuild (the debt-case read model; --workload debt-cases)').choices(REPLAY_KINDS))
    .option('--pregenerate', 'build every append before the clock starts, so generating events costs nothing while measuring (constant and ramp; refused when it would not fit in memory)')
    .option('--processors', 'debt-cases: run the case processors (intake -> analysis -> decision -> completed) next to the load and report the pipeline: cases completed/s, intake -> completed latency, per-step counts');
}

export interface ParsedLoad {
  scenario: LoadScenario;
  thresholds: Threshold[];
  namespace: string;
  metricsPort: number | undefined;
  observability: ObservabilityOptions;
  /** One-line remarks for stderr (a default the user did not choose, more workers than cores). */
  notices: string[];
  /** `--pregenerate`: checked to fit in memory already. */
  pregenerate: boolean;
  replay: ReplayKind | undefined;
}

/** Turns the raw flags into a scenario; every problem is a ConfigError naming the flag (exit 2). */
export function parseLoadOptions(opts: LoadCliOptions, defaults: { rate: string }): ParsedLoad {
  if (!isWorkloadName(opts.workload)) {
    throw new ConfigError(`unknown workload ${JSON.stringify(opts.workload)}: available: ${WORKLOAD_NAMES.join(', ')}`);
  }
  const durationMs = parseDuration(opts.duration, '--duration');
  const warmupMs = parseDuration(opts.warmup, '--warmup', { allowZero: true });
  // Each executor parses its own flags and refuses the others' (executors/index.ts).
  const chosen = executorFromFlags(
    opts.executor,
    { rate: opts.rate, stages: opts.stages, writers: opts.writers, slo: opts.slo, stepDuration: opts.stepDuration, retries: opts.retries },
    { rate: defaults.rate, durationMs },
  );
  const thresholds = opts.threshold.map((t) => parseThreshold(t));
  const namespace = opts.namespace;
  if (!/^[A-Za-z][A-Za-z0-9_]{0,40}$/.test(namespace)) throw new ConfigError(`--namespace ${JSON.stringify(namespace)}: letters, digits and "_", starting with a letter, at most 41`);
  const runId = opts.runId ?? `r${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  if (!/^[A-Za-z0-9_]{1,24}$/.test(runId)) throw new ConfigError(`--run-id ${JSON.stringify(runId)}: letters, digits and "_", at most 24`);
  const seed = Number(opts.seed);
  if (!/^\d+$/.test(opts.seed) || !Number.isSafeInteger(seed)) throw new ConfigError(`--seed ${JSON.stringify(opts.seed)} must be a whole number >= 0`);
  let metricsPort: number | undefined;
  if (opts.metricsPort !== undefined) {
    metricsPort = Number(opts.metricsPort);
    if (!/^\d+$/.test(opts.metricsPort) || metricsPort > 65535) throw new ConfigError(`--metrics-port ${JSON.stringify(opts.metricsPort)} must be a port number (0-65535)`);
  }
  const observability = parseObservabilityOptions(opts);
  // A managed Prometheus needs a /metrics to scrape: any free port unless one was given.
  if (observability.prometheus && metricsPort === undefined) metricsPort = 0;
  const workers = parsePositiveInt(opts.workers, '--workers', MAX_WORKERS);
  const cores = availableParallelism();
  if (workers > MAX_WORKERS_PER_CORE * cores) {
    throw new ConfigError(`--workers ${workers}: at most ${MAX_WORKERS_PER_CORE * cores} on this machine's ${cores} cores (${MAX_WORKERS_PER_CORE} per core: each worker takes about a second of CPU to start, and more only share the cores)`);
  }
  const scenario: LoadScenario = {
    executor: chosen.executor,
    workload: opts.workload,
    seed,
    runId,
    durationMs,
    warmupMs,
    maxInFlight: parsePositiveInt(opts.maxInFlight, '--max-in-flight'),
    workers,
    streams: parsePositiveInt(opts.streams, '--streams'),
    drainTimeoutMs: parseDuration(opts.drainTimeout, '--drain-timeout', { allowZero: true }),
    consumer: opts.consumer,
    metrics: opts.metrics,
    ...(opts.processors ? { processors: true } : {}),
    ...(opts.batch !== undefined ? { batch: parseBatch(opts.batch, opts.workload) } : {}),
    ...(opts.eventSize !== undefined ? { eventBytes: parseEventSize(opts.eventSize, opts.workload) } : {}),
    ...(opts.consumerName !== undefined || opts.maxAckPending !== undefined ? { consumerSettings: parseConsumerSettings(opts.consumerName, opts.maxAckPending) } : {}),
    ...chosen.fields,
  };
  executors[scenario.executor].validate(scenario);
  // Before any server starts: a pregeneration that would not fit in memory is bad input.
  if (opts.pregenerate) planPregeneration(scenario);
  checkReplay(opts.replay as ReplayKind | undefined, scenario.workload);
  if (scenario.processors) assertPipelineWorkload(scenario.workload);
  const notices = [...chosen.notices];
  if (workers > cores) notices.push(`--workers ${workers} on ${cores} cores: the workers share the cores with each other (and local servers); fewer workers may reach a higher rate`);
  return { scenario, thresholds, namespace, metricsPort, observability, notices, pregenerate: opts.pregenerate === true, replay: opts.replay as ReplayKind | undefined };
}

export function parseBackend(name: string | undefined): BackendName {
  if (!name) throw new ConfigError(`--backend is required: ${BACKEND_NAMES.join(', ')}`);
  if (!isBackendName(name)) throw new ConfigError(`unknown backend ${JSON.stringify(name)}: available: ${BACKEND_NAMES.join(', ')}`);
  return name;
}

export interface RunCommandInput {
  command: 'load' | 'bench';
  backends: BackendName[];
  parsed: ParsedLoad;
  serverOptions: ServerCliOptions;
  /** Checked and created before (see prepareOutDir); removed again if no result was written into it. */
  out?: OutDir;
  json?: boolean;
  metricsHost: string;
  /** `bench`: runs, raw-driver baselines and the durability profile (src/runners/bench). */
  bench?: { runs: number; baseline: boolean; durability: DurabilityProfile; latencyAt?: number[] };
  /** Lines for the result's notes (`bench --scenario`: which scenario file the values came from). */
  notes?: string[];
}

/** What can be checked without any server, for every backend of the run: before anything starts. */
export function checkRunFits(backendList: BackendName[], parsed: ParsedLoad): void {
  for (const b of backendList) assertScenarioFitsBackend(b, parsed.scenario);
}

export function printNotices(parsed: ParsedLoad): void {
  for (const n of parsed.notices) process.stderr.write(`eventbench: ${n}\n`);
}

/**
 * Runs the scenario against each backend in turn on the same servers, evaluates thresholds, writes and
 * prints the result. Returns the exit code: 0, 99 (a threshold broke), 130 (Ctrl-C; partial results are
 * still written) or 1 (a backend failed during a bench).
 */
export async function runLoadCommand(input: RunCommandInput): Promise<{ exitCode: number; result: LoadResult }> {
  try {
    return await runLoadCommandIn(input);
  } finally {
    input.out?.release();
  }
}

async function runLoadCommandIn(input: RunCommandInput): Promise<{ exitCode: number; result: LoadResult }> {
  const { parsed } = input;
  const needs = {
    postgres: input.backends.some((b) => backends[b].needs.postgres),
    nats: input.backends.some((b) => backends[b].needs.nats),
  };
  // The metrics port first: a port in use is bad input, found before any server starts.
  const metricsServer: MetricsServer | null = parsed.metricsPort !== undefined ? await startMetricsServer(parsed.metricsPort, input.metricsHost) : null;
  try {
    return await runWithMetrics(input, needs, metricsServer);
  } finally {
    await metricsServer?.close();
  }
}

async function runWithMetrics(input: RunCommandInput, needs: { postgres: boolean; nats: boolean }, metricsServer: MetricsServer | null): Promise<{ exitCode: number; result: LoadResult }> {
  const { parsed } = input;
  // `--durability matched`: a managed nats-server 2.10+ fsyncs before every ack (against fsynced commits).
  await using servers = await openServers(input.serverOptions, needs, input.bench?.durability === 'matched' ? { natsSyncAlways: true } : {});
  const environmentOptions = {
    ...(servers.pgUrl ? { pgUrl: servers.pgUrl } : {}),
    ...(servers.natsUrl ? { natsUrl: servers.natsUrl } : {}),
    ...(servers.postgres ? { postgres: servers.postgres } : {}),
    ...(servers.nats ? { nats: servers.nats } : {}),
    topology: servers.topology,
    ...(servers.natsCluster ? { natsCluster: servers.natsCluster } : {}),
  };
  const environment: Environment = await captureEnvironment(environmentOptions);
  if (metricsServer) process.stderr.write(`eventbench: metrics at ${metricsServer.url}\n`);
  await using _observability = await startRunObservability({
    options: parsed.observability,
    metricsServer,
    metricsHost: input.metricsHost,
    servers,
    runId: parsed.scenario.runId,
    ...(input.out ? { outDir: input.out.path } : {}),
  });
  const abort = new AbortController();
  const onSigint = (): void => {
    if (!abort.signal.aborted) process.stderr.write('\neventbench: interrupted, stopping and writing partial results (Ctrl-C again to quit now)\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const results: BackendResult[] = [];
  let failed = false;
  // `load`: one round per backend. `bench`: per run, each backend then its raw-driver baseline.
  const rounds: BenchRound[] = input.bench
    ? planRounds(input.backends, input.bench, parsed.scenario.runId, parsed.namespace)
    : input.backends.map((b) => ({ run: 1, store: b, baselineOf: null, runId: parsed.scenario.runId, namespace: parsed.namespace }));
  const profile = input.bench?.durability ?? 'default';
  // A bench round has a namespace of its own (rounds.ts); settings are read in the run's base namespace.
  const optionsFor = (store: StoreName, namespace = parsed.namespace) => ({
    namespace,
    ...(servers.pgUrl ? { pgUrl: servers.pgUrl } : {}),
    ...(servers.natsUrl ? { natsUrl: servers.natsUrl } : {}),
    settings: { ...topologyStoreSettings(servers.topology, storeModule(store)), ...durabilitySettings(profile, store, environment) },
  });
  try {
    for (let i = 0; i < rounds.length; i++) {
      const round = rounds[i]!;
      if (abort.signal.aborted) break;
      const backend = round.store;
      const progress = createProgressReporter(process.stderr);
      const needs = storeModule(backend).needs;
      const serverProcesses = [
        ...(needs.postgres && servers.postgres ? [{ name: `postgres (pid ${servers.postgres.pid})`, pid: servers.postgres.pid }] : []),
        ...(needs.nats && servers.nats ? [{ name: `nats-server (pid ${servers.nats.pid})`, pid: servers.nats.pid }] : []),
        // Replicated: every node and the standby work for each event; their CPU counts too.
        ...(needs.nats && servers.natsCluster ? servers.natsCluster.nodes.map((n, i) => ({ name: `nats-server n${i} (pid ${n.pid})`, pid: n.pid })) : []),
        ...(needs.postgres && servers.postgresStandby ? [{ name: `postgres standby (pid ${servers.postgresStandby.standby.pid})`, pid: servers.postgresStandby.standby.pid }] : []),
      ];
      try {
        const result = await runLoad({
          scenario: latencyAtScenario(parsed.scenario, round),
          backend,
          backendOptions: optionsFor(backend, round.namespace),
          serverProcesses,
          // Where the snapshots read each NATS server's own counters: the managed servers' monitoring
          // ports, or --nats-monitor-url; for an external server without it the snapshot tries port 8222
          // of its hosts and keeps only a server that names the run's client port.
          ...(needs.nats && (servers.nats || servers.natsCluster || parsed.observability.natsMonitorUrl)
            ? { natsMonitorUrls: natsMonitorUrls(servers, parsed.observability.natsMonitorUrl) }
            : {}),
          signal: abort.signal,
          onProgress: (p) => progress.update(p),
          onMetrics: (scrape) => metricsServer?.setSource(scrape),
          pregenerate: parsed.pregenerate,
          ...(parsed.replay ? { replay: parsed.replay } : {}),
        });
        result.run = round.run;
        result.baselineOf = round.baselineOf;
        result.latencyAt = round.latencyAt ?? null;
        // A max round's follow-ups (--latency-at) run next, while the server is in the same state.
        rounds.splice(i + 1, 0, ...latencyAtRounds(round, result, input.bench?.latencyAt ?? []));
        // Thresholds judge the backends; a baseline is there to be compared with, not judged.
        if (round.baselineOf === null) result.thresholds = evaluateThresholds(parsed.thresholds, thresholdValues(result));
        results.push(result);
      } catch (err) {
        // `load` (one backend): bad input and unreachable servers are exit 2 through the CLI's handler.
        if (input.command === 'load' || err instanceof ConfigError) throw err;
        process.stderr.write(`eventbench: ${backend} failed, continuing with the next backend: ${(err as Error).message}\n`);
        failed = true;
        results.push({ ...failedBackendResult(backend, err as Error, process.pid), run: round.run, baselineOf: round.baselineOf });
      } finally {
        progress.done();
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }

  const interrupted = abort.signal.aborted;
  // The topology again, now that the run's streams exist: where each lives (its leader), standby state.
  if (!interrupted) environment.topology = await captureRunTopology(environmentOptions, environment.nats?.monitorUrl ?? null);
  const bench = input.bench
    ? buildBenchBlock({
        results,
        runs: input.bench.runs,
        baseline: input.bench.baseline,
        executor: parsed.scenario.executor,
        load: describeLoad(parsed.scenario),
        profile,
        environment,
        sessions: await readSessionSettings([...new Set(rounds.map((r) => r.store))], (s) => optionsFor(s)),
      })
    : undefined;
  const result = assembleLoadResult({
    command: input.command,
    scenario: parsed.scenario,
    namespace: parsed.namespace,
    thresholds: parsed.thresholds.map((t) => t.source),
    backends: input.backends,
    infra: input.serverOptions.infra ?? null,
    environment,
    results,
    interrupted,
    ...(bench ? { bench } : {}),
  });
  result.notes.push(...(input.notes ?? []));
  if (parsed.scenario.eventBytes !== undefined) result.notes.push(`--event-size ${parsed.scenario.eventBytes}: each event's data was padded to about ${fmtCount(parsed.scenario.eventBytes)} bytes of JSON`);
  if (parsed.scenario.batch !== undefined) result.notes.push(`--batch ${parsed.scenario.batch}: each append carried ${parsed.scenario.batch} events of one stream; rates and writers count appends, events/s counts events`);
  const { startAtMs, generatorId } = parsed.scenario;
  if (startAtMs !== undefined || generatorId !== undefined) {
    const start = results[0]?.start;
    result.generator = {
      id: generatorId ?? null,
      startAt: startAtMs !== undefined ? new Date(startAtMs).toISOString() : null,
      startOffsetMs: start?.firstSendLateMs ?? null,
    };
    const late = start?.firstSendLateMs ?? 0;
    if (startAtMs !== undefined && late > LATE_SEND_MS) {
      result.notes.push(`--start-at: the first append left ${late} ms after it was due (this generator was not ready at the instant and caught up in a burst); give an instant further ahead`);
    }
  }

  if (input.out) {
    const paths = writeLoadResult(input.out.path, result);
    input.out.keep();
    process.stderr.write(`eventbench: wrote ${paths.json}, ${paths.summary} and ${paths.html}\n`);
  }
  process.stdout.write(input.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatTerminalSummary(result)}\n`);
  // A bench ends with its answer (src/report/verdict.ts) and where the report is.
  if (input.command === 'bench' && !input.json) {
    process.stdout.write(`\n${verdictLine(result)}\n${input.out ? `report: ${join(input.out.path, 'report.html')}\n` : ''}`);
  }
  const exitCode = interrupted ? EXIT.interrupted : !result.thresholdsPassed ? EXIT.thresholds : failed ? EXIT.failure : EXIT.ok;
  if (exitCode === EXIT.thresholds) {
    const broken = results.flatMap((r) => r.thresholds.filter((t) => !t.passed).map((t) => `${input.backends.length > 1 ? `${r.backend}: ` : ''}${t.description}`));
    process.stderr.write(`eventbench: threshold(s) broken: ${broken.join('; ')}\n`);
  }
  return { exitCode, result };
}

/** The load of a scenario in words, for what a ratio was measured at ("500/s", "10 writers"). */
export function describeLoad(scenario: LoadScenario): string {
  if (scenario.executor === 'closed') return `${scenario.writers ?? '?'} closed-loop writers`;
  if (scenario.executor === 'max') return `max under ${scenario.slo?.source ?? 'the SLO'}`;
  if (scenario.executor === 'ramp') return `a ramp to ${fmtCount(Math.max(...(scenario.stages ?? []).map((s) => s.rate)))}/s`;
  return `${fmtCount(scenario.rate ?? 0)}/s`;
}

/** `--start-at` and `--generator-id` (runners/load/start-at.ts): checked before any server starts. */
function applyGeneratorOptions(parsed: ParsedLoad, opts: LoadCliOptions): void {
  if (opts.generatorId !== undefined) {
    const id = parseGeneratorId(opts.generatorId);
    parsed.scenario.generatorId = id;
    parsed.scenario.runId = generatorRunId(parsed.scenario.runId, id);
    // A consumer reads the whole category, every generator's events: one is the run's consumer, N would
    // count each event N times (docs/multi-generator.md).
    if (id > 0 && parsed.scenario.consumer) {
      parsed.scenario.consumer = false;
      parsed.notices.push(`--generator-id ${id}: the run's consumer runs on generator 0 only (it reads every generator's events); this generator runs none`);
    }
  }
  if (opts.startAt !== undefined) {
    assertStartAtFits(parsed.scenario.executor);
    parsed.scenario.startAtMs = parseStartAt(opts.startAt, Date.now());
  }
}

export function registerLoad(program: Command): void {
  const cmd = program
    .command('load')
    .description('load-test one backend: open-loop arrival rate (no coordinated omission), ramp, closed loop or max-rate search; thresholds exit 99')
    .option('--backend <name>', `backend: ${BACKEND_NAMES.join(', ')}`)
    .option('--start-at <time>', 'begin the schedule (warm-up included) at this instant, an ISO time with a zone or +10s: N generators given the same instant form one open-loop schedule (--rate is per generator; eventbench merge adds their results)')
    .option('--generator-id <n>', 'this generator\'s index among many (0, 1, ...; e.g. a Kubernetes Job\'s completion index): keeps its streams and event ids apart from the others\'');
  addLoadOptions(cmd, { duration: '60s', warmup: '0s' });
  addTopologyOption(addServerOptions(cmd)).action(async (opts: LoadCliOptions) => {
    // Everything that can be refused is refused here, before any server starts or anything is written.
    const backend = parseBackend(opts.backend);
    const parsed = parseLoadOptions(opts, { rate: '100/s' });
    applyGeneratorOptions(parsed, opts);
    checkRunFits([backend], parsed);
    const out = opts.out !== undefined ? prepareOutDir(opts.out) : undefined;
    printNotices(parsed);
    const { exitCode } = await runLoadCommand({
      command: 'load',
      backends: [backend],
      parsed,
      serverOptions: opts,
      metricsHost: opts.metricsHost,
      ...(out ? { out } : {}),
      ...(opts.json ? { json: true } : {}),
    });
    process.exitCode = exitCode;
  });
}
