/**
 * `eventbench load --backend <b> --workload <w> --rate 100/s --duration 60s`: one load test against one
 * backend, k6-style (executors, thresholds, exit code 99 on a broken threshold), measured the way
 * OpenMessaging Benchmark does (open loop, HdrHistogram, the harness owns the clock).
 * The run / output helpers here are shared with `eventbench bench`.
 */
import { Option, type Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../core/event-store.ts';
import type { Environment } from '../../core/environment.ts';
import { captureEnvironment } from '../../infra/environment.ts';
import { LOAD_RESULT_SCHEMA_VERSION, type BackendResult, type LoadResult } from '../../report/load-result.ts';
import { formatTerminalSummary } from '../../report/load-summary.ts';
import { writeLoadResult } from '../../report/write-result.ts';
import { startMetricsServer, type MetricsServer } from '../../runners/load/metrics-server.ts';
import {
  describeOutcome,
  evaluateThresholds,
  parseDuration,
  parsePositiveInt,
  parseRate,
  parseStages,
  parseThreshold,
  THRESHOLD_METRICS,
  type Threshold,
} from '../../runners/load/parse.ts';
import { EXECUTORS, runLoad, type ExecutorName, type LoadScenario } from '../../runners/load/run.ts';
import { BACKEND_NAMES, backends, isBackendName, type BackendName } from '../../store/index.ts';
import { isWorkloadName, WORKLOAD_NAMES } from '../../workloads/index.ts';
import { addServerOptions, openServers, type ServerCliOptions } from '../server-options.ts';
import { createProgressReporter } from '../load-progress.ts';

/** Exit codes (the same values as EXIT in program.ts; k6 uses 99 for a broken threshold). */
const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_THRESHOLDS = 99;
const EXIT_INTERRUPTED = 130;

export interface LoadCliOptions extends ServerCliOptions {
  backend?: string;
  workload: string;
  executor?: string;
  rate?: string;
  stages?: string;
  writers?: string;
  duration: string;
  warmup: string;
  maxInFlight: string;
  workers: string;
  streams: string;
  seed: string;
  slo: string;
  stepDuration: string;
  drainTimeout: string;
  threshold: string[];
  namespace: string;
  runId?: string;
  consumer: boolean;
  metrics: boolean;
  metricsPort?: string;
  metricsHost: string;
  out?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The flags `load` and `bench` share (defaults differ; each command passes its own). */
export function addLoadOptions(cmd: Command, defaults: { duration: string; warmup: string; rate?: string }): Command {
  return cmd
    .option('--workload <name>', `workload: ${WORKLOAD_NAMES.join(', ')}`, 'synthetic')
    .addOption(new Option('--executor <name>', 'constant (open loop), ramp (--stages), closed (--writers as fast as they can), max (highest rate under --slo); default: from the flags given').choices(EXECUTORS))
    .option('--rate <rate>', `arrival rate, e.g. 100/s or 100/sec: constant (default ${defaults.rate ?? '100/s'}), the first step of max, the start of a ramp (default 0)`)
    .option('--stages <list>', "ramp stages <rate>:<duration>, e.g. '100/s:10s,1000/s:20s' (linear from the previous rate)")
    .option('--writers <n>', 'closed loop: concurrent writers, each sending its next append when the previous one returns')
    .option('--duration <time>', 'measured duration (max: the whole search), e.g. 60s', defaults.duration)
    .option('--warmup <time>', 'warm-up before measuring, excluded from results', defaults.warmup)
    .option('--max-in-flight <n>', 'appends outstanding at most; a due append beyond it is dropped and counted (k6: dropped iterations)', '1000')
    .option('--workers <n>', 'load generator worker threads, each with its own store connection and rate/N', '1')
    .option('--streams <n>', 'streams the workload spreads appends over (where it has a choice)', '1000')
    .option('--seed <n>', 'workload seed: same seed, same events', '1')
    .option('--slo <objective>', 'max: the latency objective the highest rate must meet', 'p99<50ms')
    .option('--step-duration <time>', 'max: length of one rate step', '5s')
    .option('--drain-timeout <time>', 'after the schedule: how long to wait for appends in flight and for the consumer to catch up', '10s')
    .option('--threshold <expr>', "fail (exit 99) unless it holds, e.g. 'p99<50ms', 'error_rate<0.1%', 'rate>=490/s', 'dropped<1' (repeatable)", collect, [] as string[])
    .option('--namespace <name>', 'PostgreSQL schema / JetStream stream prefix of the run', 'eventbench')
    .option('--run-id <id>', 'synthetic workload: prefix of stream names and event ids (default: random; set it to reproduce a run byte for byte)')
    .option('--no-consumer', 'do not run the consumer (no end-to-end latency, lag or processing metrics)')
    .option('--no-metrics', 'do not record Prometheus metrics (the harness-overhead baseline)')
    .option('--metrics-port <port>', 'serve Prometheus /metrics on this port during the run (0 = any free port)')
    .option('--metrics-host <host>', 'address the /metrics server binds to', '127.0.0.1')
    .option('--out <dir>', 'write result.json and summary.md to this directory')
    .option('--json', 'print the result JSON to stdout instead of the table');
}

export interface ParsedLoad {
  scenario: LoadScenario;
  thresholds: Threshold[];
  namespace: string;
  metricsPort: number | undefined;
}

/** Turns the raw flags into a scenario; every problem is a ConfigError naming the flag (exit 2). */
export function parseLoadOptions(opts: LoadCliOptions, defaults: { rate: string }): ParsedLoad {
  if (!isWorkloadName(opts.workload)) {
    throw new ConfigError(`unknown workload ${JSON.stringify(opts.workload)}: available: ${WORKLOAD_NAMES.join(', ')}`);
  }
  let executor = opts.executor as ExecutorName | undefined;
  if (executor !== undefined && !EXECUTORS.includes(executor)) throw new ConfigError(`--executor ${executor}: use one of ${EXECUTORS.join(', ')}`);
  executor ??= opts.stages ? 'ramp' : opts.writers && !opts.rate ? 'closed' : 'constant';
  const durationMs = parseDuration(opts.duration, '--duration');
  const warmupMs = parseDuration(opts.warmup, '--warmup', { allowZero: true });
  const rate = opts.rate !== undefined ? parseRate(opts.rate, '--rate') : undefined;
  const stages = opts.stages !== undefined ? parseStages(opts.stages) : undefined;
  const writers = opts.writers !== undefined ? parsePositiveInt(opts.writers, '--writers', 10_000) : undefined;
  if (executor === 'ramp' && !stages) throw new ConfigError("--executor ramp needs --stages, e.g. '100/s:10s,1000/s:20s'");
  if (executor !== 'ramp' && stages) throw new ConfigError(`--stages belongs to --executor ramp, not ${executor}`);
  if (executor === 'closed' && rate !== undefined && opts.executor === 'closed') throw new ConfigError('--executor closed runs as fast as --writers can: drop --rate');
  const slo = parseThreshold(opts.slo, '--slo');
  if (THRESHOLD_METRICS[slo.metric] !== 'ms' || slo.metric === 'e2e_p99' || !slo.op.startsWith('<')) {
    throw new ConfigError(`--slo ${JSON.stringify(opts.slo)}: use an append latency objective such as p99<50ms`);
  }
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
  const scenario: LoadScenario = {
    executor,
    workload: opts.workload,
    seed,
    runId,
    durationMs,
    warmupMs,
    maxInFlight: parsePositiveInt(opts.maxInFlight, '--max-in-flight'),
    workers: parsePositiveInt(opts.workers, '--workers', 64),
    streams: parsePositiveInt(opts.streams, '--streams'),
    drainTimeoutMs: parseDuration(opts.drainTimeout, '--drain-timeout', { allowZero: true }),
    consumer: opts.consumer,
    metrics: opts.metrics,
  };
  if (executor === 'constant' || executor === 'max') scenario.rate = rate ?? parseRate(defaults.rate);
  if (executor === 'ramp') {
    if (rate !== undefined) scenario.rate = rate;
    scenario.stages = stages!;
    scenario.durationMs = stages!.reduce((a, s) => a + s.durationMs, 0);
  }
  if (executor === 'closed') scenario.writers = writers ?? 10;
  if (executor === 'max') {
    scenario.slo = slo;
    scenario.stepDurationMs = parseDuration(opts.stepDuration, '--step-duration');
    if (scenario.stepDurationMs > durationMs) throw new ConfigError(`--step-duration (${opts.stepDuration}) is longer than --duration (${opts.duration})`);
  }
  return { scenario, thresholds, namespace, metricsPort };
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
  out?: string;
  json?: boolean;
  metricsHost: string;
}

/**
 * Runs the scenario against each backend in turn on the same servers, evaluates thresholds, writes and
 * prints the result. Returns the exit code: 0, 99 (a threshold broke), 130 (Ctrl-C; partial results are
 * still written) or 1 (a backend failed during a bench).
 */
export async function runLoadCommand(input: RunCommandInput): Promise<{ exitCode: number; result: LoadResult }> {
  const { parsed } = input;
  const needs = {
    postgres: input.backends.some((b) => backends[b].needs.postgres),
    nats: input.backends.some((b) => backends[b].needs.nats),
  };
  await using servers = await openServers(input.serverOptions, needs);
  const environment: Environment = await captureEnvironment({
    ...(servers.pgUrl ? { pgUrl: servers.pgUrl } : {}),
    ...(servers.natsUrl ? { natsUrl: servers.natsUrl } : {}),
    ...(servers.postgres ? { postgres: servers.postgres } : {}),
    ...(servers.nats ? { nats: servers.nats } : {}),
  });
  const metricsServer: MetricsServer | null = parsed.metricsPort !== undefined ? await startMetricsServer(parsed.metricsPort, input.metricsHost) : null;
  if (metricsServer) process.stderr.write(`eventbench: metrics at ${metricsServer.url}\n`);
  const abort = new AbortController();
  const onSigint = (): void => {
    if (!abort.signal.aborted) process.stderr.write('\neventbench: interrupted, stopping and writing partial results (Ctrl-C again to quit now)\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const results: BackendResult[] = [];
  let failed = false;
  try {
    for (const backend of input.backends) {
      if (abort.signal.aborted) break;
      const progress = createProgressReporter(process.stderr);
      const serverProcesses = [
        ...(backends[backend].needs.postgres && servers.postgres ? [{ name: `postgres (pid ${servers.postgres.pid})`, pid: servers.postgres.pid }] : []),
        ...(backends[backend].needs.nats && servers.nats ? [{ name: `nats-server (pid ${servers.nats.pid})`, pid: servers.nats.pid }] : []),
      ];
      try {
        const result = await runLoad({
          scenario: parsed.scenario,
          backend,
          backendOptions: {
            namespace: parsed.namespace,
            ...(servers.pgUrl ? { pgUrl: servers.pgUrl } : {}),
            ...(servers.natsUrl ? { natsUrl: servers.natsUrl } : {}),
          },
          serverProcesses,
          signal: abort.signal,
          onProgress: (p) => progress.update(p),
          onMetrics: (scrape) => metricsServer?.setSource(scrape),
        });
        result.thresholds = evaluateThresholds(parsed.thresholds, {
          p50: result.latency.p50,
          p90: result.latency.p90,
          p99: result.latency.p99,
          p999: result.latency.p999,
          max: result.latency.max,
          e2e_p99: result.endToEnd && result.endToEnd.count > 0 ? result.endToEnd.p99 : null,
          error_rate: result.errors.rate,
          dropped: result.dropped.count,
          dropped_rate: result.dropped.rate,
          rate: result.throughput.eventsPerSec,
        }).map((o) => ({ ...o, by: Number.isNaN(o.by) ? null : o.by, description: describeOutcome(o) }));
        results.push(result);
      } catch (err) {
        // `load` (one backend): bad input and unreachable servers are exit 2 through the CLI's handler.
        if (input.command === 'load' || err instanceof ConfigError) throw err;
        process.stderr.write(`eventbench: ${backend} failed, continuing with the next backend: ${(err as Error).message}\n`);
        failed = true;
        results.push(failedResult(backend, err as Error));
      } finally {
        progress.done();
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await metricsServer?.close();
  }

  const interrupted = abort.signal.aborted;
  const thresholdsPassed = results.every((r) => r.thresholds.every((t) => t.passed));
  const result: LoadResult = {
    schemaVersion: LOAD_RESULT_SCHEMA_VERSION,
    tool: 'eventbench',
    createdAt: new Date().toISOString(),
    environment,
    scenario: {
      command: input.command,
      executor: parsed.scenario.executor,
      workload: parsed.scenario.workload,
      seed: parsed.scenario.seed,
      runId: parsed.scenario.runId,
      namespace: parsed.namespace,
      rate: parsed.scenario.rate ?? null,
      stages: parsed.scenario.stages ?? null,
      writers: parsed.scenario.writers ?? null,
      durationMs: parsed.scenario.durationMs,
      warmupMs: parsed.scenario.warmupMs,
      maxInFlight: parsed.scenario.maxInFlight,
      workers: parsed.scenario.workers,
      streams: parsed.scenario.streams ?? null,
      slo: parsed.scenario.slo?.source ?? null,
      stepDurationMs: parsed.scenario.stepDurationMs ?? null,
      drainTimeoutMs: parsed.scenario.drainTimeoutMs,
      consumer: parsed.scenario.consumer,
      metrics: parsed.scenario.metrics,
      thresholds: parsed.thresholds.map((t) => t.source),
      backends: input.backends,
      infra: input.serverOptions.infra ?? null,
    },
    backends: results,
    thresholdsPassed,
    notes: [
      `${environment.machine.cores} cores shared by the load generator and the servers${environment.machine.loadAverage.length ? ` (load average at start ${environment.machine.loadAverage.map((l) => l.toFixed(2)).join(' ')})` : ''}; compare backends measured in the same run.`,
      ...(interrupted ? ['interrupted by a signal: partial results'] : []),
    ],
  };
  if (input.out) {
    const paths = writeLoadResult(input.out, result);
    process.stderr.write(`eventbench: wrote ${paths.json} and ${paths.summary}\n`);
  }
  process.stdout.write(input.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatTerminalSummary(result)}\n`);
  const exitCode = interrupted ? EXIT_INTERRUPTED : !thresholdsPassed ? EXIT_THRESHOLDS : failed ? EXIT_FAILURE : EXIT_OK;
  if (exitCode === EXIT_THRESHOLDS) {
    const broken = results.flatMap((r) => r.thresholds.filter((t) => !t.passed).map((t) => `${input.backends.length > 1 ? `${r.backend}: ` : ''}${t.description}`));
    process.stderr.write(`eventbench: threshold(s) broken: ${broken.join('; ')}\n`);
  }
  return { exitCode, result };
}

function failedResult(backend: string, err: Error): BackendResult {
  const zero = { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  return {
    backend,
    capabilities: null,
    error: err.message,
    interrupted: false,
    measuredSeconds: 0,
    throughput: { eventsPerSec: 0, appendsPerSec: 0, targetPerSec: null },
    latency: zero,
    serviceTime: zero,
    sendDelay: zero,
    endToEnd: null,
    processing: null,
    totals: { sent: 0, appends: 0, events: 0, unfinished: 0, wholeRun: { sent: 0, appends: 0, events: 0, errors: 0, dropped: 0 } },
    errors: { conflict: 0, unavailable: 0, unknown_outcome: 0, duplicate: 0, other: 0, total: 0, rate: 0 },
    dropped: { count: 0, rate: 0 },
    late: { count: 0, thresholdMs: 0 },
    consumer: null,
    storage: null,
    resources: { loadGenerator: { name: 'load generator', pid: process.pid, cpuPercent: 0, cpuSeconds: 0, rssMaxBytes: 0, rssEndBytes: 0 }, servers: [] },
    timeline: [],
    maxSearch: null,
    thresholds: [],
    histograms: { unit: 'microseconds', latency: '', endToEnd: null },
  };
}

export function registerLoad(program: Command): void {
  const cmd = program
    .command('load')
    .description('load-test one backend: open-loop arrival rate (no coordinated omission), ramp, closed loop or max-rate search; thresholds exit 99')
    .option('--backend <name>', `backend: ${BACKEND_NAMES.join(', ')}`);
  addLoadOptions(cmd, { duration: '60s', warmup: '0s' });
  addServerOptions(cmd).action(async (opts: LoadCliOptions) => {
    const backend = parseBackend(opts.backend);
    const parsed = parseLoadOptions(opts, { rate: '100/s' });
    const { exitCode } = await runLoadCommand({
      command: 'load',
      backends: [backend],
      parsed,
      serverOptions: opts,
      metricsHost: opts.metricsHost,
      ...(opts.out ? { out: opts.out } : {}),
      ...(opts.json ? { json: true } : {}),
    });
    process.exitCode = exitCode;
  });
}
