/**
 * `eventbench bench`: the same workload and seed against several backends, one after the other on the
 * same machine and servers, then the side-by-side table (throughput, p50/p99/p99.9, errors, bytes per
 * event, capabilities that differ) and result.json + summary.md. Short by default, so a fresh machine
 * gets an answer in well under a minute with managed servers and no configuration.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../core/event-store.ts';
import { makeTempOutDir, prepareOutDir } from '../../report/out-dir.ts';
import { DURABILITY_PROFILES, parseDurability } from '../../runners/bench/durability.ts';
import { MAX_RUNS, parseRuns } from '../../runners/bench/rounds.ts';
import { parseLatencyAt } from '../../runners/bench/latency-at.ts';
import { BACKEND_NAMES, isBackendName, type BackendName } from '../../store/index.ts';
import { withScenario } from '../../runners/bench/scenario-catalog.ts';
import { addServerOptions, addTopologyOption } from '../server-options.ts';
import { planSweep, runSweep } from './bench-sweep.ts';
import { addLoadOptions, checkRunFits, parseLoadOptions, printNotices, runLoadCommand, type LoadCliOptions } from './load.ts';

/** The two real backends the question is about; `memory` (the harness's ceiling) can be added. */
const REAL_BACKENDS = ['postgres', 'jetstream'] as const;

export function defaultBenchBackends(): BackendName[] {
  return REAL_BACKENDS.filter((b): b is (typeof REAL_BACKENDS)[number] & BackendName => isBackendName(b));
}

export function parseBackendList(text: string | undefined): BackendName[] {
  const names = text === undefined ? defaultBenchBackends() : text.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new ConfigError(`--backends: no backend to run; available: ${BACKEND_NAMES.join(', ')}`);
  for (const n of names) if (!isBackendName(n)) throw new ConfigError(`unknown backend ${JSON.stringify(n)} in --backends: available: ${BACKEND_NAMES.join(', ')}`);
  if (new Set(names).size !== names.length) throw new ConfigError(`--backends lists a backend twice: ${names.join(',')}`);
  return names as BackendName[];
}

export function registerBench(program: Command): void {
  const cmd = program
    .command('bench')
    .description('run the same workload and seed against each backend in turn and print the side-by-side table')
    .option('--backends <list>', `comma-separated backends (available: ${BACKEND_NAMES.join(', ')}) (default: ${REAL_BACKENDS.join(',')})`)
    .option('--scenario <name>', "run a scenario of scenarios/bench/ ('eventbench scenarios' lists them); flags given override its values")
    .option('--quick', 'with --scenario: its short variant (CI, a first look)')
    .option('--runs <n>', `repeat the whole comparison n times (at most ${MAX_RUNS}) and report median and min-max; a difference inside the spread is marked noise`, '1')
    .option('--no-baseline', 'skip the raw-driver rounds (raw-postgres, raw-jetstream) and with them the efficiency column')
    .option('--latency-at <fractions>', 'with --executor max: after each backend\'s search, fixed-rate rounds at these fractions of the rate found, e.g. 0.5,0.9 (one step duration each)')
    .option('--sweep <parameter=values>', 'repeat the bench for each value of one parameter and chart how each backend\'s cost grows: streams=1000,100000,1000000 | size=256,1024,16384,65536 (synthetic: --event-size) | writers=1,4,16,64 (closed loop)')
    .option('--durability <profile>', `${DURABILITY_PROFILES.join(' | ')}: matched makes an ack mean the same on both sides as far as the server versions allow (PostgreSQL synchronous_commit=off against nats-server 2.9)`, 'default');
  addLoadOptions(cmd, { duration: '5s', warmup: '1s', rate: '500/s' });
  addTopologyOption(addServerOptions(cmd)).action(async (typed: LoadCliOptions & { backends?: string; scenario?: string; quick?: boolean; runs: string; baseline: boolean; durability: string; latencyAt?: string; sweep?: string }) => {
    // Everything that can be refused is refused here, before any server starts or anything is written.
    const { opts, notice } = withScenario(typed, (key) => cmd.getOptionValueSource(key) === 'cli');
    const list = parseBackendList(opts.backends);
    const parsed = parseLoadOptions(opts, { rate: '500/s' });
    checkRunFits(list, parsed);
    const bench = { runs: parseRuns(opts.runs), baseline: opts.baseline, durability: parseDurability(opts.durability), latencyAt: parseLatencyAt(opts.latencyAt) };
    if (bench.latencyAt.length > 0 && parsed.scenario.executor !== 'max') throw new ConfigError(`--latency-at follows a max search (--executor max); this run's executor is ${parsed.scenario.executor}, whose latency is already at a stated load`);
    const sweep = opts.sweep !== undefined ? planSweep(opts.sweep, opts, (key) => cmd.getOptionValueSource(key) === 'cli', list, bench, { rate: '500/s' }) : null;
    // Default output outside the repository, so running a bench never dirties a checkout; created only
    // now that the input is valid, and removed again if the run writes nothing into it.
    const out = opts.out !== undefined ? prepareOutDir(opts.out) : makeTempOutDir(`eventbench-bench-${new Date().toISOString().replace(/[:.]/g, '-')}-`);
    if (notice) process.stderr.write(`eventbench: ${notice}\n`);
    printNotices(parsed);
    const common = {
      command: 'bench' as const,
      backends: list,
      bench,
      serverOptions: opts,
      metricsHost: opts.metricsHost,
      ...(opts.json ? { json: true } : {}),
      ...(notice ? { notes: [notice] } : {}),
    };
    if (sweep) {
      process.exitCode = await runSweep(sweep, common, out);
      return;
    }
    const { exitCode } = await runLoadCommand({ ...common, parsed, out });
    process.exitCode = exitCode;
  });
}
