/**
 * Every bench scenario on both backends (npm run bench:scenarios): one `eventbench bench --scenario NAME
 * --runs N` per scenario of scenarios/bench/, each into `<out>/<stamp>/<scenario>/` (the bench's own
 * result.json, summary.md, report.html), then an index `<out>/<stamp>/README.md` (and `index.json`) with
 * one row per scenario and backend: the headline number, p99 at the load it was measured at, efficiency
 * against the raw driver with its spread, conflicts, the noise verdicts, client-bound rounds and failures.
 * The harness is `eventbench bench`; this script only picks the flags and reads the results back
 * (docs/bench.md, "Every scenario: npm run bench:scenarios").
 *
 *   npm run bench:scenarios [-- --runs 3 --only documents,contention --quick
 *                              --duration 10s --step-duration 2s --out results/bench --pg-url URL --nats-url URL]
 *
 * A scenario that fails (a backend failed, a threshold broke, it ran past its time budget) is recorded and
 * the next one runs; the script exits 1 at the end if any failed, 130 when interrupted.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError } from '../src/core/event-store.ts';
import { fmtCount } from '../src/report/format.ts';
import { loadResultSchema, type BackendResult, type LoadResult, type Spread } from '../src/report/load-result.ts';
import { prepareOutDir } from '../src/report/out-dir.ts';
import { environmentRows, fmtMs as ms } from '../src/report/tables.ts';
import { parseRuns } from '../src/runners/bench/rounds.ts';
import { benchScenarioNames, loadBenchScenario, scenarioFlags, type BenchScenario } from '../src/runners/bench/scenario-catalog.ts';
import { spread } from '../src/runners/bench/stats.ts';
import { formatDuration, parseDuration } from '../src/runners/load/parse.ts';
import { runCli, serverArgs } from './append-efficiency.ts';

export interface Plan {
  scenarios: BenchScenario[];
  runs: number;
  quick: boolean;
  /** Overrides applied to every scenario (null: the scenario's own). */
  duration: string | null;
  stepDuration: string | null;
  out: string;
  server: string[];
}

/** Bad input: one line, exit 2, before anything runs. */
export function planFromArgs(argv: string[]): Plan {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        runs: { type: 'string', default: '3' },
        only: { type: 'string' },
        quick: { type: 'boolean', default: false },
        duration: { type: 'string' },
        'step-duration': { type: 'string' },
        out: { type: 'string', default: 'results/bench' },
        'pg-url': { type: 'string', default: process.env.PG_URL || undefined },
        'nats-url': { type: 'string', default: process.env.NATS_URL || undefined },
        'pg-bin': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message.split('\n')[0]} (flags: --runs N --only a,b --quick --duration T --step-duration T --out DIR --pg-url URL --nats-url URL --pg-bin SRC)`);
  }
  const available = benchScenarioNames();
  const names = values.only === undefined ? available : values.only.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new ConfigError(`--only: no scenario named; available: ${available.join(', ')}`);
  for (const n of names) if (!available.includes(n)) throw new ConfigError(`--only: unknown scenario ${JSON.stringify(n)}; available: ${available.join(', ')}`);
  if (new Set(names).size !== names.length) throw new ConfigError(`--only names a scenario twice: ${names.join(',')}`);
  if (values.duration !== undefined) parseDuration(values.duration, '--duration');
  if (values['step-duration'] !== undefined) parseDuration(values['step-duration'], '--step-duration');
  return {
    scenarios: names.map((n) => loadBenchScenario(n)),
    runs: parseRuns(values.runs),
    quick: values.quick,
    duration: values.duration ?? null,
    stepDuration: values['step-duration'] ?? null,
    out: values.out,
    server: serverArgs(values),
  };
}

/** The `eventbench bench` flags of one scenario under the plan (the override only where it applies). */
export function benchArgs(plan: Plan, s: BenchScenario, dir: string): string[] {
  const isMax = scenarioFlags(s, plan.quick).executor === 'max';
  return [
    '--scenario', s.name,
    ...(plan.quick ? ['--quick'] : []),
    '--runs', String(plan.runs),
    ...(plan.duration !== null ? ['--duration', plan.duration] : []),
    // --step-duration belongs to the max executor: the other scenarios would refuse it.
    ...(plan.stepDuration !== null && isMax ? ['--step-duration', plan.stepDuration] : []),
    ...plan.server,
    '--out', dir,
  ];
}

/**
 * What one scenario should take: per run, each backend and its raw driver (4 rounds of warm-up + duration,
 * ~5 s each of opening, draining and reading back), plus ~10 s of server start. An estimate for the plan
 * line; three times it (and 2 minutes) is the budget after which the bench is interrupted.
 */
export function plannedMs(plan: Plan, s: BenchScenario): number {
  const f = scenarioFlags(s, plan.quick);
  const duration = parseDuration(plan.duration ?? f.duration ?? '5s');
  const warmup = parseDuration(f.warmup ?? '1s', '--warmup', { allowZero: true });
  const rounds = s.backends.length * 2;
  return 10_000 + plan.runs * rounds * (warmup + duration + 5_000);
}

export interface ScenarioOutcome {
  scenario: string;
  exitCode: number;
  seconds: number;
  timedOut: boolean;
  /** Read from `<scenario>/result.json`; null when there is none or it does not validate. */
  result: LoadResult | null;
  dir: string;
}

export interface IndexRow {
  scenario: string;
  backend: string;
  headline: string;
  p99: string;
  efficiency: string;
  contention: string;
  noise: string;
  clientBound: string;
  failure: string;
}

const fmtSpread = (s: Spread, f: (v: number) => string): string => (s.values.length > 1 ? `${f(s.median)} [${f(s.min)}-${f(s.max)}]` : f(s.median));
const ratio = (v: number): string => `${v.toFixed(2)}x`;
const rate = (v: number): string => `${fmtCount(Math.round(v))}/s`;
const spreadOf = (values: (number | null | undefined)[]): Spread | null => {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length > 0 ? spread(v) : null;
};

/** One backend's rows of a bench result: its measured rounds (not the raw driver's, not --latency-at). */
function roundsOf(result: LoadResult, backend: string): BackendResult[] {
  return result.backends.filter((b) => b.backend === backend && b.baselineOf === null && b.latencyAt === null && b.error === null);
}

/** The load a p99 was measured at, in words. */
function loadWords(result: LoadResult): string {
  const s = result.scenario;
  if (s.executor === 'constant') return `at ${rate(s.rate ?? 0)}`;
  if (s.executor === 'closed') return `at ${s.writers} closed-loop writers`;
  if (s.executor === 'max') return `at the search's chosen step (${s.slo})`;
  return 'over the ramp';
}

/** The index rows of one scenario: one per backend it ran (or one failure row when nothing was read). */
export function indexRows(o: ScenarioOutcome): IndexRow[] {
  const failure = o.timedOut ? `timed out after ${Math.round(o.seconds)} s (exit ${o.exitCode})` : o.exitCode === 0 ? '' : `exit ${o.exitCode}${o.exitCode === 99 ? ' (a threshold broke)' : o.exitCode === 130 ? ' (interrupted)' : ''}`;
  const r = o.result;
  if (!r) return [{ scenario: o.scenario, backend: '-', headline: 'n/a', p99: 'n/a', efficiency: 'n/a', contention: 'n/a', noise: 'n/a', clientBound: 'n/a', failure: failure || 'no result.json written' }];
  const backends = r.scenario.backends;
  const metric = (name: string) => r.bench?.metrics.find((m) => m.metric === name);
  return backends.map((backend) => {
    const rounds = roundsOf(r, backend);
    const failed = r.backends.filter((b) => (b.backend === backend || b.baselineOf === backend) && b.error !== null);
    const rowFailure = [failure, ...failed.map((b) => `${b.backend} run ${b.run}: ${b.error}`)].filter(Boolean).join('; ');
    if (rounds.length === 0) return { scenario: o.scenario, backend, headline: 'n/a', p99: 'n/a', efficiency: 'n/a', contention: 'n/a', noise: 'n/a', clientBound: 'n/a', failure: rowFailure || 'no measured round' };

    let headline: string;
    let headlineMetric = 'throughput';
    const replay = spreadOf(rounds.map((b) => b.replay?.seconds));
    const pipeline = spreadOf(rounds.map((b) => b.pipeline?.casesPerSec));
    const tp = metric('throughput')?.stores[backend] ?? spreadOf(rounds.map((b) => b.throughput.eventsPerSec))!;
    if (replay && rounds[0]!.replay) {
      const eps = spreadOf(rounds.map((b) => b.replay?.eventsPerSec))!;
      headline = `${rounds[0]!.replay.kind}: ${fmtCount(rounds[0]!.replay.events)} events in ${fmtSpread(replay, (v) => `${v.toFixed(2)} s`)} (${fmtSpread(eps, rate)})`;
      headlineMetric = 'replay';
    } else if (pipeline) {
      // No ratio to the pipeline's ceiling here: the ceiling needs the raw append and consume rates of
      // drivers running alone, and this scenario's raw rounds run the case processors next to the load
      // (their max under the SLO is the processors' and the load thread's limit, not the driver's; cases
      // completed per second can exceed a quarter of it). npm run bench:cases measures that ratio.
      const bound = ' (ratio to the ceiling: npm run bench:cases)';
      const p99 = spreadOf(rounds.map((b) => (b.pipeline && b.pipeline.latency.count > 0 ? b.pipeline.latency.p99 : null)));
      headline = `${fmtSpread(pipeline, (v) => v.toFixed(1))} cases/s${bound}${p99 ? `, intake -> completed p99 ${fmtSpread(p99, ms)} ms` : ''}; max under SLO ${fmtSpread(tp, rate)}`;
    } else if (r.scenario.executor === 'max') {
      const lower = rounds.some((b) => b.maxSearch && !b.maxSearch.limitFound);
      headline = `max under ${r.scenario.slo}: ${lower ? ">= " : ""}${fmtSpread(tp, (v) => fmtCount(Math.round(v)))} events/s${lower ? ' (a lower bound: no step failed)' : ''}`;
    } else {
      headline = `${fmtSpread(tp, (v) => fmtCount(Math.round(v)))} events/s ${loadWords(r)}`;
    }

    const latencyAt = r.bench?.latencyAt.find((l) => l.stores[backend]);
    const p99Stat = metric('p99')?.stores[backend] ?? spreadOf(rounds.map((b) => b.latency.p99));
    const p99 = latencyAt
      ? `${fmtSpread(latencyAt.stores[backend]!.p99, ms)} ms at ${Math.round(latencyAt.fraction * 100)} % of max (${rate(latencyAt.stores[backend]!.rate.median)})`
      : p99Stat
        ? `${fmtSpread(p99Stat, ms)} ms ${loadWords(r)}`
        : 'n/a';

    const e = r.bench?.efficiency.find((x) => x.backend === backend);
    const efficiency = !e
      ? r.bench?.baseline === false
        ? 'no baseline'
        : 'n/a'
      : headlineMetric === 'replay' && e.replay
        ? `replay ${fmtSpread(e.replay, ratio)} vs ${e.baseline}`
        : `${e.of} ${fmtSpread(e.value, ratio)} vs ${e.baseline}`;

    // Every conflict the server answered: counted as an error, or (with --retries) retried first.
    const attempts = rounds.reduce((n, b) => n + b.totals.sent + (b.retries?.retries ?? 0), 0);
    const conflicts = rounds.reduce((n, b) => n + b.errors.conflict + (b.retries?.retries ?? 0), 0);
    const retries = rounds.map((b) => b.retries).filter((x): x is NonNullable<BackendResult['retries']> => !!x);
    const contention =
      conflicts === 0 && retries.length === 0
        ? '-'
        : [
            `conflict rate ${attempts > 0 ? ((100 * conflicts) / attempts).toFixed(2) : '0'} % of attempts`,
            ...(retries.length > 0
              ? [
                  `retries/success ${fmtSpread(spread(retries.map((x) => x.retriesPerSuccess)), (v) => v.toFixed(2))}`,
                  `retried ${fmtSpread(spread(retries.map((x) => 100 * x.retriedShare)), (v) => `${v.toFixed(1)} %`)}`,
                  ...(retries.some((x) => x.retriedLatency.count > 0) ? [`retried p99 ${fmtSpread(spread(retries.map((x) => x.retriedLatency.p99)), ms)} ms`] : []),
                  `given up ${fmtCount(retries.reduce((n, x) => n + x.abandoned, 0))} (limit ${retries[0]!.limit})`,
                ]
              : []),
          ].join(', ');

    const verdicts = ['throughput', 'p99']
      .map((m) => [m, metric(m)?.verdict] as const)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([m, v]) => `${m}: ${v === 'noise' ? 'noise' : `${v} better`}`);
    const noise = verdicts.length > 0 ? verdicts.join('; ') : r.bench && r.bench.runs < 2 ? 'one run: no spread' : '-';

    const bound = rounds.filter((b) => b.clientBound?.bound);
    const clientBound = bound.length === 0 ? 'no' : `${bound.length} of ${rounds.length} runs: ${bound[0]!.clientBound!.reason}`;
    return { scenario: o.scenario, backend, headline, p99, efficiency, contention, noise, clientBound, failure: rowFailure || '-' };
  });
}

const cell = (c: string): string => c.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The index README.md. */
export function renderIndex(plan: Plan, stamp: string, outcomes: ScenarioOutcome[]): string {
  const rows = outcomes.flatMap(indexRows);
  const env = outcomes.find((o) => o.result)?.result?.environment;
  const overrides = [
    ...(plan.quick ? ['--quick (each scenario\'s short variant)'] : []),
    ...(plan.duration !== null ? [`--duration ${plan.duration} for every scenario`] : []),
    ...(plan.stepDuration !== null ? [`--step-duration ${plan.stepDuration} for every max search`] : []),
  ];
  const failed = outcomes.filter((o) => o.exitCode !== 0);
  return [
    `# Bench scenarios (${stamp})`,
    '',
    `Every scenario of \`scenarios/bench/\` through \`eventbench bench\` (each backend and its raw driver, rounds alternating), ${plan.runs} run${plan.runs > 1 ? 's' : ''} each; numbers are median [min-max] over the runs. Each scenario's full result (every round, the environment, report.html) is in \`${stamp}/<scenario>/\`.`,
    '',
    overrides.length > 0
      ? `**Durations shortened**: ${overrides.join('; ')}. These are not the scenario files' durations; compare them only with runs shortened the same way.`
      : "Durations: as each scenario file sets them (no override).",
    '',
    `Command: \`npm run bench:scenarios -- --runs ${plan.runs}${plan.quick ? ' --quick' : ''}${plan.duration !== null ? ` --duration ${plan.duration}` : ''}${plan.stepDuration !== null ? ` --step-duration ${plan.stepDuration}` : ''}${plan.scenarios.length < benchScenarioNames().length ? ` --only ${plan.scenarios.map((s) => s.name).join(',')}` : ''}\``,
    '',
    '| scenario | backend | headline | p99 at the stated load | efficiency vs raw | conflicts / retries | noise | client-bound | failure |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${[r.scenario, r.backend, r.headline, r.p99, r.efficiency, r.contention, r.noise, r.clientBound, r.failure].map(cell).join(' | ')} |`),
    '',
    '- efficiency: adapter / raw driver in the same invocation (throughput for max and closed loops, raw p99 / adapter p99 at a fixed rate, read-back events/s for a replay); 1 is as good as the driver alone.',
    '- noise: between the backends, "noise" where their min-max ranges overlap (the difference is inside the run-to-run spread); with one run there is no spread and no verdict.',
    '- client-bound: the load side, not the backend, was the limit in that many runs (the number is then the harness\'s).',
    '',
    '| scenario | exit | wall time | what it ran |',
    '|---|---|---|---|',
    ...outcomes.map((o) => `| ${o.scenario} | ${o.exitCode}${o.timedOut ? ' (timed out)' : ''} | ${Math.round(o.seconds)} s | ${cell(plan.scenarios.find((s) => s.name === o.scenario)?.description ?? '')} |`),
    '',
    failed.length > 0 ? `**${failed.length} of ${outcomes.length} scenarios failed**: ${failed.map((o) => o.scenario).join(', ')}.` : `All ${outcomes.length} scenarios ran.`,
    '',
    '## Environment',
    '',
    ...(env ? ['| what | value |', '|---|---|', ...environmentRows(env).map((r) => `| ${r.map(cell).join(' | ')} |`)] : ['No scenario wrote a result: no environment recorded.']),
    '',
  ].join('\n');
}

function readResult(dir: string): LoadResult | null {
  try {
    return loadResultSchema.parse(JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')));
  } catch {
    return null;
  }
}

export async function runScenarios(plan: Plan): Promise<number> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = prepareOutDir(join(plan.out, stamp));
  const outcomes: ScenarioOutcome[] = [];
  const total = plan.scenarios.reduce((a, s) => a + plannedMs(plan, s), 0);
  process.stderr.write(`bench:scenarios: ${plan.scenarios.length} scenarios x ${plan.runs} run(s) into ${out.path}, planned ~${formatDuration(Math.round(total / 1000) * 1000)}\n`);
  let interrupted = false;
  try {
    for (const s of plan.scenarios) {
      const dir = join(out.path, s.name);
      const budget = 3 * plannedMs(plan, s) + 120_000;
      process.stderr.write(`\n== bench:scenarios: ${s.name} (${s.description})\n`);
      const t0 = Date.now();
      const code = await runCli(benchArgs(plan, s, dir), { timeoutMs: budget });
      const seconds = (Date.now() - t0) / 1000;
      outcomes.push({ scenario: s.name, exitCode: code, seconds, timedOut: seconds * 1000 >= budget, result: readResult(dir), dir });
      if ((code === 130 || code === 143) && seconds * 1000 < budget) {
        interrupted = true; // Ctrl-C: what ran is still indexed
        break;
      }
    }
    const text = renderIndex(plan, stamp, outcomes);
    writeFileSync(join(out.path, 'README.md'), text);
    writeFileSync(
      join(out.path, 'index.json'),
      `${JSON.stringify({ stamp, runs: plan.runs, quick: plan.quick, duration: plan.duration, stepDuration: plan.stepDuration, scenarios: outcomes.map((o) => ({ scenario: o.scenario, exitCode: o.exitCode, seconds: Math.round(o.seconds), timedOut: o.timedOut, dir: o.scenario, rows: indexRows(o) })) }, null, 2)}\n`,
    );
    out.keep();
    process.stdout.write(`\n${text}`);
    process.stderr.write(`bench:scenarios: wrote ${join(out.path, 'README.md')}\n`);
  } finally {
    out.release();
  }
  if (interrupted) return 130;
  return outcomes.some((o) => o.exitCode !== 0) ? 1 : 0;
}

// Run as a script (not when a test imports the functions above).
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  try {
    process.exitCode = await runScenarios(planFromArgs(process.argv.slice(2)));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`bench:scenarios: ${err.message}\n`);
    process.exitCode = 2;
  }
}
