/**
 * Generation + serialisation alone (npm run bench:generate): how fast one core produces each workload's
 * events and serialises them to JSON, with no store in the way. Each workload is measured twice: with
 * plain `JSON.stringify` (the generator's own cost) and with `toJson` as every adapter's prepareAppend
 * runs it (src/core/validate.ts; its replacer checks every value, which costs extra). The harness must stay far faster than
 * the fastest backend: the target is >= 10x the fastest append rate measured on this machine.
 *
 * Rounds alternate between workloads (the machine is shared with other engineers' tests, so noise hits
 * every workload alike); the median round is reported. A calibration loop (JSON.stringify of a fixed
 * ~1 kB object) runs in every round, so a reader can see how loaded the machine was.
 *
 * Rows marked `[JSON.stringify alone]` serialise events generated beforehand: the ceiling of generation
 * + serialisation for that workload on this core (for the ~1.7 kB debt-case intake, JSON.stringify alone
 * is ~5 us on this machine, so its ratio to a same-run JetStream reference cannot exceed that row's).
 *
 * The target (docs/workloads.md, "Generation target"): per workload, generation + serialisation runs at
 * >= 0.7x of JSON.stringify alone of the same workload's events, i.e. generating an event costs at most
 * ~0.43x of serialising it. The `ceiling` table prints that ratio per workload; below 0.7 the generator,
 * not serialisation, is what limits a load side (the run's client-bound flag then says so; `--pregenerate`
 * takes generation out of the measurement). The older ">= 10x the fastest backend" columns stay for scale.
 *
 * Rows marked `[generation alone]` run the generator with nothing after it: next to the budget the target
 * leaves generation (stringify alone x (1/0.7 - 1)), they show which workloads no serialisation shortcut
 * can bring to the target.
 *
 * `debt-cases (lifecycle)` is the whole case: the intake from the simulator plus the analysis, decision
 * and completion events the processors would append (risk model, rules engine, deterministic ids),
 * i.e. the 4 events per case that `generate --process` stores.
 *
 * Results: results/generate/<timestamp>.json and .md, with the environment.
 */
import { loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { captureEnvironment } from '../src/infra/environment.ts';
import { openServers } from '../src/infra/servers.ts';
import { toJson } from '../src/core/validate.ts';
import { WORKLOAD_NAMES, workloads } from '../src/workloads/index.ts';
import { CaseSimulator } from '../src/workloads/debt-cases/generator.ts';
import { analyse } from '../src/workloads/debt-cases/risk-model.ts';
import { decide, DEFAULT_RULES } from '../src/workloads/debt-cases/rules.ts';
import { deriveId } from '../src/workloads/ids.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1' }, // per workload per round
    rounds: { type: 'string', default: '5' },
    // The fastest backend append rate to compare with (events/s). Default: docs/design.md's raw JetStream,
    // pipelined publish from one Node process (~1 kB events, 256 acks outstanding), measured on this
    // kind of machine: 24,700/s. The Go client reaches 55,000-57,000/s (the server's own limit here).
    reference: { type: 'string', default: '24700' },
    // Also measure raw JetStream pipelined publish IN THIS RUN (interleaved with the generation rounds),
    // on NATS_URL or a managed nats-server: the same-run ratio is the one that counts on a shared machine.
    'no-nats': { type: 'boolean', default: false },
    'nats-url': { type: 'string', default: process.env.NATS_URL },
    out: { type: 'string', default: 'results/generate' },
  },
});
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const REFERENCE = Number(args.reference);
const GO_REFERENCE = 57_000;

interface Sample {
  events: number;
  bytes: number;
  seconds: number;
}

/** Runs `step` (returns events and bytes produced) for `SECONDS`, checking the clock every 64 steps. */
function timed(step: () => [number, number]): Sample {
  let events = 0;
  let bytes = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 64; i++) {
      const [e, b] = step();
      events += e;
      bytes += b;
    }
    now = performance.now();
  }
  return { events, bytes, seconds: (now - start) / 1000 };
}

/**
 * The ceiling: serialisation alone of events generated beforehand, each serialised exactly once, as
 * `--pregenerate` does. Small chunks of CHUNK appends are generated off the clock and serialised on it at
 * once (so they are as fresh and as cache-hot as in the generated rows), until SECONDS of serialisation
 * have been timed: the serialisation share of the generated rows, measured directly. Until 2026-12-04
 * this re-serialised a fixed set of 4096 appends: strings V8 had already flattened, 1.3-3x faster than
 * serialising new events, a ceiling no load side reaches. Chunks of 8192 err the other way (cache misses
 * the generated rows do not have: ratios above 1).
 */
const CHUNK = 64;
function timedFresh(generate: () => Serialisable[][], serialise: Serialise): Sample {
  let events = 0;
  let bytes = 0;
  let spent = 0;
  for (let chunks = 0; spent < SECONDS * 1000 && chunks < 1_000_000; chunks++) {
    const batch = generate();
    const start = performance.now();
    for (const evs of batch) for (const e of evs) bytes += serialise(e);
    spent += performance.now() - start;
    for (const evs of batch) events += evs.length;
  }
  return { events, bytes, seconds: spent / 1000 };
}

type Serialise = (e: { data: unknown; metadata?: Record<string, unknown> }) => number;
/**
 * Plain JSON of the whole event: envelope (id, type, timestamp, correlation and causation ids, ...), data
 * and metadata, as a publisher that sends the envelope as JSON does. The generator builds all of these
 * fields, so the serialisation it is compared with covers all of them too (until 2026-12-04 this
 * serialised data and metadata only, which charged the envelope's generation but not its serialisation).
 * String lengths stand in for bytes.
 */
const plain: Serialise = (e) => JSON.stringify(e).length;
/** What prepareAppend (src/core/validate.ts) does per event in every adapter: toJson, with its replacer. */
const adapter: Serialise = (e) => toJson(e.data === undefined ? null : e.data, 'data').length + toJson(e.metadata ?? {}, 'metadata').length;

type Case = () => () => [number, number];

const cases: Record<string, Case> = {};
type Serialisable = Parameters<Serialise>[0];
/** One whole case: the intake and the three events the processors derive from it, with their ids. */
const caseLifecycle = (sim: CaseSimulator): Serialisable[] => {
  const c = sim.next();
  const intake = c.intake;
  const analysis = analyse(intake);
  const decision = decide(DEFAULT_RULES, intake, analysis);
  const completed = { case_id: intake.case_id, outcome: 'resolved', duration_seconds: 86_400 * 90, total_savings: analysis.estimated_savings, decision: decision.decision };
  const a = deriveId(c.eventId, 'analysis');
  const d = deriveId(a, 'decision');
  deriveId(d, 'completion');
  return [{ data: intake }, { data: analysis, metadata: { step: 'analysis' } }, { data: decision, metadata: { step: 'decision' } }, { data: completed, metadata: { step: 'completion' } }];
};
const lifecycle = (serialise: Serialise): Case => () => {
  const sim = new CaseSimulator({ seed: 1 });
  return () => {
    let b = 0;
    for (const e of caseLifecycle(sim)) b += serialise(e);
    return [4, b];
  };
};
for (const [suffix, serialise] of [['', plain], [' [adapter toJson]', adapter]] as const) {
  for (const name of WORKLOAD_NAMES) {
    cases[`${name}${suffix}`] = () => {
      const gen = workloads[name].create({ seed: 1 });
      return () => {
        const a = gen.next();
        let b = 0;
        for (const e of a.events) b += serialise(e);
        return [a.events.length, b];
      };
    };
  }
  cases[`debt-cases (lifecycle)${suffix}`] = lifecycle(serialise);
}
// The ceiling for each workload: serialisation alone, of events generated beforehand (timedFresh).
// Generation can only add to this, so where it is under 10x the reference, no generator can reach 10x on this core.
const CEILING = ' [JSON.stringify alone]';
const ceilings: Record<string, () => Serialisable[][]> = {};
for (const name of WORKLOAD_NAMES) {
  const gen = workloads[name].create({ seed: 1 });
  ceilings[`${name}${CEILING}`] = () => Array.from({ length: CHUNK }, () => gen.next().events);
}
{
  const sim = new CaseSimulator({ seed: 1 });
  ceilings[`debt-cases (lifecycle)${CEILING}`] = () => Array.from({ length: CHUNK / 4 }, () => caseLifecycle(sim));
}
// Generation alone (no serialisation): next to the ceiling row, what generation costs and whether it fits
// the budget the target leaves it (docs/workloads.md, "Generation target").
const GENERATION = ' [generation alone]';
for (const name of WORKLOAD_NAMES) {
  cases[`${name}${GENERATION}`] = () => {
    const gen = workloads[name].create({ seed: 1 });
    return () => [gen.next().events.length, 0];
  };
}
cases[`debt-cases (lifecycle)${GENERATION}`] = () => {
  const sim = new CaseSimulator({ seed: 1 });
  return () => [caseLifecycle(sim).length, 0];
};
const CALIBRATION = 'calibration: JSON.stringify ~1 kB';
const fixed = { id: 'x'.repeat(36), items: Array.from({ length: 12 }, (_, i) => ({ name: `item-${i}`, amount: i * 12.5, flag: i % 2 === 0, note: 'lorem ipsum dolor' })) };
cases[CALIBRATION] = () => () => [1, JSON.stringify(fixed).length];

const names = Object.keys(cases);
const samples = new Map<string, Sample[]>([...names, ...Object.keys(ceilings)].map((n) => [n, []]));
const steps = new Map(names.map((n) => [n, cases[n]!()]));

// --- the backend ceiling, same run: raw JetStream publish, 256 acks outstanding, no headers -----------
const WINDOW = 256;
const payloads = {
  'jetstream raw publish, ~1 kB (reference condition)': JSON.stringify(fixed),
  'jetstream raw publish, debt-case intake': JSON.stringify(new CaseSimulator({ seed: 9 }).next().intake),
};
let nats: { publishRound: (payload: string) => Promise<Sample>; stop: () => Promise<void>; version: string } | undefined;
if (!args['no-nats']) {
  try {
    const servers = await openServers({ infra: 'auto', natsUrl: args['nats-url'] }, { postgres: false, nats: true });
    const nc = await connect({ servers: servers.natsUrl!, noAsyncTraces: true });
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const stream = `GENBENCH_${process.pid}`;
    await jsm.streams.add({ name: stream, subjects: [`genbench_${process.pid}.>`], max_bytes: 2 * 1024 ** 3 });
    let n = 0;
    nats = {
      version: nc.info?.version ?? 'unknown',
      async publishRound(payload) {
        let events = 0;
        const start = performance.now();
        const end = start + SECONDS * 1000;
        await Promise.all(
          Array.from({ length: WINDOW }, async (_, lane) => {
            while (performance.now() < end) {
              await js.publish(`genbench_${process.pid}.s${lane}`, payload, { msgID: `m${n++}` });
              events++;
            }
          }),
        );
        const seconds = (performance.now() - start) / 1000;
        return { events, bytes: events * payload.length, seconds };
      },
      async stop() {
        await jsm.streams.delete(stream).catch(() => {});
        await nc.close();
        await servers.stop();
      },
    };
  } catch (err) {
    process.stderr.write(`no NATS for the same-run reference (${(err as Error).message}); using --reference ${REFERENCE}\n`);
  }
}
if (nats) for (const n of Object.keys(payloads)) samples.set(n, []);

// Warm-up: one short pass per case (JIT, faker pools).
for (const n of names) {
  const s = steps.get(n)!;
  for (let i = 0; i < 2000; i++) s();
}
for (let r = 0; r < ROUNDS; r++) {
  for (const n of names) samples.get(n)!.push(timed(steps.get(n)!));
  for (const [n, generate] of Object.entries(ceilings)) samples.get(n)!.push(timedFresh(generate, plain));
  if (nats) for (const [n, payload] of Object.entries(payloads)) samples.get(n)!.push(await nats.publishRound(payload));
  process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
if (nats) await nats.stop();
// The reference: the fastest backend rate measured in this run (raw JetStream, 1 kB), else the flag.
const measuredRef = samples.get('jetstream raw publish, ~1 kB (reference condition)');
const reference = measuredRef?.length ? median(measuredRef.map((s) => s.events / s.seconds)) : REFERENCE;
// The same reference in bytes: raw publish of ~1 kB payloads (or docs/design.md's ~1 kB events).
const referenceMBps = measuredRef?.length ? median(measuredRef.map((s) => s.bytes / s.seconds / 1e6)) : (REFERENCE * 1000) / 1e6;
const rows = [...samples.keys()].map((n) => {
  const ss = samples.get(n)!;
  const rates = ss.map((s) => s.events / s.seconds);
  const bytesPerEvent = ss.reduce((a, s) => a + s.bytes, 0) / ss.reduce((a, s) => a + s.events, 0);
  const eventsPerSec = median(rates);
  return {
    workload: n,
    eventsPerSec: Math.round(eventsPerSec),
    minEventsPerSec: Math.round(Math.min(...rates)),
    maxEventsPerSec: Math.round(Math.max(...rates)),
    bytesPerEvent: Math.round(bytesPerEvent),
    mbPerSec: Math.round((eventsPerSec * bytesPerEvent) / 1e5) / 10,
    ratioToReference: Math.round((eventsPerSec / reference) * 10) / 10,
    ratioToGoClient: Math.round((eventsPerSec / GO_REFERENCE) * 10) / 10,
    /** Bytes view, for workloads whose events are larger than the reference's ~1 kB. */
    ratioToReferenceBytes: Math.round(((eventsPerSec * bytesPerEvent) / 1e6 / referenceMBps) * 10) / 10,
  };
});

/** The generation target: generation + serialisation / JSON.stringify alone of the same events. */
const GENERATION_TARGET = 0.7;
const rateOf = (n: string): number | undefined => rows.find((r) => r.workload === n)?.eventsPerSec;
const roundRates = (n: string): number[] => (samples.get(n) ?? []).map((s) => s.events / s.seconds);
const round2 = (x: number): number => Math.round(x * 100) / 100;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const ceilingRows = [...WORKLOAD_NAMES, 'debt-cases (lifecycle)'].map((w) => {
  const generated = rateOf(w) ?? 0;
  const ceiling = rateOf(`${w}${CEILING}`) ?? 0;
  const ratio = ceiling > 0 ? round2(generated / ceiling) : 0;
  // The same ratio per round (a round measures both sides back to back): its spread says whether a
  // verdict near the target is a measurement or noise.
  const alone = roundRates(`${w}${CEILING}`);
  const perRound = roundRates(w).flatMap((g, r) => (alone[r]! > 0 ? [g / alone[r]!] : []));
  const ratioMin = perRound.length ? round2(Math.min(...perRound)) : 0;
  const ratioMax = perRound.length ? round2(Math.max(...perRound)) : 0;
  const verdict = ratioMin >= GENERATION_TARGET ? 'yes' : ratioMax < GENERATION_TARGET ? 'NO' : 'noise';
  // Per event, in microseconds: what generation alone costs, and what the target leaves it (generated +
  // stringify may take stringify / 0.7). Where generation alone is over that budget, no serialisation
  // shortcut closes the gap: only a cheaper generator does.
  const us = (perSec: number | undefined): number | null => (perSec ? round3(1e6 / perSec) : null);
  const stringifyUs = us(ceiling);
  const generatedUs = us(generated);
  const generationAloneUs = us(rateOf(`${w}${GENERATION}`));
  const budgetUs = stringifyUs === null ? null : round3(stringifyUs * (1 / GENERATION_TARGET - 1));
  return { workload: w, generatedPerSec: generated, stringifyAlonePerSec: ceiling, ratio, ratioMin, ratioMax, target: GENERATION_TARGET, meets: ratio >= GENERATION_TARGET, verdict, stringifyUs, generatedUs, generationAloneUs, budgetUs };
});

const env = await captureEnvironment();
const createdAt = new Date().toISOString();
const result = {
  benchmark: 'generate',
  createdAt,
  environment: env,
  settings: {
    secondsPerRound: SECONDS,
    rounds: ROUNDS,
    threads: 1,
    referenceEventsPerSec: Math.round(reference),
    referenceSource: measuredRef?.length
      ? `measured in this run: raw JetStream ${nats?.version ?? ''} publish (file storage, R1), ${WINDOW} acks outstanding, ~1 kB payload, one Node process, interleaved with the generation rounds`
      : 'docs/design.md: raw JetStream 2.9.10 pipelined publish from one Node process, ~1 kB events (24,700/s, 2026-11-24)',
    designReferenceEventsPerSec: REFERENCE,
    goClientEventsPerSec: GO_REFERENCE,
    target: `generation + serialisation >= ${GENERATION_TARGET}x of JSON.stringify alone of the same events, per workload (the ceiling rows); for scale, >= 10x the reference`,
    note: `load average (1, 5, 15 min) at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ratios are within this run`,
  },
  results: rows,
  ceiling: ceilingRows,
};
mkdirSync(args.out, { recursive: true });
const stamp = createdAt.replace(/[:.]/g, '-');
writeFileSync(`${args.out}/${stamp}.json`, `${JSON.stringify(result, null, 2)}\n`);

const md: string[] = [
  `# generate: generation + serialisation, one core (${createdAt})`,
  '',
  `Machine: ${env.machine.cores} cores ${env.machine.cpuModel}, load average at start ${env.machine.loadAverage.join(' ')}, node ${env.node.version}, git ${env.git.revision?.slice(0, 12) ?? '-'}${env.git.dirty ? ' (dirty)' : ''}.`,
  `Median of ${ROUNDS} rounds of ${SECONDS} s per workload, rounds interleaved. Reference: ${Math.round(reference).toLocaleString('en')} events/s (${result.settings.referenceSource}). For scale: docs/design.md's unloaded figure is ${REFERENCE.toLocaleString('en')}/s, the Go client ${GO_REFERENCE.toLocaleString('en')}/s.`,
  '',
  '| workload | events/s (median) | min-max | bytes/event | MB/s | x reference (events/s) | x reference (MB/s) | x Go client | >= 10x (events/s) |',
  '|---|---:|---:|---:|---:|---:|---:|---:|:-:|',
  ...rows.map(
    (r) =>
      `| ${r.workload} | ${r.eventsPerSec.toLocaleString('en')} | ${r.minEventsPerSec.toLocaleString('en')}-${r.maxEventsPerSec.toLocaleString('en')} | ${r.bytesPerEvent} | ${r.mbPerSec} | ${r.ratioToReference} | ${r.ratioToReferenceBytes} | ${r.ratioToGoClient} | ${r.workload.startsWith('calibration') || r.workload.startsWith('jetstream') || r.workload.endsWith(CEILING) || r.workload.endsWith(GENERATION) ? '' : r.ratioToReference >= 10 ? 'yes' : 'NO'} |`,
  ),
  '',
  `Rows marked${CEILING} serialise events generated off the clock in chunks of ${CHUNK} appends and serialised at once, each exactly once, as \`--pregenerate\` does: the ceiling for that workload on this core, since generation only adds to it. Plain rows and ceiling rows serialise the whole event (envelope, data, metadata); \`[adapter toJson]\` rows serialise data and metadata with the adapters' checking replacer. Rows marked${GENERATION} generate and do not serialise.`,
  '',
  `## Ceiling: generation + serialisation / JSON.stringify alone (target >= ${GENERATION_TARGET}x)`,
  '',
  '| workload | generated + stringify events/s | stringify alone events/s | ratio | per round min-max | meets | every round |',
  '|---|---:|---:|---:|---:|:-:|:-:|',
  ...ceilingRows.map(
    (r) =>
      `| ${r.workload} | ${r.generatedPerSec.toLocaleString('en')} | ${r.stringifyAlonePerSec.toLocaleString('en')} | ${r.ratio} | ${r.ratioMin}-${r.ratioMax} | ${r.meets ? 'yes' : 'NO'} | ${r.verdict} |`,
  ),
  '',
  `"ratio": median rates of the ${ROUNDS} rounds; "per round": each round's generated rate over the same round's stringify-alone rate. "every round": yes when every round meets ${GENERATION_TARGET}x, NO when none does, noise when some do.`,
  '',
  '## Per event: where the time goes (microseconds, from the median rates)',
  '',
  '| workload | stringify alone | generated + stringify | generation alone | generation budget at the target | generation alone within it |',
  '|---|---:|---:|---:|---:|:-:|',
  ...ceilingRows.map(
    (r) =>
      `| ${r.workload} | ${r.stringifyUs ?? '-'} | ${r.generatedUs ?? '-'} | ${r.generationAloneUs ?? '-'} | ${r.budgetUs ?? '-'} | ${r.generationAloneUs === null || r.budgetUs === null ? '-' : r.generationAloneUs <= r.budgetUs ? 'yes' : 'NO'} |`,
  ),
  '',
  `"generation budget": what generation may add to serialisation for ${GENERATION_TARGET}x (stringify alone x (1/${GENERATION_TARGET} - 1)). "generation alone": the generator with nothing after it. Where it is over the budget, no faster serialisation closes the gap. Generating and serialising one after the other usually costs more than the two measured apart (most likely because the generator's code and the serialiser share the core's caches), so within the budget is necessary, not sufficient.`,
  '',
];
writeFileSync(`${args.out}/${stamp}.md`, `${md.join('\n')}\n`);
process.stdout.write(`${md.join('\n')}\nwritten: ${args.out}/${stamp}.json, .md\n`);
