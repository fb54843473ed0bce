/**
 * What replication costs (docs/topologies.md): the same workload on the single and the replicated
 * topology, on each backend, through `eventbench bench` as a user runs it (its own managed servers each
 * time: one nats-server vs a 3-node cluster with R3 streams; one PostgreSQL vs a primary with a
 * synchronous standby). Per backend and topology: the closed-loop throughput (--writers writers), the
 * latency at a stated fixed rate (--rate; a latency is never quoted at "as fast as it goes"), and the
 * server CPU per event (every server process of the topology: all three nodes, primary and standby).
 *
 * Rounds alternate the order of the topologies (single first, then replicated first, ...) so a machine
 * that slows down over time does not favour one side; each figure is the median over the rounds.
 * Writes results/replication/<timestamp>.json and .md (--out DIR elsewhere) with every run's environment.
 * Bounded: --rounds (default 2, at most 10) x 2 topologies x 2 phases, each --duration long.
 *
 *   npm run bench:replication -- [--rounds 2] [--duration 20s] [--rate 500/s] [--writers 16] [--out DIR]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { captureEnvironment } from '../src/infra/environment.ts';
import { createOwnedDir } from '../src/infra/owned-dir.ts';
import { TOPOLOGIES, type Topology } from '../src/infra/topology.ts';
import { parseDuration, parseRate } from '../src/runners/load/parse.ts';

const BIN = fileURLToPath(new URL('../bin/eventbench.js', import.meta.url));
const BACKENDS = ['postgres', 'jetstream'] as const;

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    duration: { type: 'string', default: '20s' },
    warmup: { type: 'string', default: '3s' },
    rate: { type: 'string', default: '500/s' },
    writers: { type: 'string', default: '16' },
    out: { type: 'string', default: 'results/replication' },
  },
});
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 10) throw new Error(`--rounds ${args.rounds}: 1 to 10`);
parseDuration(args.duration, '--duration');
parseDuration(args.warmup, '--warmup');
parseRate(args.rate, '--rate');
const writers = Number(args.writers);
if (!Number.isInteger(writers) || writers < 1 || writers > 256) throw new Error(`--writers ${args.writers}: 1 to 256`);

interface Measured {
  eventsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Server CPU seconds (every server process of the topology) per 1,000 events. */
  serverCpuMsPerEvent: number | null;
  clientBound: boolean | null;
}
interface Run {
  round: number;
  topology: Topology;
  phase: 'closed' | 'rate';
  backend: (typeof BACKENDS)[number];
  measured?: Measured;
  error?: string;
  environment?: unknown;
}

const abort = new AbortController();
process.on('SIGINT', () => abort.abort());
process.on('SIGTERM', () => abort.abort());

const started = new Date();
const loadAtStart = loadavg();
const runs: Run[] = [];
const work = createOwnedDir('eventbench-replication-');
try {
  for (let round = 1; round <= rounds && !abort.signal.aborted; round++) {
    const order = round % 2 === 1 ? [...TOPOLOGIES] : [...TOPOLOGIES].reverse();
    for (const topology of order) {
      for (const phase of ['closed', 'rate'] as const) {
        if (abort.signal.aborted) break;
        const out = join(work.path, `${round}-${topology}-${phase}`);
        const load = phase === 'closed' ? ['--executor', 'closed', '--writers', String(writers)] : ['--executor', 'constant', '--rate', args.rate];
        process.stderr.write(`replication: round ${round}, ${topology}, ${phase === 'closed' ? `closed loop, ${writers} writers` : `at ${args.rate}`}\n`);
        const r = await cli(['bench', '--backends', BACKENDS.join(','), '--no-baseline', '--infra', 'managed', '--topology', topology, ...load, '--duration', args.duration, '--warmup', args.warmup, '--out', out]);
        let result: { environment?: unknown; backends?: BackendResult[] } | undefined;
        try {
          result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
        } catch {
          // no result: recorded as an error per backend below
        }
        for (const backend of BACKENDS) {
          const b = result?.backends?.find((x) => x.backend === backend && !x.baselineOf);
          runs.push(
            b && !b.error
              ? { round, topology, phase, backend, measured: measure(b), environment: result?.environment }
              : { round, topology, phase, backend, error: b?.error ?? `eventbench bench exited ${r.code}: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}` },
          );
        }
      }
    }
  }
} finally {
  await work.remove();
}

interface BackendResult {
  backend: string;
  baselineOf?: string;
  error?: string;
  throughput: { eventsPerSec: number };
  latency: { p50: number; p99: number };
  totals?: { events?: number };
  measuredSeconds?: number;
  clientBound?: boolean;
  resources?: { servers?: { cpuSeconds?: number }[] };
}

function measure(b: BackendResult): Measured {
  const events = b.totals?.events ?? Math.round(b.throughput.eventsPerSec * (b.measuredSeconds ?? 0));
  const cpu = b.resources?.servers?.reduce((s, x) => s + (x.cpuSeconds ?? 0), 0);
  return {
    eventsPerSec: b.throughput.eventsPerSec,
    p50Ms: b.latency.p50,
    p99Ms: b.latency.p99,
    serverCpuMsPerEvent: cpu !== undefined && events > 0 ? Math.round((cpu * 1e6) / events) / 1e3 : null,
    clientBound: b.clientBound ?? null,
  };
}

function cli(argv: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.PG_URL;
    delete env.NATS_URL;
    const child = spawn(process.execPath, [BIN, ...argv], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8_000)));
    const onAbort = () => child.kill('SIGINT');
    abort.signal.addEventListener('abort', onAbort, { once: true });
    child.on('close', (code) => {
      abort.signal.removeEventListener('abort', onAbort);
      resolve({ code, stderr });
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const pick = (backend: string, topology: Topology, phase: Run['phase'], f: (m: Measured) => number | null) =>
  median(runs.filter((r) => r.backend === backend && r.topology === topology && r.phase === phase && r.measured).flatMap((r) => f(r.measured!) ?? []));

const rows = BACKENDS.flatMap((backend) =>
  TOPOLOGIES.map((topology) => ({
    backend,
    topology,
    closedEventsPerSec: pick(backend, topology, 'closed', (m) => m.eventsPerSec),
    closedP99Ms: pick(backend, topology, 'closed', (m) => m.p99Ms),
    serverCpuMsPerEvent: pick(backend, topology, 'closed', (m) => m.serverCpuMsPerEvent),
    rateP50Ms: pick(backend, topology, 'rate', (m) => m.p50Ms),
    rateP99Ms: pick(backend, topology, 'rate', (m) => m.p99Ms),
  })),
);
const costs = BACKENDS.map((backend) => {
  const [single, replicated] = TOPOLOGIES.map((t) => rows.find((r) => r.backend === backend && r.topology === t)!);
  const ratio = (a: number | null | undefined, b: number | null | undefined) => (a && b ? Math.round((b / a) * 100) / 100 : null);
  return {
    backend,
    throughputRatio: ratio(single!.closedEventsPerSec, replicated!.closedEventsPerSec),
    p99AtRateRatio: ratio(single!.rateP99Ms, replicated!.rateP99Ms),
    cpuPerEventRatio: ratio(single!.serverCpuMsPerEvent, replicated!.serverCpuMsPerEvent),
  };
});

const stamp = started.toISOString().replace(/[:.]/g, '-');
mkdirSync(args.out, { recursive: true });
const result = {
  kind: 'replication',
  startedAt: started.toISOString(),
  finishedAt: new Date().toISOString(),
  interrupted: abort.signal.aborted,
  settings: { rounds, duration: args.duration, warmup: args.warmup, rate: args.rate, writers },
  loadAverage: { atStart: loadAtStart, atEnd: loadavg() },
  rows,
  costs,
  runs,
  environment: await captureEnvironment({}),
};
writeFileSync(join(args.out, `${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
const fmt = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? '-' : x.toLocaleString('en-US', { maximumFractionDigits: digits }));
const md = [
  `# What replication costs (${started.toISOString()})`,
  '',
  `Single: one nats-server, one PostgreSQL. Replicated: 3-node JetStream cluster, R3 streams; PostgreSQL primary + synchronous standby (synchronous_commit=on). Medians of ${rounds} round(s), topologies alternating; closed loop with ${writers} writers; latency at ${args.rate}; ${args.duration} measured after ${args.warmup} warm-up. Server CPU counts every server process of the topology.`,
  '',
  '| backend | topology | closed events/s | closed p99 ms | server CPU ms/event | p50 ms at rate | p99 ms at rate |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.backend} | ${r.topology} | ${fmt(r.closedEventsPerSec, 0)} | ${fmt(r.closedP99Ms)} | ${fmt(r.serverCpuMsPerEvent, 3)} | ${fmt(r.rateP50Ms)} | ${fmt(r.rateP99Ms)} |`),
  '',
  '| backend | replicated / single: throughput | p99 at rate | CPU per event |',
  '|---|---|---|---|',
  ...costs.map((c) => `| ${c.backend} | ${fmt(c.throughputRatio, 2)} | ${fmt(c.p99AtRateRatio, 2)} | ${fmt(c.cpuPerEventRatio, 2)} |`),
  '',
  ...runs.filter((r) => r.error).map((r) => `- round ${r.round} ${r.topology} ${r.phase} ${r.backend}: ERROR ${r.error}`),
  `Load average at start ${loadAtStart.map((x) => x.toFixed(2)).join(' ')}, at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}${abort.signal.aborted ? '; INTERRUPTED (partial)' : ''}.`,
  '',
].join('\n');
writeFileSync(join(args.out, `${stamp}.md`), md);
process.stdout.write(`${md}\nwrote ${join(args.out, `${stamp}.json`)} and .md\n`);
process.exitCode = abort.signal.aborted ? 130 : runs.some((r) => r.error) ? 1 : 0;
