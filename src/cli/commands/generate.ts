/**
 * `eventbench generate --backend <b> --workload debt-cases --count N --seed S [--process]` (docs/case-processing.md §Tools the design describes:
 * `case_generator --backend postgres --count 1000`): writes a workload's seeded events into a store, with
 * a progress line and a summary; with `--process` the debt-case processors and the read model run until
 * every generated case is completed, and the summary adds cases by decision and outcome, dead letters,
 * processing latency percentiles, and whether a replay from position 0 rebuilds the same read model.
 */
import { Option, type Command } from 'commander';
import { totalmem } from 'node:os';
import { ConfigError } from '../../core/event-store.ts';
import { parseDuration } from '../../runners/load/parse.ts';
import { BACKEND_NAMES, backends, createStore, isBackendName } from '../../store/index.ts';
import { isWorkloadName, WORKLOAD_NAMES } from '../../workloads/index.ts';
import { runGenerate, type GenerateProgress, type GenerateResult } from '../../runners/generate.ts';
import { addServerOptions, openServers, type ServerCliOptions } from '../server-options.ts';
import { UsageError } from '../errors.ts';
import { EXIT } from '../exit-codes.ts';

interface GenerateCliOptions extends ServerCliOptions {
  backend?: string;
  workload: string;
  count: string;
  seed: string;
  process?: boolean;
  instances: string;
  speedup?: string;
  concurrency: string;
  failureRate: string;
  deadline: string;
  namespace: string;
  timeout: string;
  json?: boolean;
}

function int(value: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * `5s`, `300ms`, `2m` as `load` takes them. A bare number is refused here: these flags took
 * milliseconds before, and reading `--timeout 300000` as 300,000 seconds would be a silent surprise.
 */
function duration(value: string, flag: string, minMs: number): number {
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) throw new UsageError(`${flag} ${JSON.stringify(value)} needs a unit: e.g. ${value}ms or 30s`);
  const ms = parseDuration(value, flag);
  if (ms < minMs) throw new UsageError(`${flag} ${JSON.stringify(value)} is too short: at least ${minMs} ms`);
  return ms;
}

/**
 * The memory backend keeps every event in this process. Measured with `generate --backend memory`
 * (debt-cases, the largest events: ~1.7 kB intake) on this project's machine: RSS grew ~2.3 kB per
 * append over 400,000 appends; 4 kB leaves room for heap overhead and GC headroom.
 */
const MEMORY_BACKEND_BYTES_PER_APPEND = 4096;

function num(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${flag} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

export function registerGenerate(program: Command): void {
  const cmd = program
    .command('generate')
    .description('write a seeded workload (default: realistic debt cases from CBS figures) into a store; --process runs the case processors')
    .addOption(new Option('--backend <name>', 'the store to write to').choices(BACKEND_NAMES))
    .addOption(new Option('--workload <name>', 'what to generate').choices(WORKLOAD_NAMES).default('debt-cases'))
    .option('--count <n>', 'appends to make (debt-cases: cases)', '1000')
    .option('--seed <n>', 'same seed, same events, byte for byte', '1')
    .option('--process', 'debt-cases: run the intake/analysis/decision processors and the read model until every case is completed')
    .option('--instances <n>', 'competing instances of each processor (with --process)', '1')
    .option('--failure-rate <p>', 'probability a processor handler fails after its effect, forcing a redelivery (with --process)', '0')
    .option('--deadline <time>', 'real-time decision deadline after which the saga escalates a case (with --process), e.g. 30s', '30s')
    .option('--speedup <x>', 'pace by simulated arrival times, x times faster than real time (default: as fast as possible)')
    .option('--concurrency <n>', 'appends in flight', '32')
    .option('--timeout <time>', 'longest wait for processing to finish after generation, e.g. 5m', '5m')
    .option('--namespace <name>', 'PostgreSQL schema / JetStream stream prefix / memory namespace', 'eventbench')
    .option('--json', 'print the summary as JSON');
  addServerOptions(cmd).action(async (opts: GenerateCliOptions) => {
    const name = opts.backend;
    if (!name) throw new UsageError(`--backend is required: ${BACKEND_NAMES.join(', ')}`);
    if (!isBackendName(name)) throw new UsageError(`unknown backend ${JSON.stringify(name)}: available: ${BACKEND_NAMES.join(', ')}`);
    if (!isWorkloadName(opts.workload)) throw new UsageError(`unknown workload ${JSON.stringify(opts.workload)}: available: ${WORKLOAD_NAMES.join(', ')}`);
    if (opts.process && opts.workload !== 'debt-cases') throw new UsageError(`--process runs the debt-case processors; use it with --workload debt-cases`);
    if (!/^[A-Za-z][A-Za-z0-9_]{0,40}$/.test(opts.namespace)) throw new ConfigError(`--namespace ${JSON.stringify(opts.namespace)}: letters, digits and "_", starting with a letter`);
    const count = int(opts.count, '--count', 1, 100_000_000);
    const seed = int(opts.seed, '--seed', 0);
    const instances = int(opts.instances, '--instances', 1, 64);
    const concurrency = int(opts.concurrency, '--concurrency', 1, 4096);
    const failureRate = num(opts.failureRate, '--failure-rate', 0, 0.9);
    const deadline = duration(opts.deadline, '--deadline', 10);
    const timeout = duration(opts.timeout, '--timeout', 1000);
    const speedup = opts.speedup === undefined ? undefined : num(opts.speedup, '--speedup', 1e-3, 1e12);
    if (name === 'memory') {
      const fits = Math.floor((totalmem() / 2 / MEMORY_BACKEND_BYTES_PER_APPEND) * (opts.process ? 0.5 : 1));
      if (count > fits) {
        throw new UsageError(
          `--count ${count} does not fit the memory backend, which keeps every event in this process: at most ~${fits} here (half of ${Math.round(totalmem() / 2 ** 30)} GiB RAM); use --backend postgres or jetstream for more`,
        );
      }
    }

    await using servers = await openServers(opts, backends[name].needs);
    const store = await createStore(name, {
      namespace: opts.namespace,
      ...(servers.pgUrl ? { pgUrl: servers.pgUrl } : {}),
      ...(servers.natsUrl ? { natsUrl: servers.natsUrl } : {}),
    });
    // From here on Ctrl-C stops the run and prints what was done (the process registry takes a second
    // Ctrl-C, or one during the server start above, and stops everything at once).
    const abort = new AbortController();
    const onSignal = () => {
      if (!abort.signal.aborted) process.stderr.write('\neventbench: interrupted, stopping and printing the partial summary (Ctrl-C again to quit now)\n');
      abort.abort();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const tty = process.stderr.isTTY;
    let lastLine = -Infinity;
    const onProgress = (p: GenerateProgress) => {
      const line = formatProgress(p);
      if (tty) process.stderr.write(`\r\x1b[2K${line}`);
      else if (p.elapsedMs - lastLine >= 5000) {
        lastLine = p.elapsedMs;
        process.stderr.write(`${line}\n`);
      }
    };
    try {
      const result = await runGenerate(store, {
        workload: opts.workload,
        count,
        seed,
        concurrency,
        processTimeoutMs: timeout,
        ...(speedup !== undefined ? { speedup } : {}),
        ...(opts.process ? { process: true, processors: { instances, failureRate, decisionDeadlineMs: deadline, seed } } : {}),
        onProgress,
        signal: abort.signal,
      });
      if (tty) process.stderr.write('\r\x1b[2K');
      process.stdout.write(opts.json ? `${JSON.stringify({ backend: name, namespace: opts.namespace, ...result }, null, 2)}\n` : formatSummary(name, result));
      if (result.failed > 0 || (result.processing && (result.processing.timedOut || result.processing.replayMatches === false))) process.exitCode = EXIT.failure;
      if (result.interrupted || abort.signal.aborted) process.exitCode = EXIT.interrupted;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // Bounded, so a store whose close hangs cannot keep the command from finishing.
      const closed = await Promise.race([store.close().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 15_000).unref())]);
      if (!closed) {
        process.stderr.write(`eventbench: warning: the ${name} store did not close within 15 s; exiting anyway\n`);
        setTimeout(() => process.exit(), 100);
      }
    }
  });
}

/** One progress line: done/total, rate, elapsed and the time left at the rate so far. */
export function formatProgress(p: GenerateProgress): string {
  const seconds = p.elapsedMs / 1000;
  const rate = p.events / Math.max(seconds, 1e-3);
  const appendRate = p.appends / Math.max(seconds, 1e-3);
  const percent = p.total > 0 ? Math.floor((p.appends / p.total) * 100) : 100;
  const left = p.total - p.appends;
  const eta = p.phase !== 'generating' ? '' : left <= 0 ? ', ETA 0 s' : appendRate > 0 ? `, ETA ${formatSeconds(left / appendRate)}` : ', ETA unknown';
  return (
    `${p.phase}: ${p.appends}/${p.total} appends (${percent}%), ${p.events} events, ${Math.round(rate)} events/s` +
    (p.completed !== undefined ? `, ${p.completed} cases completed` : '') +
    `, ${formatSeconds(seconds)}${eta}`
  );
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export function formatSummary(backend: string, r: GenerateResult): string {
  const lines: string[] = [];
  const row = (k: string, v: string | number) => lines.push(`  ${k.padEnd(22)} ${v}`);
  lines.push(`generate ${r.workload} -> ${backend} (seed ${r.seed})${r.interrupted ? ' INTERRUPTED: partial counts' : ''}`);
  row('appends', `${r.appends}${r.duplicates ? ` (${r.duplicates} already stored)` : ''}${r.failed ? `, ${r.failed} FAILED (first: ${r.firstError})` : ''}`);
  row('events', r.events);
  row('payload bytes', `~${r.bytes} (${r.events ? Math.round(r.bytes / r.events) : 0} per event)`);
  row('time', `${r.generateSeconds.toFixed(2)} s`);
  row('rate', `${Math.round(r.eventsPerSecond)} events/s`);
  const p = r.processing;
  if (p) {
    lines.push('', 'processing');
    row('cases completed', `${p.completed}/${p.expected}${p.timedOut ? ' (TIMED OUT)' : ''} in ${p.seconds.toFixed(2)} s`);
    row('by decision', Object.entries(p.summary.byDecision).map(([k, v]) => `${k} ${v}`).join(', '));
    row('by outcome', Object.entries(p.summary.byOutcome).map(([k, v]) => `${k} ${v}`).join(', '));
    row('escalated by saga', p.summary.escalated);
    row('savings (estimated)', `EUR ${p.summary.estimatedSavings.toFixed(2)}`);
    row('savings (realised)', `EUR ${p.summary.realisedSavings.toFixed(2)}`);
    row('mean case duration', `${p.summary.meanDurationDays} days (simulated)`);
    const e = p.effects;
    row('effects applied', `analysis ${e.analysis.applied}, decision ${e.decision.applied}, escalation ${e.escalation.applied}, completion ${e.completion.applied}`);
    row('redeliveries absorbed', `${e.analysis.duplicate + e.decision.duplicate + e.completion.duplicate + e.escalation.duplicate} duplicates, ${e.decision.superseded + e.escalation.superseded} superseded (${p.injectedFailures} injected failures)`);
    row('dead letters', p.deadLetters.length);
    const l = p.latencyMs;
    row('latency intake->done', `p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, p99.9 ${l.p999} ms, max ${l.max} ms (n=${l.count})`);
    row('replay from 0', p.replayMatches === null ? 'not checked (interrupted)' : p.replayMatches ? 'read model identical to the live one' : 'DIFFERS from the live read model');
  }
  return `${lines.join('\n')}\n`;
}
