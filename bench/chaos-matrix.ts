/**
 * The chaos matrix: every scenario of scenarios/chaos/ x both backends, each with a short load phase
 * (--duration, default 4 s; the fault timeline scales with it), on one pair of managed throwaway servers
 * (process faults need servers eventbench started). Per cell: acked, lost, duplicates, unknown, recovered,
 * time to recover and the verdict; the environment once. Writes results/chaos/<timestamp>.md and .json
 * (--out DIR elsewhere).
 *
 * Bounded: the whole matrix stops at --budget (default 12 min) and then writes what it has and exits 1,
 * as it does when a cell fails to run; a broken expectation is a result (FAIL in its cell), not an error.
 * Ctrl-C: the running cell heals and stops, the partial matrix is written, exit 130.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { captureEnvironment } from '../src/infra/environment.ts';
import { createOwnedDir } from '../src/infra/owned-dir.ts';
import { openServers } from '../src/infra/servers.ts';
import { TOPOLOGIES } from '../src/infra/topology.ts';
import { parseDuration } from '../src/runners/load/parse.ts';
import { runChaos, type ChaosRunResult } from '../src/runners/chaos/run.ts';
import { CHAOS_BACKENDS, loadScenario, scenarioNames, type ChaosBackend } from '../src/runners/chaos/scenario.ts';
import { LIMITATIONS, formatRecovery, verdictLine } from '../src/runners/chaos/summary.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '4s' },
    budget: { type: 'string', default: '12m' },
    out: { type: 'string', default: 'results/chaos' },
    'pg-bin': { type: 'string', default: process.env.EVENTBENCH_PG || 'embedded' },
    scenario: { type: 'string', multiple: true },
  },
});

const durationMs = parseDuration(args.duration, '--duration');
const budgetMs = parseDuration(args.budget, '--budget');
const names = args.scenario?.length ? args.scenario : scenarioNames();
const scenarios = names.map((n) => loadScenario(n)); // a bad file fails here, before any server

interface Cell {
  scenario: string;
  backend: ChaosBackend;
  status: 'pass' | 'fail' | 'skipped' | 'error' | 'interrupted';
  reason?: string;
  acked?: number;
  lost?: number;
  duplicates?: number;
  unknown?: number;
  recovered?: number;
  unprocessed?: number;
  timeToRecover?: string;
  maxTimeToRecoverMs?: number | null;
  broken?: string[];
  seconds?: number;
}

const abort = new AbortController();
let interrupted = false;
const onSignal = () => {
  interrupted = true;
  process.stderr.write('\nchaos-matrix: interrupted, healing and writing the partial matrix\n');
  abort.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
let overBudget = false;
const budget = setTimeout(() => {
  overBudget = true;
  process.stderr.write(`chaos-matrix: over the budget of ${args.budget}: stopping, writing the partial matrix\n`);
  abort.abort();
}, budgetMs);

const started = new Date();
const loadAtStart = loadavg();
const cells: Cell[] = [];
const work = createOwnedDir('eventbench-chaos-matrix-');
let environment: Awaited<ReturnType<typeof captureEnvironment>> | undefined;
/** Per topology (docs/topologies.md) its own managed servers: replicated scenarios need the cluster and the standby. */
const environments: Partial<Record<string, Awaited<ReturnType<typeof captureEnvironment>>>> = {};
try {
  for (const topology of TOPOLOGIES) {
    const group = scenarios.filter((s) => s.topology === topology);
    if (group.length === 0) continue;
    if (abort.signal.aborted) {
      for (const scenario of group) for (const backend of CHAOS_BACKENDS) cells.push({ scenario: scenario.name, backend, status: 'interrupted', reason: overBudget ? 'over budget' : 'Ctrl-C' });
      continue;
    }
    await using servers = await openServers({ infra: 'managed', pgBin: args['pg-bin'], topology, clusterFaultProxies: true }, { postgres: true, nats: true });
    environments[topology] = await captureEnvironment(servers);
    environment ??= environments[topology];
    for (const scenario of group) {
      for (const backend of CHAOS_BACKENDS) {
        if (!scenario.backends.includes(backend)) {
          cells.push({ scenario: scenario.name, backend, status: 'skipped', reason: scenario.skipReason ?? 'not for this backend' });
          continue;
        }
        if (abort.signal.aborted) {
          cells.push({ scenario: scenario.name, backend, status: 'interrupted', reason: overBudget ? 'over budget' : 'Ctrl-C' });
          continue;
        }
        const t0 = performance.now();
        process.stderr.write(`chaos-matrix: ${scenario.name} on ${backend}\n`);
        try {
          const r: ChaosRunResult = await runChaos({ backend, scenario, durationMs, servers, dir: join(work.path, scenario.name, backend), environment, signal: abort.signal });
          const v = r.verdict;
          cells.push({
            scenario: scenario.name,
            backend,
            status: r.interrupted ? 'interrupted' : r.broken.length === 0 ? 'pass' : 'fail',
            acked: v.acked,
            lost: v.lost.count,
            duplicates: v.duplicates.count,
            unknown: v.unknown.count,
            recovered: v.recovered.count,
            unprocessed: v.unprocessed.count,
            timeToRecover: formatRecovery(v),
            maxTimeToRecoverMs: v.maxTimeToRecoverNs === null ? null : Math.round(v.maxTimeToRecoverNs / 1e6),
            broken: r.broken.map((b) => b.message),
            seconds: Math.round((performance.now() - t0) / 100) / 10,
          });
          process.stderr.write(`chaos-matrix:   ${verdictLine(r)}\n`);
        } catch (err) {
          cells.push({ scenario: scenario.name, backend, status: 'error', reason: (err as Error).message, seconds: Math.round((performance.now() - t0) / 100) / 10 });
          process.stderr.write(`chaos-matrix:   ERROR ${(err as Error).message}\n`);
        }
      }
    }
  }
} finally {
  clearTimeout(budget);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await work.remove();
}

const stamp = started.toISOString().replace(/[:.]/g, '-');
mkdirSync(args.out, { recursive: true });
const result = {
  kind: 'chaos-matrix',
  startedAt: started.toISOString(),
  finishedAt: new Date().toISOString(),
  durationMs,
  loadAverage: { atStart: loadAtStart, atEnd: loadavg() },
  interrupted,
  overBudget,
  cells,
  limitations: LIMITATIONS,
  environment,
  /** Each topology's servers (the replicated one: cluster nodes and standby). */
  environments,
};
const jsonPath = join(args.out, `${stamp}.json`);
const mdPath = join(args.out, `${stamp}.md`);
writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
const md = [
  `# Chaos matrix, ${started.toISOString()}`,
  '',
  `Every scenario x backend, load phase ${durationMs / 1000} s each (fault timelines scaled to it), managed servers: ` +
    `PostgreSQL ${environment?.postgres?.version ?? '?'}, nats-server ${environment?.nats?.version ?? '?'}; ` +
    `${environment?.machine.cores ?? '?'} cores, load average ${loadAtStart.map((x) => x.toFixed(2)).join(' / ')} at start, ` +
    `${result.loadAverage.atEnd.map((x) => x.toFixed(2)).join(' / ')} at end; git ${environment?.git?.revision ?? '?'}${environment?.git?.dirty ? ' (dirty)' : ''}.`,
  '',
  '| scenario | backend | acked | lost | duplicates | unknown | recovered | unprocessed | time to recover | verdict |',
  '|---|---|---:|---:|---:|---:|---:|---:|---|---|',
  ...cells.map((c) =>
    c.status === 'skipped' || c.status === 'error' || c.acked === undefined
      ? `| ${c.scenario} | ${c.backend} | | | | | | | | ${c.status}: ${c.reason ?? ''} |`
      : `| ${c.scenario} | ${c.backend} | ${c.acked} | ${c.lost} | ${c.duplicates} | ${c.unknown} | ${c.recovered} | ${c.unprocessed} | ${c.timeToRecover} | ${c.status.toUpperCase()}${c.broken?.length ? `: ${c.broken.join('; ')}` : ''} |`,
  ),
  '',
  `## What this cannot show\n\n${LIMITATIONS}`,
  '',
].join('\n');
writeFileSync(mdPath, md);
process.stdout.write(`${md}\nwritten: ${mdPath}, ${jsonPath}\n`);
const errors = cells.filter((c) => c.status === 'error');
if (interrupted) process.exitCode = 130;
else if (overBudget || errors.length > 0) {
  process.stderr.write(`chaos-matrix: FAILED: ${overBudget ? 'over budget; ' : ''}${errors.length} cell(s) could not run\n`);
  process.exitCode = 1;
}
