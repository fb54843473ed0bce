/**
 * The adapter-against-raw-driver benchmarks (`npm run bench:postgres`, `npm run bench:jetstream`) as runs
 * of `eventbench bench`: the one harness (executors, HdrHistogram recorder, rounds alternating adapter
 * and raw driver, efficiency) measures every part, and this module only chooses the flags of each part,
 * runs the CLI once per part, and puts the ratios it reported next to their targets (docs/bench.md,
 * "The append benchmarks"). Each part's full output (result.json, summary.md, report.html, with the
 * environment) stays in its own directory; `<stamp>.json` / `.md` sum them up.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmtCount } from '../src/report/format.ts';
import { loadResultSchema, type LoadResult } from '../src/report/load-result.ts';
import { prepareOutDir } from '../src/report/out-dir.ts';
import { spread } from '../src/runners/bench/stats.ts';

const BIN = fileURLToPath(new URL('../bin/eventbench.js', import.meta.url));

export interface AppendPart {
  /** Directory name and row label, e.g. `single`. */
  name: string;
  /** What the part measures, in words, for the summary. */
  what: string;
  /** Which ratio of the bench's efficiency is this part's: throughput of the load, or events/s of the replay. */
  ratio: 'throughput' | 'replay';
  target: number;
  /** `eventbench bench` flags of the part (backend, executor, sizes, durations). */
  args: string[];
}

export interface PartOutcome {
  name: string;
  what: string;
  target: number;
  exitCode: number;
  dir: string;
  adapterPerSec: number | null;
  rawPerSec: number | null;
  /** Adapter / raw over the runs (median, min-max); null when the part did not produce it. */
  ratio: { median: number; min: number; max: number; values: number[] } | null;
  meetsTarget: boolean | null;
}

/**
 * Runs `eventbench bench` as a child; Ctrl-C / SIGTERM reach it (it writes partial results and exits).
 * With `timeoutMs`, a child still running then is interrupted as Ctrl-C would (it writes what it has),
 * and killed 30 s later if it has not ended: a wrapper that waits forever is worse than a failed part.
 */
export function runCli(args: string[], options: { timeoutMs?: number; stdout?: 'inherit' | 'ignore' } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'bench', ...args], { stdio: ['ignore', options.stdout ?? 'inherit', 'inherit'] });
    const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    let kill: NodeJS.Timeout | undefined;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            process.stderr.write(`eventbench: bench still running after ${Math.round(options.timeoutMs! / 1000)} s: interrupting it\n`);
            child.kill('SIGINT');
            kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
          }, options.timeoutMs);
    const done = (): void => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      clearTimeout(timer);
      clearTimeout(kill);
    };
    child.once('error', (err) => {
      done();
      reject(err);
    });
    child.once('exit', (code, signal) => {
      done();
      resolve(code ?? (signal ? 128 + 2 : 1));
    });
  });
}

/** Median events/s of a store's rounds: of the load, or of its replay. */
function perSec(result: LoadResult, pick: (b: LoadResult['backends'][number]) => boolean, ratio: AppendPart['ratio']): number | null {
  const values = result.backends.filter(pick).map((b) => (ratio === 'replay' ? (b.replay?.eventsPerSec ?? 0) : b.throughput.eventsPerSec));
  return values.length > 0 ? spread(values).median : null;
}

function outcomeOf(part: AppendPart, backend: string, dir: string, exitCode: number): PartOutcome {
  const base = { name: part.name, what: part.what, target: part.target, exitCode, dir };
  let result: LoadResult;
  try {
    result = loadResultSchema.parse(JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')));
  } catch {
    return { ...base, adapterPerSec: null, rawPerSec: null, ratio: null, meetsTarget: null };
  }
  const e = result.bench?.efficiency.find((x) => x.backend === backend);
  const ratio = (part.ratio === 'replay' ? e?.replay : e?.throughput) ?? null;
  return {
    ...base,
    adapterPerSec: perSec(result, (b) => b.backend === backend, part.ratio),
    rawPerSec: perSec(result, (b) => b.baselineOf === backend, part.ratio),
    ratio,
    meetsTarget: ratio ? ratio.median >= part.target : null,
  };
}

/**
 * Runs the parts one after the other (servers: `server` flags, passed to every part), writes
 * `<out>/<stamp>/<part>/` per part and `<out>/<stamp>.json` / `.md`. Returns the exit code: 0 when
 * every part ran (a ratio below its target is a finding, not a failure), else the first part's failure.
 */
export async function runAppendBenchmark(options: { title: string; backend: string; out: string; parts: AppendPart[]; server: string[]; notes: string[] }): Promise<number> {
  const out = prepareOutDir(options.out);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  // A namespace per part (each round then gets its own inside it): the replay reads its part's events only.
  const namespace = `${options.backend.slice(0, 8)}bench_${Date.now().toString(36)}`;
  const outcomes: PartOutcome[] = [];
  try {
    for (const part of options.parts) {
      const dir = join(out.path, stamp, part.name);
      process.stderr.write(`\n== ${options.title}: ${part.name} (${part.what})\n`);
      const code = await runCli([...part.args, ...options.server, '--namespace', `${namespace}_${part.name}`, '--out', dir]);
      outcomes.push(outcomeOf(part, options.backend, dir, code));
      if (code === 130 || code === 143) break; // interrupted: what ran is still summed up
    }
    const summary = { benchmark: options.title, backend: options.backend, stamp, notes: options.notes, parts: outcomes.map((o) => ({ ...o, dir: `${stamp}/${o.name}` })) };
    const json = join(out.path, `${stamp}.json`);
    const md = join(out.path, `${stamp}.md`);
    writeFileSync(json, `${JSON.stringify(summary, null, 2)}\n`);
    writeFileSync(md, renderMarkdown(options.title, options.backend, stamp, outcomes, options.notes));
    out.keep();
    process.stdout.write(`\n${renderMarkdown(options.title, options.backend, stamp, outcomes, options.notes)}`);
    process.stderr.write(`wrote ${json} and ${md}\n`);
  } finally {
    out.release();
  }
  return outcomes.find((o) => o.exitCode !== 0)?.exitCode ?? 0;
}

function renderMarkdown(title: string, backend: string, stamp: string, outcomes: PartOutcome[], notes: string[]): string {
  const rate = (v: number | null): string => (v === null ? 'n/a' : `${fmtCount(v)}/s`);
  const lines = [
    `# ${title} (${stamp})`,
    '',
    `${backend} adapter against its raw driver, measured by \`eventbench bench\` in one invocation per part, rounds alternating; ratio = adapter / raw events/s, median [min-max] over the runs. Each part's result.json (environment, every round) is in \`${stamp}/<part>/\`.`,
    '',
    '| part | adapter | raw | ratio | target | |',
    '|---|---|---|---|---|---|',
    ...outcomes.map((o) => {
      const ratio = o.ratio ? `${o.ratio.median.toFixed(2)}x [${o.ratio.min.toFixed(2)}-${o.ratio.max.toFixed(2)}]` : 'n/a';
      const verdict = o.exitCode !== 0 ? `exit ${o.exitCode}` : o.meetsTarget === null ? 'no ratio' : o.meetsTarget ? 'meets' : 'below';
      return `| ${o.name}: ${o.what} | ${rate(o.adapterPerSec)} | ${rate(o.rawPerSec)} | ${ratio} | >= ${o.target} | ${verdict} |`;
    }),
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ];
  return lines.join('\n');
}

/** `--pg-url` / `--nats-url` and `--pg-bin` as given to the script (or PG_URL / NATS_URL), for every part. */
export function serverArgs(values: { 'pg-url'?: string; 'nats-url'?: string; 'pg-bin'?: string }): string[] {
  return [
    ...(values['pg-url'] ? ['--pg-url', values['pg-url']] : []),
    ...(values['nats-url'] ? ['--nats-url', values['nats-url']] : []),
    ...(values['pg-bin'] ? ['--pg-bin', values['pg-bin']] : []),
  ];
}

/** The replay part's load: `events` in appends of `batch` at `rate` appends/s, as many whole seconds as that takes. */
export function replayLoad(events: number, batch: number, rate: number): string[] {
  const seconds = Math.max(1, Math.ceil(events / (batch * rate)));
  return ['--executor', 'constant', '--rate', `${rate}/s`, '--batch', String(batch), '--duration', `${seconds}s`, '--warmup', '0s', '--replay', 'catch-up'];
}
