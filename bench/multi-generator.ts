/**
 * Two generators merged vs one generator at the same total rate (docs/multi-generator.md), against one
 * managed JetStream: round A runs `eventbench load --rate R` alone; round B runs two `eventbench load
 * --rate R/2 --start-at <instant> --generator-id 0|1` processes at once and `eventbench merge`s them.
 * Rounds alternate the order (A then B, B then A) so a machine that slows down does not favour one side.
 * Keeps, per round, the single result and the merged result (each with its environment; the merged one
 * with both generators') under results/generators/<timestamp>/, and a summary.md reading both.
 * Bounded: --rounds (default 1, at most 5) x 3 processes, each --duration long after --warmup.
 *
 *   npm run bench:generators -- [--rate 10000/s] [--duration 30s] [--warmup 5s] [--rounds 1] [--out DIR]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openServers } from '../src/infra/servers.ts';
import { parseDuration, parseRate } from '../src/runners/load/parse.ts';

const BIN = fileURLToPath(new URL('../bin/eventbench.js', import.meta.url));
/** Two CLI processes on a busy 2-core machine have taken up to 15 s to start (test/merge): the margin. */
const START_MARGIN_MS = 20_000;

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '10000/s' },
    duration: { type: 'string', default: '30s' },
    warmup: { type: 'string', default: '5s' },
    rounds: { type: 'string', default: '1' },
    out: { type: 'string', default: 'results/generators' },
  },
});
const rate = parseRate(args.rate, '--rate');
const durationMs = parseDuration(args.duration, '--duration');
parseDuration(args.warmup, '--warmup', { allowZero: true });
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 5) throw new Error(`--rounds ${args.rounds}: 1 to 5`);

const abort = new AbortController();
process.on('SIGINT', () => abort.abort());
process.on('SIGTERM', () => abort.abort());

function cli(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.PG_URL;
    delete env.NATS_URL;
    const child = spawn(process.execPath, [BIN, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-20_000)));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8_000)));
    const onAbort = () => child.kill('SIGINT');
    abort.signal.addEventListener('abort', onAbort, { once: true });
    // Bounded: the run, its start margin and a minute to drain and write.
    const killer = setTimeout(() => child.kill('SIGKILL'), START_MARGIN_MS + durationMs + parseDuration(args.warmup, '--warmup', { allowZero: true }) + 60_000);
    child.on('close', (code) => {
      clearTimeout(killer);
      abort.signal.removeEventListener('abort', onAbort);
      resolve({ code, stdout, stderr });
    });
  });
}

const started = new Date();
const stamp = started.toISOString().replace(/[:.]/g, '-');
const outDir = join(args.out, stamp);
mkdirSync(outDir, { recursive: true });
const loadAtStart = loadavg();
const rows: { round: number; kind: string; eventsPerSec: number; p50: number; p99: number; p999: number; errors: number; dropped: number; startSpreadMs: number | null; clientBound: boolean | null }[] = [];
const failures: string[] = [];

await using servers = await openServers({ infra: 'managed' }, { postgres: false, nats: true });
const natsUrl = servers.natsUrl!;
const common = (namespace: string) => ['load', '--backend', 'jetstream', '--nats-url', natsUrl, '--namespace', namespace, '--duration', args.duration, '--warmup', args.warmup, '--no-consumer'];

async function single(round: number): Promise<void> {
  const out = join(outDir, `round${round}`, 'single');
  const r = await cli([...common(`gens_single_${round}`), '--rate', `${rate}/s`, '--out', out]);
  if (r.code !== 0) return void failures.push(`round ${round} single: exit ${r.code}: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
  record(round, 'one generator', join(out, 'result.json'));
}

async function two(round: number): Promise<void> {
  const base = join(outDir, `round${round}`);
  const startAt = new Date(Date.now() + START_MARGIN_MS).toISOString();
  const gens = await Promise.all(
    [0, 1].map((id) => cli([...common(`gens_two_${round}`), '--rate', `${rate / 2}/s`, '--run-id', `two${round}`, '--generator-id', String(id), '--start-at', startAt, '--out', join(base, `g${id}`)])),
  );
  const bad = gens.findIndex((g) => g.code !== 0);
  if (bad >= 0) return void failures.push(`round ${round} generator ${bad}: exit ${gens[bad]!.code}: ${gens[bad]!.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
  const m = await cli(['merge', join(base, 'g0', 'result.json'), join(base, 'g1', 'result.json'), '--out', join(base, 'merged')]);
  if (m.code !== 0) return void failures.push(`round ${round} merge: exit ${m.code}: ${m.stderr.trim()}`);
  record(round, 'two generators, merged', join(base, 'merged', 'result.json'));
}

function record(round: number, kind: string, file: string): void {
  const r = JSON.parse(readFileSync(file, 'utf8')) as {
    backends: { throughput: { eventsPerSec: number }; latency: { p50: number; p99: number; p999: number }; errors: { total: number }; dropped: { count: number }; clientBound?: { bound: boolean } | null }[];
    merged?: { startSpreadMs: number | null };
  };
  const b = r.backends[0]!;
  rows.push({ round, kind, eventsPerSec: b.throughput.eventsPerSec, p50: b.latency.p50, p99: b.latency.p99, p999: b.latency.p999, errors: b.errors.total, dropped: b.dropped.count, startSpreadMs: r.merged?.startSpreadMs ?? null, clientBound: b.clientBound?.bound ?? null });
}

for (let round = 1; round <= rounds && !abort.signal.aborted; round++) {
  process.stderr.write(`generators: round ${round} of ${rounds}\n`);
  const order = round % 2 === 1 ? [single, two] : [two, single];
  for (const step of order) if (!abort.signal.aborted) await step(round);
}

const fmt = (x: number | null, digits = 1) => (x === null ? '-' : x.toLocaleString('en-US', { maximumFractionDigits: digits }));
const md = [
  `# Two generators merged vs one generator (${started.toISOString()})`,
  '',
  `One managed nats-server, synthetic workload, ${fmt(rate, 0)}/s in total: one process at ${fmt(rate, 0)}/s, or two at ${fmt(rate / 2, 0)}/s each started at one --start-at instant and merged exactly (eventbench merge). ${args.duration} measured after ${args.warmup} warm-up. Load average at start: ${loadAtStart.map((l) => l.toFixed(2)).join(', ')}.`,
  '',
  '| round | load | events/s | p50 ms | p99 ms | p99.9 ms | errors | dropped | start spread ms | client-bound |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.round} | ${r.kind} | ${fmt(r.eventsPerSec, 0)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.p999, 2)} | ${r.errors} | ${r.dropped} | ${fmt(r.startSpreadMs, 1)} | ${r.clientBound === null ? '-' : r.clientBound ? 'yes' : 'no'} |`),
  '',
  ...(failures.length ? ['Failures:', ...failures.map((f) => `- ${f}`), ''] : []),
  'Each round directory holds the single result, both generators\' results and the merged one (result.json with its environment, summary.md, report.html).',
  '',
].join('\n');
writeFileSync(join(outDir, 'summary.md'), md);
process.stdout.write(md);
process.stderr.write(`generators: wrote ${outDir}\n`);
if (failures.length) process.exitCode = 1;
