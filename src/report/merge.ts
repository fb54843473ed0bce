/**
 * `eventbench merge`: adds up the results of N load generators that ran one schedule together (`load
 * --start-at ... --generator-id i`) into one result of the same schema. Exact where the data allows it:
 * every latency is a sum of HdrHistograms (decoded and added, never averaged percentiles); counts,
 * errors, dropped sends and rates add up; timelines add up second by second, aligned by the absolute time
 * each generator's measured window began. Results of different scenarios are refused (one ConfigError
 * line), since their sum would measure nothing. docs/multi-generator.md describes the result.
 */
import { ConfigError } from '../core/event-store.ts';
import { encodeHistogram, mergeEncoded, summarize } from './histogram.ts';
import { LOAD_RESULT_SCHEMA_VERSION, loadResultSchema, type BackendResult, type LoadResult, type MergedBlock, type TimelineEntry } from './load-result.ts';

export interface MergeInput {
  /** The file it came from (named in refusals and in the `merged` block). */
  file: string;
  /** The parsed JSON (any version: versions other than the current one are refused by name). */
  raw: unknown;
}

/** Scenario fields that must agree: the generators ran one schedule of one workload from one seed. */
const MUST_AGREE = ['command', 'executor', 'workload', 'seed', 'rate', 'stages', 'writers', 'durationMs', 'warmupMs', 'streams', 'namespace'] as const;

type Json = Record<string, unknown>;

function refuse(message: string): never {
  throw new ConfigError(message);
}

/** Validates one input as a current-version `load` result with a complete round; ConfigError otherwise. */
function readInput(input: MergeInput): LoadResult {
  const raw = input.raw as Json;
  if (typeof raw !== 'object' || raw === null || raw.tool !== 'eventbench') refuse(`${input.file}: not an eventbench result; give the result.json files that eventbench load --out wrote`);
  if (raw.schemaVersion !== LOAD_RESULT_SCHEMA_VERSION) {
    refuse(`${input.file}: schema version ${String(raw.schemaVersion)} cannot be merged (merge reads version ${LOAD_RESULT_SCHEMA_VERSION}, whose files keep every histogram); re-run the generator with this eventbench`);
  }
  const parsed = loadResultSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    refuse(`${input.file}: invalid result: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const r = parsed.data;
  if (r.scenario.command !== 'load' || r.backends.length !== 1) refuse(`${input.file}: merge adds up eventbench load results (one backend each); this is a ${r.scenario.command} result with ${r.backends.length} rounds`);
  const b = r.backends[0]!;
  if (b.error !== null) refuse(`${input.file}: its round failed (${b.error}); re-run that generator`);
  if (b.interrupted) refuse(`${input.file}: the run was interrupted, its window is partial; re-run that generator`);
  const h = b.histograms;
  if (h.serviceTime === undefined || h.sendDelay === undefined || (b.consumer !== null && h.processing == null)) {
    refuse(`${input.file}: written before results kept every histogram, so it cannot be merged exactly; re-run the generator with this eventbench`);
  }
  return r;
}

/** Refuses inputs that are not one multi-generator run (the first difference, named). */
function checkAgreement(files: string[], results: LoadResult[]): void {
  const first = results[0]!;
  const show = (v: unknown): string => JSON.stringify(v ?? null);
  for (let i = 1; i < results.length; i++) {
    const r = results[i]!;
    for (const key of MUST_AGREE) {
      if (show(first.scenario[key]) !== show(r.scenario[key])) {
        refuse(`${files[0]} and ${files[i]} differ in ${key} (${show(first.scenario[key])} vs ${show(r.scenario[key])}): merge the results of one multi-generator run (same scenario, workload, executor and seed)`);
      }
    }
    if (first.backends[0]!.backend !== r.backends[0]!.backend) {
      refuse(`${files[0]} and ${files[i]} differ in backend (${first.backends[0]!.backend} vs ${r.backends[0]!.backend}): merge results of one backend`);
    }
  }
  const seenRun = new Map<string, string>();
  const seenId = new Map<number, string>();
  results.forEach((r, i) => {
    const other = seenRun.get(r.scenario.runId);
    if (other) refuse(`${other} and ${files[i]} are the same run (run id ${r.scenario.runId}): give each generator's result once`);
    seenRun.set(r.scenario.runId, files[i]!);
    const id = r.generator?.id;
    if (id !== undefined && id !== null) {
      const twice = seenId.get(id);
      if (twice) refuse(`${twice} and ${files[i]} both say --generator-id ${id}: each generator needs its own id, or their events collide`);
      seenId.set(id, files[i]!);
    }
  });
  // Every consumer reads the whole category: two would each count every generator's events.
  const consuming = files.filter((_, i) => results[i]!.backends[0]!.consumer !== null);
  if (consuming.length > 1) {
    refuse(`${consuming.join(', ')} each ran a consumer, and each consumer read every generator's events: their end-to-end latencies would count events ${consuming.length} times; run the consumer on one generator (with --generator-id, generator 0 runs it) or none (--no-consumer)`);
  }
}

const sum = <T>(xs: T[], f: (x: T) => number): number => xs.reduce((a, x) => a + f(x), 0);
const maxOf = (xs: (number | null)[]): number | null => (xs.some((x) => x === null) ? null : Math.max(...(xs as number[])));
const round1 = (v: number): number => Math.round(v * 10) / 10;

/**
 * Timelines added second by second. Each generator's second 0 is its own measured window's start; with
 * the `start` block they are placed by absolute time. Counts add exactly; a second's p50/p99/max are the
 * highest of the generators' (the per-second histograms are not kept: an upper bound, said in the notes).
 */
function mergeTimelines(rounds: BackendResult[]): TimelineEntry[] {
  const origin = Math.min(...rounds.map((b) => b.start?.measureStartMs ?? 0));
  const seconds = new Map<number, TimelineEntry>();
  for (const b of rounds) {
    const shift = b.start ? Math.round((b.start.measureStartMs - origin) / 1000) : 0;
    for (const t of b.timeline) {
      const second = t.second + shift;
      const m = seconds.get(second);
      if (!m) {
        seconds.set(second, { ...t, second });
        continue;
      }
      m.targetRate = m.targetRate === null || t.targetRate === null ? null : round1(m.targetRate + t.targetRate);
      m.appends += t.appends;
      m.events += t.events;
      m.errors += t.errors;
      m.dropped += t.dropped;
      m.p50 = Math.max(m.p50, t.p50);
      m.p99 = Math.max(m.p99, t.p99);
      m.max = Math.max(m.max, t.max);
      m.lag = m.lag === null || t.lag === null ? (m.lag ?? t.lag) : Math.max(m.lag, t.lag);
    }
  }
  return [...seconds.values()].sort((a, b) => a.second - b.second);
}

/** The servers each generator sampled: one row per server (the same server seen by several: the busiest sample). */
function mergeServers(rounds: BackendResult[]): BackendResult['resources']['servers'] {
  const byName = new Map<string, BackendResult['resources']['servers'][number]>();
  for (const s of rounds.flatMap((b) => b.resources.servers)) {
    const seen = byName.get(s.name);
    if (!seen || s.cpuSeconds > seen.cpuSeconds) byName.set(s.name, s);
  }
  return [...byName.values()];
}

function mergeRounds(rounds: BackendResult[]): BackendResult {
  const first = rounds[0]!;
  const hist = (pick: (b: BackendResult) => string | null | undefined): string | null => {
    const all = rounds.map(pick);
    return all.every((e) => typeof e === 'string') ? encodeHistogram(mergeEncoded(all as string[])) : null;
  };
  const latency = hist((b) => b.histograms.latency)!;
  // At most one generator ran the consumer (checkAgreement): its histograms cover every generator's events.
  const withConsumer = rounds.find((b) => b.consumer !== null);
  const endToEnd = withConsumer?.histograms.endToEnd ?? null;
  const processing = withConsumer?.histograms.processing ?? null;
  const serviceTime = hist((b) => b.histograms.serviceTime)!;
  const sendDelay = hist((b) => b.histograms.sendDelay)!;
  const summary = (encoded: string | null) => (encoded === null ? null : summarize(mergeEncoded([encoded])));
  const sent = sum(rounds, (b) => b.totals.sent);
  const errorKinds = { conflict: 0, unavailable: 0, unknown_outcome: 0, duplicate: 0, other: 0 };
  for (const k of Object.keys(errorKinds) as (keyof typeof errorKinds)[]) errorKinds[k] = sum(rounds, (b) => b.errors[k]);
  const errorsTotal = sum(rounds, (b) => b.errors.total);
  const dropped = sum(rounds, (b) => b.dropped.count);
  const targets = rounds.map((b) => b.throughput.targetPerSec);
  const storages = rounds.map((b) => b.storage).filter((s) => s !== null);
  const starts = rounds.map((b) => b.start);
  const bounds = rounds.map((b) => b.clientBound);
  return {
    backend: first.backend,
    run: 1,
    baselineOf: null,
    latencyAt: null,
    capabilities: first.capabilities,
    error: null,
    interrupted: false,
    measuredSeconds: Math.max(...rounds.map((b) => b.measuredSeconds)),
    throughput: {
      eventsPerSec: round1(sum(rounds, (b) => b.throughput.eventsPerSec)),
      appendsPerSec: round1(sum(rounds, (b) => b.throughput.appendsPerSec)),
      targetPerSec: targets.some((t) => t === null) ? null : round1(sum(targets as number[], (t) => t)),
    },
    latency: summary(latency)!,
    serviceTime: summary(serviceTime)!,
    sendDelay: summary(sendDelay)!,
    endToEnd: summary(endToEnd),
    processing: summary(processing),
    totals: {
      sent,
      appends: sum(rounds, (b) => b.totals.appends),
      events: sum(rounds, (b) => b.totals.events),
      unfinished: sum(rounds, (b) => b.totals.unfinished),
      wholeRun: {
        sent: sum(rounds, (b) => b.totals.wholeRun.sent),
        appends: sum(rounds, (b) => b.totals.wholeRun.appends),
        events: sum(rounds, (b) => b.totals.wholeRun.events),
        errors: sum(rounds, (b) => b.totals.wholeRun.errors),
        dropped: sum(rounds, (b) => b.totals.wholeRun.dropped),
      },
    },
    errors: { ...errorKinds, total: errorsTotal, rate: sent > 0 ? errorsTotal / sent : 0 },
    dropped: { count: dropped, rate: sent + dropped > 0 ? dropped / (sent + dropped) : 0 },
    late: { count: sum(rounds, (b) => b.late.count), thresholdMs: first.late.thresholdMs },
    consumer: withConsumer?.consumer ?? null,
    // Every generator measured the same store: the last look at it (the most events) is the one to keep.
    storage: storages.sort((a, b) => b.events - a.events)[0] ?? null,
    resources: {
      loadGenerator: {
        name: `${rounds.length} load generators`,
        pid: null,
        cpuPercent: round1(sum(rounds, (b) => b.resources.loadGenerator.cpuPercent)),
        cpuSeconds: round1(sum(rounds, (b) => b.resources.loadGenerator.cpuSeconds)),
        rssMaxBytes: Math.max(...rounds.map((b) => b.resources.loadGenerator.rssMaxBytes)),
        rssEndBytes: sum(rounds, (b) => b.resources.loadGenerator.rssEndBytes),
      },
      servers: mergeServers(rounds),
    },
    timeline: mergeTimelines(rounds),
    maxSearch: null,
    thresholds: [],
    histograms: { unit: 'microseconds', latency, endToEnd, serviceTime, sendDelay, processing },
    clientBound: bounds.every((c) => c != null)
      ? {
          bound: bounds.some((c) => c!.bound),
          reason: bounds.map((c, i) => `generator ${i + 1}: ${c!.reason}`).join('; '),
          perWorker: bounds.flatMap((c) => c!.perWorker),
        }
      : null,
    replay: null,
    pipeline: null,
    pregenerated: null,
    start: starts.every((s) => s !== undefined)
      ? {
          scheduleStartMs: Math.min(...starts.map((s) => s!.scheduleStartMs)),
          measureStartMs: Math.min(...starts.map((s) => s!.measureStartMs)),
          firstSendMs: starts.some((s) => s!.firstSendMs === null) ? null : Math.min(...starts.map((s) => s!.firstSendMs!)),
          firstSendLateMs: maxOf(starts.map((s) => s!.firstSendLateMs)),
        }
      : undefined,
  };
}

/** Rates add up: N generators at r/s each are one schedule at N*r/s. */
function totalScenario(results: LoadResult[]): LoadResult['scenario'] {
  const first = results[0]!.scenario;
  const n = results.length;
  return {
    ...first,
    runId: results.map((r) => r.scenario.runId).join('+'),
    rate: first.rate === null ? null : first.rate * n,
    stages: first.stages === null ? null : first.stages.map((s) => ({ ...s, rate: s.rate * n })),
    writers: first.writers === null ? null : first.writers * n,
    workers: sum(results, (r) => r.scenario.workers),
  };
}

/**
 * Adds up the generators' results. Thresholds are left empty (`thresholdsPassed: true`): the caller
 * judges the merged numbers against the scenario's thresholds (the CLI does).
 */
export function mergeResults(inputs: MergeInput[]): LoadResult {
  if (inputs.length < 2) refuse(`merge needs at least two results (got ${inputs.length}); give every generator's result.json`);
  const files = inputs.map((i) => i.file);
  const results = inputs.map(readInput);
  checkAgreement(files, results);
  const rounds = results.map((r) => r.backends[0]!);
  const backend = mergeRounds(rounds);
  const firstSends = rounds.map((b) => b.start?.firstSendMs ?? null);
  const generators: MergedBlock['generators'] = results.map((r, i) => ({
    file: files[i]!,
    id: r.generator?.id ?? null,
    runId: r.scenario.runId,
    startAt: r.generator?.startAt ?? null,
    startOffsetMs: r.generator?.startOffsetMs ?? null,
    firstSendMs: firstSends[i]!,
    rate: r.scenario.rate,
    events: rounds[i]!.totals.events,
    eventsPerSec: rounds[i]!.throughput.eventsPerSec,
    environment: r.environment,
    loadGenerator: rounds[i]!.resources.loadGenerator,
  }));
  const startSpread = firstSends.some((f) => f === null) ? null : Math.round((Math.max(...(firstSends as number[])) - Math.min(...(firstSends as number[]))) * 1000) / 1000;
  const startAts = new Set(results.map((r) => r.generator?.startAt ?? null));
  const notes = [
    `merged from ${results.length} generators (eventbench merge): latency histograms added exactly; counts, rates and the timeline added up; a timeline second's p50/p99/max are the highest of the generators' (an upper bound)`,
    `generators: ${generators.map((g) => `${g.id ?? '?'} on ${g.environment.machine.hostname} (${g.rate ?? '-'}/s, ${g.events} events, first send ${g.startOffsetMs ?? '?'} ms late)`).join('; ')}; start spread ${startSpread === null ? 'unknown' : `${startSpread} ms`}`,
    ...(startAts.size > 1 || startAts.has(null) ? ['the generators did not share one --start-at instant: their windows may not overlap, and the summed rates assume they do'] : []),
    ...results.flatMap((r, i) => r.notes.map((n) => `${files[i]}: ${n}`)),
  ];
  return {
    schemaVersion: LOAD_RESULT_SCHEMA_VERSION,
    tool: 'eventbench',
    createdAt: new Date().toISOString(),
    environment: results[0]!.environment,
    scenario: totalScenario(results),
    backends: [backend],
    thresholdsPassed: true,
    bench: null,
    sweep: null,
    notes,
    merged: {
      generators,
      startSpreadMs: startSpread,
      totalRate: results[0]!.scenario.rate === null ? null : sum(results, (r) => r.scenario.rate!),
    },
  };
}
