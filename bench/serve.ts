/**
 * Does `eventbench serve` keep up with the store? (npm run bench:serve; docs/event-api.md §Benchmark.)
 *
 * Per backend (default postgres and jetstream, one after the other on the same servers): `serve` runs over
 * the store with `--clients` Server-Sent-Event clients connected to `/events/stream`; document events are
 * appended open loop at `--rate` (default 5,000/s) for `--duration`, each scheduled at its intended time with
 * at most `--in-flight` appends outstanding (a late append is measured from its intended time: no
 * coordinated omission). Every client records, for every event, the time from the append's intended time
 * (and from its acknowledgement) to the SSE message that carried it, in HdrHistograms. Target: p99 under
 * 1 s from the intended time, with every acknowledged event seen by every client.
 *
 * The appends and the server share this process's event loop (the SSE clients run in a worker thread,
 * bench/serve-clients.ts): a result says how busy that loop was (event-loop delay), since a saturated load
 * side would be measured as a slow server.
 * Results: results/serve/<timestamp>.json and .md with the environment. Do not commit numbers measured on
 * a machine shared with other work. Each backend gets a namespace of its own (`servebench_<time>`): on
 * managed servers it goes with them, on external ones (--pg-url / --nats-url) it is dropped at the end.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { EventStore, NewEvent } from '../src/core/event-store.ts';
import { captureEnvironment } from '../src/infra/environment.ts';
import { openServers } from '../src/infra/servers.ts';
import { newHistogram, recordMs, summarize, type LatencySummary } from '../src/report/histogram.ts';
import { parseDuration, parsePositiveInt, parseRate } from '../src/runners/load/parse.ts';
import { startServe, type ServeHandle } from '../src/runners/serve/run.ts';
import { createStore, isBackendName, type BackendName } from '../src/store/index.ts';
import { documentsWorkload } from '../src/workloads/documents.ts';
import { dropNamespace } from './drop-namespace.ts';
import type { ClientsConfig, ClientsMessage } from './serve-clients.ts';

const { values: args } = parseArgs({
  options: {
    'pg-url': { type: 'string', default: process.env.PG_URL },
    'nats-url': { type: 'string', default: process.env.NATS_URL },
    'pg-bin': { type: 'string', default: process.env.EVENTBENCH_PG || 'embedded' },
    backends: { type: 'string', default: 'postgres,jetstream' },
    rate: { type: 'string', default: '5000/s' },
    duration: { type: 'string', default: '10s' },
    clients: { type: 'string', default: '4' },
    'in-flight': { type: 'string', default: '256' },
    // Events per append (one new stream each): --rate counts events, so at --batch 5 the store takes a
    // fifth as many commits. An append is sent when its last event is due; its first events wait for it,
    // and that wait counts in their latency (measured from each event's own intended time).
    batch: { type: 'string', default: '1' },
    'pool-size': { type: 'string', default: '16' },
    drain: { type: 'string', default: '10s' },
    out: { type: 'string', default: 'results/serve' },
  },
});

function parseOrExit<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    process.stderr.write(`bench:serve: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
const RATE = parseOrExit(() => parseRate(args.rate!));
const DURATION_MS = parseOrExit(() => parseDuration(args.duration!, '--duration', { maxMs: 3_600_000 }));
const DRAIN_MS = parseOrExit(() => parseDuration(args.drain!, '--drain', { maxMs: 600_000 }));
const CLIENTS = parseOrExit(() => parsePositiveInt(args.clients!, '--clients', 64));
const IN_FLIGHT = parseOrExit(() => parsePositiveInt(args['in-flight']!, '--in-flight', 4096));
const BATCH = parseOrExit(() => parsePositiveInt(args.batch!, '--batch', 100));
/** PostgreSQL connections for the appends (16: the writers of the single-append bench, docs/bench.md §The append benchmarks). */
const POOL_SIZE = parseOrExit(() => parsePositiveInt(args['pool-size']!, '--pool-size', 256));
const BACKENDS = args.backends!.split(',').map((b) => b.trim());
for (const b of BACKENDS) {
  if (!isBackendName(b) || b === 'memory') {
    process.stderr.write(`bench:serve: --backends: unknown or in-process backend ${JSON.stringify(b)}; use postgres, jetstream, hybrid\n`);
    process.exit(2);
  }
}
/** The target this benchmark checks (docs/event-api.md §Benchmark). */
const TARGET_P99_MS = 1000;
const TICK_MS = 5;

interface BackendRun {
  backend: string;
  targetRate: number;
  achievedRate: number;
  appended: number;
  failed: number;
  firstError?: string;
  /** Events that were never sent because `--in-flight` appends were outstanding until the run ended. */
  notSent: number;
  /** Acknowledged events each client did not see within the drain time. */
  unseenPerClient: number[];
  fromIntended: LatencySummary;
  fromAck: LatencySummary;
  /** SSE clients connected to `/events/stream` throughout the run. */
  clients: number;
  targetMet: boolean;
  /** `PASS` when the target was met: p99 from the intended append time under 1 s, every event seen by every client. */
  verdict: 'PASS' | 'FAIL';
  /** Why a FAIL failed, one phrase each (empty on PASS): the store not taking the rate reads differently from a slow `serve`. */
  failReasons: string[];
  eventLoopDelayP99Ms: number;
}

async function runBackend(backend: BackendName, pgUrl: string | undefined, natsUrl: string | undefined, external: { pgUrl?: string; natsUrl?: string }): Promise<BackendRun> {
  const namespace = `servebench_${Date.now().toString(36)}`;
  const settings = backend === 'jetstream' ? {} : { settings: { poolSize: POOL_SIZE } };
  const store: EventStore = await createStore(backend, { namespace, ...(pgUrl ? { pgUrl } : {}), ...(natsUrl ? { natsUrl } : {}), ...settings });
  // Owned here until the run ends, also when it fails half-way: the HTTP server and the clients' thread.
  let serve: ServeHandle | undefined;
  let clients: Worker | undefined;
  try {
    await store.init();
    serve = await startServe(store, { host: '127.0.0.1', port: 0, subscription: 'servebench' });
    const intended = new Map<string, number>();
    const acked = new Map<string, number>();
    const fromIntended = newHistogram();
    const fromAck = newHistogram();
    const seen: Set<string>[] = Array.from({ length: CLIENTS }, () => new Set<string>());
    clients = new Worker(new URL('./serve-clients.mjs', import.meta.url), {
      workerData: { url: `${serve.url}/events/stream?limit=1`, clients: CLIENTS } satisfies ClientsConfig,
    });
    const worker = clients;
    const clientsEnded = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const opened = new Promise<void>((resolve, reject) => {
      worker.on('error', reject);
      worker.on('message', (m: ClientsMessage) => {
        if (m.kind === 'opened') resolve();
        else if (m.kind === 'error') reject(new Error(`SSE clients: ${m.message}`));
        else {
          const mine = seen[m.client]!;
          m.ids.forEach((id, k) => {
            const sentAt = intended.get(id);
            if (sentAt === undefined || mine.has(id)) return;
            mine.add(id);
            const at = m.ats[k]!;
            recordMs(fromIntended, at - sentAt);
            // The SSE message can overtake the append's acknowledgement callback: count that as 0.
            recordMs(fromAck, Math.max(0, at - (acked.get(id) ?? at)));
          });
        }
      });
    });
    await opened;
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();

    const gen = documentsWorkload.create({ seed: 1 });
    const total = Math.round((RATE * DURATION_MS) / 1000);
    let sent = 0;
    let inFlight = 0;
    let appended = 0;
    let failed = 0;
    let firstError: string | undefined;
    const start = Date.now();
    /** Append `j`: events j*BATCH .. j*BATCH+BATCH-1 of the schedule, each with its own intended time. */
    const send = (j: number) => {
      const first = j * BATCH;
      const count = Math.min(BATCH, total - first);
      const events = Array.from({ length: count }, (_, k) => {
        const event = gen.next().events[0]!;
        intended.set(event.id, start + ((first + k) * 1000) / RATE);
        return event;
      });
      // Each append its own stream: no version conflicts between appends in flight.
      const stream = `document-b${j}`;
      inFlight++;
      store.appendToStream(stream, events, { expectedVersion: 'no_stream' }).then(
        () => {
          const now = Date.now();
          for (const e of events) acked.set(e.id, now);
          appended += count;
        },
        (err: Error) => {
          for (const e of events) intended.delete(e.id);
          failed += count;
          firstError ??= err.message;
        },
      ).finally(() => inFlight--);
      sent += count;
    };
    // Open loop: every tick sends the appends whose last event is due by now, up to the in-flight bound.
    let nextAppend = 0;
    while (sent < total && Date.now() - start < DURATION_MS + DRAIN_MS) {
      const dueEvents = Math.min(total, Math.floor(((Date.now() - start) * RATE) / 1000) + 1);
      while (inFlight < IN_FLIGHT && sent < total && Math.min(total, (nextAppend + 1) * BATCH) <= dueEvents) send(nextAppend++);
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
    const sendMs = Date.now() - start;
    const notSent = total - sent;
    const drainEnd = Date.now() + DRAIN_MS;
    while ((inFlight > 0 || seen.some((s) => s.size < appended)) && Date.now() < drainEnd) await new Promise((r) => setTimeout(r, 20));
    loop.disable();
    clients.postMessage('stop');
    await clientsEnded;
    await serve.close();
    const latency = summarize(fromIntended);
    const achievedRate = Math.round((appended / sendMs) * 1000);
    const ackToSse = summarize(fromAck);
    const unseen = seen.map((s) => Math.max(0, appended - s.size));
    const failReasons = [
      ...(failed || notSent ? [`${failed} appends failed, ${notSent} not sent (${firstError ?? `--in-flight ${IN_FLIGHT} outstanding`})`] : []),
      ...(unseen.some((u) => u > 0) ? [`events not seen by every client within the ${DRAIN_MS / 1000} s drain: ${unseen.join(', ')}`] : []),
      ...(latency.count > 0 && latency.p99 >= TARGET_P99_MS
        ? [
            `p99 from the intended append time ${latency.p99} ms >= ${TARGET_P99_MS} ms` +
              (achievedRate < RATE * 0.95 ? ` (the store took ${achievedRate}/s of ${RATE}/s; from the acknowledgement to the SSE message p99 ${ackToSse.p99} ms)` : ''),
          ]
        : []),
      ...(latency.count === 0 ? ['no event reached a client'] : []),
    ];
    const targetMet = failReasons.length === 0;
    return {
      backend,
      targetRate: RATE,
      achievedRate,
      appended,
      failed,
      ...(firstError ? { firstError } : {}),
      notSent,
      unseenPerClient: unseen,
      fromIntended: latency,
      fromAck: ackToSse,
      clients: CLIENTS,
      targetMet,
      verdict: targetMet ? 'PASS' : 'FAIL',
      failReasons,
      eventLoopDelayP99Ms: Math.round(loop.percentile(99) / 1e4) / 100,
    };
  } finally {
    await clients?.terminate();
    await serve?.close();
    await store.close();
    await dropNamespace(namespace, external);
  }
}

function markdown(out: { runs: BackendRun[]; options: Record<string, unknown>; verdict: string }): string {
  const lines = [
    '# eventbench serve: append -> SSE latency under load',
    '',
    `Options: ${JSON.stringify(out.options)}. Target: every acknowledged event seen by every SSE client, p99 from the intended append time to the SSE message < ${TARGET_P99_MS} ms. Verdict: **${out.verdict}**.`,
    '',
    '| backend | rate (target / achieved), events/s | SSE clients | appended | failed | not sent | unseen (per client) | append -> SSE receive p50 / p99 / max, ms (from the intended time) | ack -> SSE receive p50 / p99 / max, ms | event-loop delay p99, ms | verdict |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of out.runs) {
    const ms = (l: LatencySummary) => `${l.p50} / ${l.p99} / ${l.max}`;
    lines.push(
      `| ${r.backend} | ${r.targetRate} / ${r.achievedRate} | ${r.clients} | ${r.appended} | ${r.failed} | ${r.notSent} | ${r.unseenPerClient.join(', ')} | ${ms(r.fromIntended)} | ${ms(r.fromAck)} | ${r.eventLoopDelayP99Ms} | ${r.verdict} |`,
    );
  }
  const failures = out.runs.filter((r) => r.failReasons.length);
  if (failures.length) lines.push('', ...failures.map((r) => `- ${r.backend} FAIL: ${r.failReasons.join('; ')}`));
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const needs = { postgres: BACKENDS.some((b) => b !== 'jetstream'), nats: BACKENDS.some((b) => b !== 'postgres') };
  const servers = await openServers({ infra: 'auto', pgUrl: args['pg-url'], natsUrl: args['nats-url'], pgBin: args['pg-bin'] }, needs);
  try {
    const loadAtStart = loadavg();
    const runs: BackendRun[] = [];
    for (const backend of BACKENDS as BackendName[]) {
      // Servers it did not start keep nothing of the run: their URLs are where its namespace is dropped.
      const external = { ...(servers.pgUrl && !servers.postgres ? { pgUrl: servers.pgUrl } : {}), ...(servers.natsUrl && !servers.nats ? { natsUrl: servers.natsUrl } : {}) };
      const r = await runBackend(backend, servers.pgUrl, servers.natsUrl, external);
      process.stdout.write(
        `${backend}: ${r.achievedRate}/s of ${r.targetRate}/s appended, ${r.clients} SSE clients, append -> SSE p50 ${r.fromIntended.p50} ms p99 ${r.fromIntended.p99} ms max ${r.fromIntended.max} ms, unseen ${r.unseenPerClient.join('/')}: ${r.verdict} (p99 < ${TARGET_P99_MS} ms)${r.failReasons.length ? `: ${r.failReasons.join('; ')}` : ''}\n`,
      );
      runs.push(r);
    }
    const environment = await captureEnvironment(servers);
    const options = { rate: RATE, eventsPerAppend: BATCH, durationSeconds: DURATION_MS / 1000, clients: CLIENTS, inFlight: IN_FLIGHT, poolSize: POOL_SIZE, drainSeconds: DRAIN_MS / 1000, backends: BACKENDS };
    const out = {
      benchmark: 'serve',
      options,
      target: `every acknowledged event seen by every SSE client; p99 from the intended append time < ${TARGET_P99_MS} ms`,
      verdict: runs.every((r) => r.targetMet) ? 'PASS' : 'FAIL',
      loadAverage: { start: loadAtStart, end: loadavg() },
      runs,
      environment,
    };
    mkdirSync(args.out!, { recursive: true });
    const base = `${args.out}/${new Date().toISOString().replace(/[:.]/g, '-')}`;
    writeFileSync(`${base}.json`, `${JSON.stringify(out, null, 2)}\n`);
    writeFileSync(`${base}.md`, markdown(out));
    process.stdout.write(`${out.verdict}: wrote ${base}.json and .md\n`);
    if (out.verdict !== 'PASS') process.exitCode = 1;
  } finally {
    await servers.stop();
  }
}

await main();
