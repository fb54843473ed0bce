/**
 * The case pipeline against its ceiling, per backend, in one run (npm run bench:cases [-- --quick]).
 *
 * A case is 4 appends (intake, analysis, decision, completed) and 3 consumed events (each processor's
 * cause), so with the raw driver's append rate A and consume rate C measured here, on the same server,
 * in the same run, the pipeline cannot exceed  ceiling = 1 / (4/A + 3/C)  cases/s. Target: cases
 * completed/s >= 0.25x of it (docs/case-processing.md, "The pipeline at speed").
 *
 * Per backend and round:
 * 1. raw append: the raw-driver baseline (`raw-postgres` / `raw-jetstream`: the adapter's rows or
 *    messages written with `pg` / `js.publish` alone) appends debt-case intakes, each to a new stream with
 *    its expected version, closed loop with --writers-pg / --writers-js writers, for --seconds.
 * 2. raw consume: the same driver reads those events back from position 0 in pages (readAll): a raw
 *    read with no checkpoint and no acknowledgement, so the ceiling it gives is generous.
 * 3. pipeline: --cases intakes appended through the adapter (32 in flight) while the case processors
 *    (--instances competing instances, --concurrency handlers each) run on the same store; cases/s from
 *    the first intake to the last `case.completed`, and intake acknowledged -> completed latency.
 * Rounds alternate the order of the three parts. Raw parts run in a namespace of their own, so the
 * processors never see their events.
 *
 * Results: results/cases/<timestamp>.json and .md with the environment (server versions, fsync,
 * synchronous_commit, JetStream durability, cores, load average at start and end). Server: --pg-url /
 * PG_URL and --nats-url / NATS_URL, else managed throwaway servers. Ends by itself: every phase is
 * bounded in time (--timeout for the pipeline).
 */
import { loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { EventStore } from '../src/core/event-store.ts';
import { captureEnvironment } from '../src/infra/environment.ts';
import { openServers } from '../src/infra/servers.ts';
import { newHistogram, recordMs, summarize, type LatencySummary } from '../src/report/histogram.ts';
import { baselineOf, createStore, type BackendName } from '../src/store/index.ts';
import { CASE_CATEGORY } from '../src/workloads/debt-cases/events.ts';
import { CaseSimulator, intakeAppend } from '../src/workloads/debt-cases/generator.ts';
import { dropNamespace } from './drop-namespace.ts';
import { startCaseProcessors } from '../src/workloads/debt-cases/processors.ts';
import type { PlannedAppend } from '../src/workloads/workload.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    backends: { type: 'string', default: 'postgres,jetstream' },
    cases: { type: 'string' },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    instances: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '32' },
    'writers-pg': { type: 'string', default: '16' },
    'writers-js': { type: 'string', default: '256' },
    timeout: { type: 'string' },
    out: { type: 'string', default: 'results/cases' },
    'pg-url': { type: 'string', default: process.env.PG_URL },
    'nats-url': { type: 'string', default: process.env.NATS_URL },
    'pg-bin': { type: 'string', default: process.env.EVENTBENCH_PG || 'embedded' },
  },
});

const QUICK = args.quick === true;
const CASES = Number(args.cases ?? (QUICK ? 300 : 5000));
const RAW_SECONDS = Number(args.seconds ?? (QUICK ? 1 : 5));
const ROUNDS = Number(args.rounds ?? (QUICK ? 1 : 3));
const INSTANCES = Number(args.instances);
const CONCURRENCY = Number(args.concurrency);
const TIMEOUT_MS = Number(args.timeout ?? (QUICK ? 60 : 120)) * 1000;
const BACKENDS = args.backends!.split(',').map((b) => b.trim()) as BackendName[];
const WRITERS: Record<string, number> = { postgres: Number(args['writers-pg']), jetstream: Number(args['writers-js']) };
const PAGE = 1000;
const TARGET = 0.25;

for (const [name, v] of Object.entries({ cases: CASES, seconds: RAW_SECONDS, rounds: ROUNDS, instances: INSTANCES, concurrency: CONCURRENCY, timeout: TIMEOUT_MS })) {
  if (!Number.isFinite(v) || v <= 0) fail(`--${name} must be a positive number`);
}
for (const b of BACKENDS) if (b !== 'postgres' && b !== 'jetstream') fail(`--backends: ${b} is not postgres or jetstream`);

function fail(message: string): never {
  process.stderr.write(`bench:cases: ${message}\n`);
  process.exit(2);
}

interface RoundResult {
  backend: string;
  round: number;
  rawAppendPerSec: number;
  rawConsumePerSec: number;
  /** 1 / (4/append + 3/consume), cases/s. */
  ceilingCasesPerSec: number;
  cases: number;
  completed: number;
  pipelineSeconds: number;
  casesPerSec: number;
  ratio: number;
  /** Intake acknowledged -> case.completed appended, ms. */
  latency: LatencySummary;
  timedOut: boolean;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

/** Closes a store, waiting at most 10 s (the benchmark must end by itself; a close that hangs is reported). */
async function closeBounded(store: EventStore): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([store.close().then(() => true, () => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), 10_000)))]);
  clearTimeout(timer);
  if (!closed) process.stderr.write('a store did not close within 10 s; going on\n');
}
const intakes = (seed: number, n: number): PlannedAppend[] => {
  const sim = new CaseSimulator({ seed });
  return Array.from({ length: n }, () => intakeAppend(sim.next()));
};

/** Closed loop: `writers` writers append intakes (a new stream each) for `seconds`. Returns appends/s. */
async function rawAppend(raw: EventStore, writers: number, seconds: number, seed: number): Promise<number> {
  const sim = new CaseSimulator({ seed });
  let done = 0;
  const start = performance.now();
  const until = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < until) {
        const a = intakeAppend(sim.next());
        await raw.appendToStream(a.stream, a.events, { expectedVersion: a.expectedVersion });
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

/** Reads the category back from position 0 in pages. Returns events/s. */
async function rawConsume(raw: EventStore): Promise<number> {
  let events = 0;
  const start = performance.now();
  for (let from = 0; ; ) {
    const page = await raw.readAll({ category: CASE_CATEGORY, fromPosition: from, limit: PAGE });
    events += page.length;
    if (page.length < PAGE) break;
    from = page[page.length - 1]!.position;
  }
  return events / ((performance.now() - start) / 1000);
}

/** The processors on `store` while `cases` intakes are appended (32 in flight); until every case completed or the timeout. */
async function pipeline(store: EventStore, prefix: string, seed: number): Promise<Pick<RoundResult, 'cases' | 'completed' | 'pipelineSeconds' | 'casesPerSec' | 'latency' | 'timedOut'>> {
  const planned = intakes(seed, CASES);
  const ackedAt = new Map<string, number>();
  const latency = newHistogram();
  let completed = 0;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const processors = await startCaseProcessors(store, {
    prefix,
    instances: INSTANCES,
    subscription: { concurrency: CONCURRENCY },
    onEffect: (e) => {
      if (e.step !== 'completion' || e.result !== 'applied') return;
      completed++;
      const t0 = ackedAt.get(e.caseId);
      if (t0 !== undefined) recordMs(latency, performance.now() - t0);
      if (completed >= CASES) allDone();
    },
  });
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < planned.length) {
          const a = planned[next++]!;
          await store.appendToStream(a.stream, a.events, { expectedVersion: a.expectedVersion });
          ackedAt.set((a.events[0]!.data as { case_id: string }).case_id, performance.now());
        }
      }),
    );
    const timedOut = await Promise.race([finished.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), TIMEOUT_MS)))]);
    const seconds = (performance.now() - start) / 1000;
    return { cases: CASES, completed, pipelineSeconds: round2(seconds), casesPerSec: round2(completed / seconds), latency: summarize(latency), timedOut };
  } finally {
    clearTimeout(timer);
    await processors.close();
  }
}

async function main(): Promise<void> {
  const loadAtStart = loadavg().map((x) => x.toFixed(2));
  const servers = await openServers(
    { infra: 'auto', pgUrl: args['pg-url'], natsUrl: args['nats-url'], pgBin: args['pg-bin'] },
    { postgres: BACKENDS.includes('postgres'), nats: BACKENDS.includes('jetstream') },
  );
  const results: RoundResult[] = [];
  const stamp = Date.now().toString(36);
  const opened: EventStore[] = [];
  const created: { backend: BackendName; ns: string }[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const backend of BACKENDS) {
        const options = { pgUrl: servers.pgUrl, natsUrl: servers.natsUrl };
        const rawNs = `cases_raw_${stamp}_${round}_${backend.slice(0, 2)}`;
        const pipeNs = `cases_pipe_${stamp}_${round}_${backend.slice(0, 2)}`;
        created.push({ backend, ns: rawNs }, { backend, ns: pipeNs });
        // The adapter first: its init creates the tables / streams the raw driver writes into.
        const seed = 1000 * round + BACKENDS.indexOf(backend);
        const adapterOfRaw = await createStore(backend, { ...options, namespace: rawNs });
        opened.push(adapterOfRaw);
        // One intake through the adapter creates the category's JetStream stream (the raw driver only publishes).
        const first = intakes(seed + 99, 1)[0]!;
        await adapterOfRaw.appendToStream(first.stream, first.events, { expectedVersion: first.expectedVersion });
        const raw = await createStore(baselineOf(backend)!, { ...options, namespace: rawNs });
        opened.push(raw);
        const store = await createStore(backend, { ...options, namespace: pipeNs });
        opened.push(store);
        let append = 0;
        let consume = 0;
        let pipe: Awaited<ReturnType<typeof pipeline>> | undefined;
        // Alternate the order: the machine's noise hits the raw parts and the pipeline alike.
        const parts = [
          async () => {
            process.stderr.write(`${backend} round ${round}: raw append and consume\n`);
            append = await rawAppend(raw, WRITERS[backend]!, RAW_SECONDS, seed);
            consume = await rawConsume(raw);
          },
          async () => {
            process.stderr.write(`${backend} round ${round}: pipeline of ${CASES} cases\n`);
            pipe = await pipeline(store, `bench_${stamp}`, seed + 7);
          },
        ];
        for (const part of round % 2 === 1 ? parts : [...parts].reverse()) await part();
        const ceiling = 1 / (4 / append + 3 / consume);
        const r: RoundResult = {
          backend,
          round,
          rawAppendPerSec: Math.round(append),
          rawConsumePerSec: Math.round(consume),
          ceilingCasesPerSec: Math.round(ceiling),
          ...pipe!,
          ratio: round2(pipe!.casesPerSec / ceiling),
        };
        results.push(r);
        process.stderr.write(
          `${backend} round ${round}: raw append ${r.rawAppendPerSec}/s, raw consume ${r.rawConsumePerSec}/s, ceiling ${r.ceilingCasesPerSec} cases/s; ` +
            `pipeline ${r.completed}/${r.cases} cases in ${r.pipelineSeconds} s = ${r.casesPerSec} cases/s (${r.ratio}x, target ${TARGET}x), p50 ${r.latency.p50} ms p99 ${r.latency.p99} ms\n`,
        );
        for (const s of opened.splice(0)) await closeBounded(s);
      }
    }
    const environment = await captureEnvironment({ pgUrl: servers.pgUrl, natsUrl: servers.natsUrl, ...(servers.postgres ? { postgres: servers.postgres } : {}), ...(servers.nats ? { nats: servers.nats } : {}) });
    const out = {
      benchmark: 'case-pipeline',
      note: `load average (1, 5, 15 min) at start ${loadAtStart.join(' ')}, at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${environment.machine.cores} cores shared by the client and the servers: compare the ratio, not the rates`,
      options: { quick: QUICK, cases: CASES, rawSeconds: RAW_SECONDS, rounds: ROUNDS, instances: INSTANCES, concurrency: CONCURRENCY, writers: WRITERS, page: PAGE },
      ceiling: 'cases/s <= 1 / (4 / raw append rate + 3 / raw consume rate), measured in the same round',
      target: TARGET,
      summary: BACKENDS.map((backend) => summaryOf(backend, results.filter((r) => r.backend === backend))),
      rounds: results,
      environment,
    };
    mkdirSync(args.out!, { recursive: true });
    const base = `${args.out}/${new Date().toISOString().replace(/[:.]/g, '-')}`;
    writeFileSync(`${base}.json`, `${JSON.stringify(out, null, 2)}\n`);
    writeFileSync(`${base}.md`, markdown(out));
    process.stdout.write(markdown(out));
    process.stderr.write(`results: ${base}.json\n`);
  } finally {
    for (const s of opened) await closeBounded(s);
    // Never leave a benchmark's data in someone's server.
    for (const { backend, ns } of created) {
      const managed = backend === 'postgres' ? servers.postgres : servers.nats;
      // Only this backend's side: the other backend's server may share the namespace name.
      if (!managed) await dropNamespace(ns, backend === 'postgres' ? { pgUrl: servers.pgUrl } : { natsUrl: servers.natsUrl }).catch((err) => process.stderr.write(`could not remove ${ns}: ${(err as Error).message}\n`));
    }
    await servers.stop();
  }
}

/** Median of the rounds' ratios (and the rounds' range): a ratio is only quoted from one round's own raw rates. */
function summaryOf(backend: string, rs: RoundResult[]) {
  const sorted = [...rs].sort((a, b) => a.ratio - b.ratio);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return {
    backend,
    medianRound: median.round,
    ratio: median.ratio,
    ratioRange: [sorted[0]!.ratio, sorted[sorted.length - 1]!.ratio],
    casesPerSec: median.casesPerSec,
    ceilingCasesPerSec: median.ceilingCasesPerSec,
    meetsTarget: median.ratio >= TARGET,
    allCompleted: rs.every((r) => !r.timedOut && r.completed === r.cases),
  };
}

function markdown(out: { note: string; options: Record<string, unknown>; summary: ReturnType<typeof summaryOf>[]; rounds: RoundResult[]; environment: Awaited<ReturnType<typeof captureEnvironment>> }): string {
  const e = out.environment;
  const lines = [
    '# Case pipeline vs its ceiling',
    '',
    `${out.note}.`,
    '',
    `Options: ${JSON.stringify(out.options)}. Servers: ${e.postgres ? `PostgreSQL ${e.postgres.version} (fsync=${e.postgres.settings.fsync ?? '?'}, synchronous_commit=${e.postgres.settings.synchronous_commit ?? '?'})` : ''}${e.postgres && e.nats ? '; ' : ''}${e.nats ? `nats-server ${e.nats.version}` : ''}.`,
    '',
    'ceiling = 1 / (4 / raw append rate + 3 / raw consume rate), from the same round; target >= 0.25x.',
    '',
    '| backend | round | raw append/s | raw consume/s | ceiling cases/s | cases | completed | cases/s | ratio | p50 ms | p99 ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...out.rounds.map((r) => `| ${r.backend} | ${r.round} | ${r.rawAppendPerSec} | ${r.rawConsumePerSec} | ${r.ceilingCasesPerSec} | ${r.cases} | ${r.completed}${r.timedOut ? ' (timed out)' : ''} | ${r.casesPerSec} | ${r.ratio}x | ${r.latency.p50} | ${r.latency.p99} |`),
    '',
    ...out.summary.map((s) => `- ${s.backend}: median ratio ${s.ratio}x (rounds ${s.ratioRange[0]}x-${s.ratioRange[1]}x), ${s.casesPerSec} of ${s.ceilingCasesPerSec} cases/s: target ${s.meetsTarget ? 'met' : 'MISSED'}${s.allCompleted ? '' : '; NOT every case completed'}`),
    '',
  ];
  return lines.join('\n');
}

await main();
