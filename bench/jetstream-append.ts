/**
 * JetStream adapter vs raw nats.js, same server, same run (npm run bench:jetstream).
 *
 * 1. OCC append over 10,000 subjects, pipelined (--window appends in flight per process, 256 as in the
 *    raw-driver reference of docs/design.md §Facts measured on this kind of machine): adapter
 *    `appendToStream(stream, [event], { expectedVersion })` vs raw `js.publish` of the same envelope with
 *    the same headers (Nats-Msg-Id, Nats-Expected-Last-Subject-Sequence, Eventbench-Version) into an
 *    identical JetStream stream. Target >= 0.9x.
 *    Run with 1 process and with --workers N processes (one Node process tops out at ~22-25k publishes/s
 *    here): every worker has its own connection and its own share of the subjects.
 * 2. Replay: `readAll({ category, limit: page })` pages vs a raw ordered consumer over the same stream.
 *    Target >= 0.8x (reference ~175,000 msgs/s).
 *
 * The raw side connects with the same options as the adapter (`noAsyncTraces: true`: without it nats.js
 * spends ~29 % of the client's CPU building debugging stack traces per request), so the ratio measures
 * the adapter's own code. Rounds alternate raw and adapter (the machine is shared: noise hits both alike). Results:
 * results/jetstream/<timestamp>.json and .md with the environment. Server: --nats-url / NATS_URL, else a
 * managed nats-server in a temp dir (removed afterwards). Streams created on an external server are
 * deleted at the end.
 */
import { loadavg } from 'node:os';
import { fork } from 'node:child_process';
import { PerformanceObserver, constants as perfConstants, type PerformanceEntry } from 'node:perf_hooks';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as hdr from 'hdr-histogram-js';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { captureEnvironment } from '../src/infra/environment.ts';
import { openServers } from '../src/infra/servers.ts';
import type { EventStore } from '../src/core/event-store.ts';
import { createJetStreamStore } from '../src/store/jetstream/store.ts';
import { VERSION_HEADER } from '../src/store/jetstream/publish-headers.ts';
import { jetStreamNames } from '../src/store/jetstream/naming.ts';

const SELF = fileURLToPath(import.meta.url);
/** EVENTBENCH_CPU_PROF=DIR: each worker process writes a V8 CPU profile there (where the time goes). */
const WORKER_PROFILE = process.env.EVENTBENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.EVENTBENCH_CPU_PROF}`] : [];

const { values: args } = parseArgs({
  options: {
    role: { type: 'string', default: 'main' },
    'nats-url': { type: 'string', default: process.env.NATS_URL },
    events: { type: 'string', default: '100000' }, // per append round, split over the workers
    subjects: { type: 'string', default: '10000' },
    window: { type: 'string', default: '256' },
    workers: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '5' },
    bytes: { type: 'string', default: '1024' },
    'replay-events': { type: 'string', default: '100000' },
    page: { type: 'string', default: '10000' },
    skip: { type: 'string', multiple: true, default: [] }, // append | workers | replay
    out: { type: 'string', default: 'results/jetstream' },
    // worker-only
    kind: { type: 'string' },
    namespace: { type: 'string' },
    worker: { type: 'string' },
    round: { type: 'string' },
  },
});

type Kind = 'raw' | 'adapter';

/** An event of about --bytes serialised (a debt case, shaped as `case.intake` of docs/case-processing.md §The events). */
function eventData(i: number, bytes: number) {
  const base = { case_id: `case-${i}`, citizen_bsn: String(100000000 + (i % 899999999)), debt_amount: 1250.5 + (i % 100), debt_type: 'cak_eigen_bijdrage', organization: 'CAK', priority: 'normal' };
  const pad = Math.max(0, bytes - 256 - JSON.stringify(base).length - 12);
  return { ...base, notes: 'x'.repeat(pad) };
}

// ---------------------------------------------------------------------------------------------------
// Worker: one process, one connection, its share of the subjects
// ---------------------------------------------------------------------------------------------------

interface WorkerResult {
  /** Client CPU (user + system) of this worker process during the measured run, µs. */
  cpuUs: number;
  /** Young-generation GC (scavenge) time of this worker during the measured run, µs. */
  scavengeUs: number;
  ops: number;
  errors: number;
  startMs: number;
  endMs: number;
  latenciesUs: number[];
}

async function worker(): Promise<void> {
  // The coordinator owns us: if it goes (Ctrl-C, crash), so do we.
  process.on('disconnect', () => process.exit(1));
  const kind = args.kind as Kind;
  const natsUrl = args['nats-url']!;
  const namespace = args.namespace!;
  const w = Number(args.worker);
  const round = Number(args.round);
  const count = Number(args.events);
  const subjects = Number(args.subjects);
  const window = Number(args.window);
  const bytes = Number(args.bytes);
  const names = jetStreamNames(namespace);
  const category = kind; // same stream config: both are adapter-created category streams
  const streamId = (s: number) => `r${round}w${w}s${s}`;

  // Each kind opens the connection it publishes on last, right before the warm-up. nats.js keeps pending
  // requests in one Map per connection (MuxSubscription); once that Map's hash table has been promoted to
  // V8's old space (the connection idled while the process allocated, or a full GC came mid-traffic), the
  // request objects are promoted with it: 1.5 kB promoted per publish instead of 0.25 kB, +3-5 µs client CPU
  // per publish with 2 workers, until a full GC or longer. With the store opened first in both kinds only the
  // adapter's connection idled (raw with its connection opened first measured the same +3 µs and 1.5 kB).
  // It can still hit either kind at random: compare client CPU medians over several rounds.
  let store: EventStore;
  let nc: NatsConnection;
  if (kind === 'raw') {
    store = await createJetStreamStore({ natsUrl, namespace });
    nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  } else {
    nc = await connect({ servers: natsUrl, noAsyncTraces: true });
    store = await createJetStreamStore({ natsUrl, namespace });
  }
  const js = jetstream(nc);
  const versions = new Int32Array(subjects);
  const seqs = new Float64Array(subjects);
  // Both sides get their names precomputed: the raw side its subjects, the adapter its stream names (an
  // application holds those already; building the string per call was the bench's cost, not the adapter's).
  const rawSubjects = kind === 'raw' ? Array.from({ length: subjects }, (_, s) => names.subject(category, streamId(s))) : [];
  const adapterStreams = kind === 'adapter' ? Array.from({ length: subjects }, (_, s) => `${category}-${streamId(s)}`) : [];

  const appendOne = async (i: number): Promise<void> => {
    const s = i % subjects;
    const id = `${kind}-${round}-${w}-${i}`;
    const data = eventData(i, bytes);
    if (kind === 'adapter') {
      const r = await store.appendToStream(adapterStreams[s]!, [{ id, type: 'case.intake', data }], { expectedVersion: versions[s]! });
      versions[s] = r.streamVersion;
    } else {
      const version = versions[s]! + 1;
      const envelope = {
        id,
        type: 'case.intake',
        timestamp: new Date().toISOString(),
        correlationId: id,
        aggregateId: streamId(s),
        aggregateType: category,
        version,
        data,
        metadata: {},
      };
      const h = headers();
      h.set(VERSION_HEADER, String(version));
      const ack = await js.publish(rawSubjects[s]!, JSON.stringify(envelope), {
        msgID: id,
        headers: h,
        expect: { lastSubjectSequence: seqs[s]! },
      });
      seqs[s] = ack.seq;
      versions[s] = version;
    }
  };

  /** `window` lanes, each with one append in flight: many appends pipelined on one connection. */
  const run = async (from: number, n: number, record: boolean): Promise<WorkerResult> => {
    const lat: number[] = [];
    let next = from;
    let errors = 0;
    const end = from + n;
    const startMs = performance.timeOrigin + performance.now();
    let scavengeMs = 0;
    const addScavenges = (entries: PerformanceEntry[]) => {
      for (const e of entries) if ((e as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) scavengeMs += e.duration;
    };
    const gcs = new PerformanceObserver((list) => addScavenges(list.getEntries()));
    gcs.observe({ entryTypes: ['gc'] });
    const cpu0 = process.cpuUsage();
    await Promise.all(
      Array.from({ length: Math.min(window, n) }, async () => {
        while (next < end) {
          const i = next++;
          const t0 = performance.now();
          try {
            await appendOne(i);
            if (record) lat.push(Math.round((performance.now() - t0) * 1000));
          } catch {
            errors++;
          }
        }
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    addScavenges(gcs.takeRecords());
    gcs.disconnect();
    return { cpuUs: cpu.user + cpu.system, scavengeUs: Math.round(scavengeMs * 1000), ops: n - errors, errors, startMs, endMs: performance.timeOrigin + performance.now(), latenciesUs: lat };
  };

  // Warm-up (JIT, connection, stream info): the first touch of every subject, not measured.
  await run(0, subjects, false);
  process.send!({ ready: true });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  const result = await run(subjects, count, true);
  // Wait until the result is written to the IPC channel: it is ~1 MB (every latency), more than a pipe
  // holds, and the process.exit(0) that follows worker() would otherwise drop what is still queued: the
  // coordinator then saw "exited with code 0" and no result (or, before it checked, hung until Node
  // ended it with exit code 13).
  await new Promise<void>((resolve, reject) => process.send!({ result }, (err: Error | null) => (err ? reject(err) : resolve())));
  await store.close();
  await nc.drain();
}

// ---------------------------------------------------------------------------------------------------
// Coordinator
// ---------------------------------------------------------------------------------------------------

type Histogram = ReturnType<typeof hdr.build>;
const histogram = (): Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
/** `v` rounded to `digits` decimals. */
const roundTo = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

interface PhaseResult {
  kind: Kind;
  workers: number;
  ops: number;
  errors: number;
  seconds: number;
  opsPerSecond: number;
  /**
   * Client CPU per append, µs (all worker processes): on a shared machine far steadier than ops/s, and
   * what bounds one Node process's rate.
   */
  clientCpuUsPerOp: number;
  /**
   * Of which young-generation GC (scavenges), µs per append: about twice the usual in a worker whose nats.js
   * request map sits in V8's old space (see the worker's comment on opening connections).
   */
  clientScavengeUsPerOp: number;
  latencyMs: { p50: number; p99: number; p999: number; max: number };
}

function latencySummary(h: Histogram) {
  return {
    p50: roundTo(h.getValueAtPercentile(50) / 1000, 3),
    p99: roundTo(h.getValueAtPercentile(99) / 1000, 3),
    p999: roundTo(h.getValueAtPercentile(99.9) / 1000, 3),
    max: roundTo(h.maxValue / 1000, 3),
  };
}

async function appendRound(natsUrl: string, namespace: string, kind: Kind, workers: number, round: number): Promise<PhaseResult> {
  const total = Number(args.events);
  const perWorker = Math.floor(total / workers);
  const subjectsPerWorker = Math.floor(Number(args.subjects) / workers);
  const children = Array.from({ length: workers }, (_, w) =>
    fork(
      SELF,
      [
        '--role=worker', `--kind=${kind}`, `--nats-url=${natsUrl}`, `--namespace=${namespace}`, `--worker=${w}`, `--round=${round}`,
        `--events=${perWorker}`, `--subjects=${subjectsPerWorker}`, `--window=${args.window}`, `--bytes=${args.bytes}`,
      ],
      { execArgv: ['--import', 'tsx', ...WORKER_PROFILE], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    ),
  );
  try {
    const messages = children.map((child) => {
      const queue: unknown[] = [];
      const waiters: ((m: unknown) => void)[] = [];
      child.on('message', (m) => (waiters.length ? waiters.shift()!(m) : queue.push(m)));
      // Any exit before the last answer (code 0 or a signal too) fails the round loudly: a waiter left
      // pending would end the benchmark with Node's exit code 13 (unsettled top-level await) and no result.
      child.on('exit', (code, signal) => {
        const error = { error: `worker exited with ${signal ?? `code ${code}`}` };
        waiters.splice(0).forEach((wake) => wake(error));
        queue.push(error);
      });
      return () => new Promise<unknown>((resolve) => (queue.length ? resolve(queue.shift()) : waiters.push(resolve)));
    });
    const ready = await Promise.all(messages.map((next) => next()));
    if (ready.some((m) => !(m as { ready?: boolean }).ready)) throw new Error(`a worker failed to start: ${JSON.stringify(ready)}`);
    children.forEach((c) => c.send('go'));
    const results = (await Promise.all(messages.map((next) => next()))) as { result?: WorkerResult; error?: string }[];
    const h = histogram();
    let ops = 0;
    let errors = 0;
    let cpuUs = 0;
    let scavengeUs = 0;
    for (const r of results) {
      if (!r.result) throw new Error(`worker failed: ${r.error}`);
      cpuUs += r.result.cpuUs;
      scavengeUs += r.result.scavengeUs;
      ops += r.result.ops;
      errors += r.result.errors;
      for (const us of r.result.latenciesUs) h.recordValue(Math.max(1, us));
    }
    const seconds = (Math.max(...results.map((r) => r.result!.endMs)) - Math.min(...results.map((r) => r.result!.startMs))) / 1000;
    return {
      kind,
      workers,
      ops,
      errors,
      seconds: roundTo(seconds, 3),
      opsPerSecond: roundTo(ops / seconds, 1),
      clientCpuUsPerOp: roundTo(cpuUs / ops, 1),
      clientScavengeUsPerOp: roundTo(scavengeUs / ops, 2),
      latencyMs: latencySummary(h),
    };
  } finally {
    // Let the workers exit on their own first: a V8 CPU profile (EVENTBENCH_CPU_PROF) is written at exit.
    await Promise.all(
      children.map((c) =>
        c.exitCode !== null || c.signalCode !== null ? undefined : Promise.race([once(c, 'exit'), setTimeout(5_000, undefined, { ref: false })]),
      ),
    );
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

/**
 * Replay baselines, all one raw ordered consumer over the same stream:
 * - `raw`: decodes each message into an array page of --page events, which is what `readAll` hands its
 *   caller (the like-for-like baseline: the same work without the adapter);
 * - `raw-stream`: decodes each message and drops it (a consumer that never holds a page);
 * - `raw-nodecode`: only touches the bytes (the transport ceiling).
 */
type ReplayKind = 'raw' | 'raw-stream' | 'raw-nodecode' | 'adapter';

interface ReplayResult {
  kind: ReplayKind;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** Per page (adapter) or per 10,000 messages (raw), ms. */
  pageLatencyMs: { p50: number; p99: number };
}

async function replayRound(natsUrl: string, namespace: string, kind: ReplayKind, events: number): Promise<ReplayResult> {
  const names = jetStreamNames(namespace);
  const page = Number(args.page);
  const h = histogram();
  let n = 0;
  let t0: number;
  if (kind === 'adapter') {
    const store = await createJetStreamStore({ natsUrl, namespace });
    try {
      t0 = performance.now();
      let from = 0;
      while (n < events) {
        const p0 = performance.now();
        const batch = await store.readAll({ category: 'adapter', fromPosition: from, limit: Math.min(page, events - n) });
        h.recordValue(Math.max(1, Math.round((performance.now() - p0) * 1000)));
        if (batch.length === 0) break;
        n += batch.length;
        from = batch[batch.length - 1]!.position;
      }
    } finally {
      await store.close();
    }
  } else {
    const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
    try {
      const js = jetstream(nc);
      t0 = performance.now();
      const consumer = await js.consumers.get(names.categoryStream('adapter'), { filter_subjects: names.categoryFilter('adapter') });
      const iter = await consumer.consume({ max_messages: page });
      let p0 = performance.now();
      let sink = 0;
      let pageOf: unknown[] = [];
      for await (const m of iter) {
        if (kind === 'raw') {
          pageOf.push(m.json());
          if (pageOf.length === page) pageOf = [];
        } else if (kind === 'raw-stream') sink += m.json<{ version: number }>().version;
        else sink += m.data.length;
        if (++n % page === 0) {
          h.recordValue(Math.max(1, Math.round((performance.now() - p0) * 1000)));
          p0 = performance.now();
        }
        if (n >= events) break;
      }
      await iter.close();
      if (sink < 0) process.stderr.write('');
    } finally {
      await nc.close();
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    kind,
    events: n,
    seconds: roundTo(seconds, 3),
    eventsPerSecond: roundTo(n / seconds, 1),
    pageLatencyMs: { p50: roundTo(h.getValueAtPercentile(50) / 1000, 2), p99: roundTo(h.getValueAtPercentile(99) / 1000, 2) },
  };
}

function best<T extends { kind: string }>(rs: T[], kind: string, key: (r: T) => number): number {
  return Math.max(...rs.filter((r) => r.kind === kind).map(key));
}

async function main(): Promise<void> {
  const loadAtStart = loadavg().map((x) => x.toFixed(2));
  const skip = new Set(args.skip);
  const workers = Number(args.workers);
  const rounds = Number(args.rounds);
  await using servers = await openServers({ natsUrl: args['nats-url'] }, { postgres: false, nats: true });
  const natsUrl = servers.natsUrl!;
  const namespace = `bench_${Date.now().toString(36)}`;
  const external = !servers.nats;
  process.stderr.write(`nats ${external ? 'external' : 'managed'} at ${natsUrl}; namespace ${namespace}\n`);

  // Both category streams created by the adapter, so raw and adapter write into identical configs.
  const setup = await createJetStreamStore({ natsUrl, namespace });
  await setup.appendToStream('raw-setup', [{ id: 'setup-raw', type: 'bench.setup', data: {} }]);
  await setup.appendToStream('adapter-setup', [{ id: 'setup-adapter', type: 'bench.setup', data: {} }]);
  await setup.close();

  const append: PhaseResult[] = [];
  const replay: ReplayResult[] = [];
  let round = 0;
  try {
    if (!skip.has('append')) {
      const counts = skip.has('workers') || workers <= 1 ? [1] : [1, workers];
      for (const w of counts) {
        for (let r = 0; r < rounds; r++) {
          for (const kind of (r % 2 === 0 ? ['raw', 'adapter'] : ['adapter', 'raw']) as Kind[]) {
            const res = await appendRound(natsUrl, namespace, kind, w, round++);
            append.push(res);
            process.stderr.write(`append ${kind} x${w}: ${res.opsPerSecond}/s, ${res.clientCpuUsPerOp} µs client CPU/op (scavenge ${res.clientScavengeUsPerOp}), p50 ${res.latencyMs.p50} ms, p99 ${res.latencyMs.p99} ms, errors ${res.errors}\n`);
          }
        }
      }
    }
    if (!skip.has('replay')) {
      // Fill the adapter stream up to --replay-events if the append phase left fewer.
      const store = await createJetStreamStore({ natsUrl, namespace });
      const have = (await store.storageStats()).detail[`${jetStreamNames(namespace).categoryStream('adapter')}.messages`] ?? 0;
      const want = Number(args['replay-events']);
      const fill = Array.from({ length: Math.max(0, want - have) }, (_, i) => i);
      for (let i = 0; i < fill.length; i += 512) {
        await Promise.all(fill.slice(i, i + 512).map((k) => store.appendToStream(`adapter-fill${k % 1000}`, [{ id: `fill-${k}`, type: 'case.intake', data: eventData(k, Number(args.bytes)) }])));
      }
      await store.close();
      const events = Math.min(want, have + fill.length);
      for (let r = 0; r < rounds; r++) {
        for (const kind of (r % 2 === 0 ? ['raw', 'adapter', 'raw-stream', 'raw-nodecode'] : ['raw-nodecode', 'raw-stream', 'adapter', 'raw']) as ReplayKind[]) {
          const res = await replayRound(natsUrl, namespace, kind, events);
          replay.push(res);
          process.stderr.write(`replay ${kind}: ${res.events} events, ${res.eventsPerSecond}/s\n`);
        }
      }
    }
  } finally {
    if (external) {
      // Never leave GBs in someone's NATS: delete what this run created.
      const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
      const jsm = await jetstreamManager(nc);
      for (const name of [`${namespace}-raw`, `${namespace}-adapter`, `${namespace}-_deadletters`]) await jsm.streams.delete(name).catch(() => {});
      await nc.close();
    }
  }

  const environment = await captureEnvironment({ natsUrl, ...(servers.nats ? { nats: servers.nats } : {}) });
  const ratios: Record<string, unknown> = {};
  for (const w of [...new Set(append.map((a) => a.workers))]) {
    const rs = append.filter((a) => a.workers === w);
    const raw = best(rs, 'raw', (r) => r.opsPerSecond);
    const adapter = best(rs, 'adapter', (r) => r.opsPerSecond);
    const median = (k: Kind) => {
      const v = rs.filter((r) => r.kind === k).map((r) => r.clientCpuUsPerOp).sort((a, b) => a - b);
      return v[Math.floor(v.length / 2)]!;
    };
    ratios[`append_x${w}`] = {
      raw,
      adapter,
      ratio: roundTo(adapter / raw, 3),
      target: 0.9,
      // Where one process is CPU-bound, its rate ratio is the inverse of the CPU-per-op ratio.
      clientCpuUsPerOp: { raw: median('raw'), adapter: median('adapter'), rawOverAdapter: roundTo(median('raw') / median('adapter'), 3) },
    };
  }
  if (append.some((a) => a.workers > 1)) {
    const one = append.filter((a) => a.workers === 1);
    const many = append.filter((a) => a.workers > 1);
    ratios.workerGain = {
      raw: roundTo(best(many, 'raw', (r) => r.opsPerSecond) / best(one, 'raw', (r) => r.opsPerSecond), 2),
      adapter: roundTo(best(many, 'adapter', (r) => r.opsPerSecond) / best(one, 'adapter', (r) => r.opsPerSecond), 2),
    };
  }
  if (replay.length) {
    const raw = best(replay, 'raw', (r) => r.eventsPerSecond);
    const adapter = best(replay, 'adapter', (r) => r.eventsPerSecond);
    const stream = best(replay, 'raw-stream', (r) => r.eventsPerSecond);
    const ceiling = best(replay, 'raw-nodecode', (r) => r.eventsPerSecond);
    ratios.replay = {
      raw,
      adapter,
      ratio: roundTo(adapter / raw, 3),
      target: 0.8,
      rawStream: stream,
      ratioToRawStream: roundTo(adapter / stream, 3),
      rawNoDecode: ceiling,
      ratioToNoDecode: roundTo(adapter / ceiling, 3),
    };
  }
  const out = {
    benchmark: 'jetstream-append',
    note: `load average (1, 5, 15 min) at start ${loadAtStart.join(' ')}, at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${environment.machine.cores} cores shared by the clients${external ? '' : ' and the server'}: compare ratios within this run; best round of each kind`,
    options: { events: Number(args.events), subjects: Number(args.subjects), window: Number(args.window), workers, rounds, bytes: Number(args.bytes), replayEvents: Number(args['replay-events']), page: Number(args.page) },
    server: {
      external,
      natsUrl: external ? natsUrl : 'managed',
      storage: 'file',
      replicas: 1,
      // As the server reported it (environment capture: version, sync_interval / sync_always from /varz).
      syncInterval: environment.nats?.jetstream.syncInterval ?? null,
      durability: environment.nats?.jetstream.durability ?? 'unknown: the environment capture did not reach the server',
    },
    environment,
    ratios,
    append,
    replay,
  };
  mkdirSync(args.out!, { recursive: true });
  const base = `${args.out}/${new Date().toISOString().replace(/[:.]/g, '-')}`;
  writeFileSync(`${base}.json`, `${JSON.stringify(out, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdown(out));
  process.stdout.write(markdown(out));
  process.stderr.write(`results: ${base}.json\n`);
}

function markdown(out: { options: Record<string, number>; ratios: Record<string, unknown>; append: PhaseResult[]; replay: ReplayResult[]; environment: Awaited<ReturnType<typeof captureEnvironment>>; note: string }): string {
  const e = out.environment;
  const lines = [
    `# JetStream adapter vs raw nats.js (${e.capturedAt})`,
    '',
    `nats-server ${e.nats?.version ?? '?'}, file storage, R1; node ${e.node.version}; ${e.machine.cores} cores; git ${e.git?.revision ?? '?'}. ${out.note}.`,
    `Durability (as the server reported it): ${e.nats?.jetstream.durability ?? 'unknown'}.`,
    `Options: ${Object.entries(out.options).map(([k, v]) => `${k}=${v}`).join(', ')}.`,
    '',
    '| phase | kind | processes | ops | ops/s | client CPU µs/op | of which scavenge | p50 ms | p99 ms | p99.9 ms | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...out.append.map(
      (a) =>
        `| OCC append | ${a.kind} | ${a.workers} | ${a.ops} | ${a.opsPerSecond} | ${a.clientCpuUsPerOp} | ${a.clientScavengeUsPerOp} | ${a.latencyMs.p50} | ${a.latencyMs.p99} | ${a.latencyMs.p999} | ${a.errors} |`,
    ),
    '',
    '| phase | kind | events | events/s | page p50 ms | page p99 ms |',
    '|---|---|---|---|---|---|',
    ...out.replay.map((r) => `| replay | ${r.kind} | ${r.events} | ${r.eventsPerSecond} | ${r.pageLatencyMs.p50} | ${r.pageLatencyMs.p99} |`),
    '',
    '```json',
    JSON.stringify(out.ratios, null, 2),
    '```',
    '',
  ];
  return lines.join('\n');
}

if (args.role === 'worker') {
  worker().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`worker: ${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
} else {
  await main();
}
