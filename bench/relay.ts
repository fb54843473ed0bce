/**
 * The hybrid topology's relay, both modes side by side (npm run bench:relay; docs/hybrid.md §Benchmark).
 *
 * Per round, in one run on one PostgreSQL (wal_level=logical) and one nats-server:
 * 1. Raw references: PostgreSQL append (the one-statement OCC append with its outbox row, through the
 *    postgres adapter as the hybrid writes, `--writers` connections) and raw JetStream publish (nats.js
 *    `js.publish` with `Nats-Msg-Id`, `--in-flight` acks outstanding) of the same bodies, each for
 *    `--duration` seconds. The relay cannot be faster than the slower of the two.
 * 2. Relay throughput, per mode (`poll`: FOR UPDATE SKIP LOCKED + NOTIFY; `logical`: pgoutput slot): with
 *    the relay running, `--backlog` events appended as fast as the writers go, timed until the outbox is
 *    empty (see relayThroughput). Target: >= 0.8x of the slower raw reference.
 * 3. Commit -> consume latency, per mode: appends at `--rate` per second (open loop, each scheduled at its
 *    intended time) for `--duration` seconds with a JetStream consumer; latency from the append's
 *    acknowledgement (PostgreSQL commit) to the consumer's handler, HdrHistogram.
 * Modes alternate within each round (the machine is shared: noise hits both alike). Results:
 * results/relay/<timestamp>.json and .md with the environment.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import type { NewEvent } from '../src/core/event-store.ts';
import { captureEnvironment } from '../src/infra/environment.ts';
import { LOGICAL_DECODING_SETTINGS } from '../src/infra/managed-postgres.ts';
import { openServers } from '../src/infra/servers.ts';
import { newHistogram, recordMs, summarize, type LatencySummary } from '../src/report/histogram.ts';
import { createHybridStore, type HybridStore } from '../src/store/hybrid/index.ts';
import { hybridDescriptor, type RelayMode } from '../src/store/hybrid/descriptor.ts';
import { slotName } from '../src/store/hybrid/logical-relay.ts';
import { createPostgresStore } from '../src/store/postgres/index.ts';

const { values: args } = parseArgs({
  options: {
    'pg-url': { type: 'string', default: process.env.PG_URL },
    'nats-url': { type: 'string', default: process.env.NATS_URL },
    'pg-bin': { type: 'string', default: process.env.EVENTBENCH_PG || 'embedded' },
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    writers: { type: 'string', default: '16' },
    'in-flight': { type: 'string', default: '256' },
    backlog: { type: 'string', default: '20000' },
    rate: { type: 'string', default: '500' },
    'batch-size': { type: 'string', default: '500' },
    out: { type: 'string', default: 'results/relay' },
  },
});
const DURATION_MS = Number(args.duration) * 1000;
const ROUNDS = Number(args.rounds);
const WRITERS = Number(args.writers);
const IN_FLIGHT = Number(args['in-flight']);
const BACKLOG = Number(args.backlog);
const RATE = Number(args.rate);
const BATCH = Number(args['batch-size']);
const MODES: RelayMode[] = ['poll', 'logical'];
for (const [name, v] of Object.entries({ duration: DURATION_MS, rounds: ROUNDS, writers: WRITERS, 'in-flight': IN_FLIGHT, backlog: BACKLOG, rate: RATE, 'batch-size': BATCH })) {
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`bench:relay: --${name} must be a positive number\n`);
    process.exit(2);
  }
}

const body = (i: number) => ({ seq: i, amount: (i * 7919) % 100_000, status: 'open', note: 'x'.repeat(900) });
const ev = (id: string, i: number): NewEvent => ({ id, type: 'relay.benched', data: body(i) });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface RateResult {
  events: number;
  seconds: number;
  perSecond: number;
}
const rate = (events: number, ms: number): RateResult => ({ events, seconds: ms / 1000, perSecond: Math.round((events / ms) * 1000) });

async function rawPostgresAppend(pgUrl: string, schema: string): Promise<RateResult> {
  const store = await createPostgresStore({ pgUrl, schema, poolSize: WRITERS, notify: false });
  try {
    await store.init();
    let n = 0;
    const end = Date.now() + DURATION_MS;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 0; Date.now() < end; i++) {
          await store.appendToStream(`raw-${w}_${i % 500}`, [ev(`raw-${schema}-${w}-${i}`, i)]);
          n++;
        }
      }),
    );
    return rate(n, Date.now() - t0);
  } finally {
    await store.close();
  }
}

async function rawJetStreamPublish(natsUrl: string, ns: string): Promise<RateResult> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: `${ns}-raw`, subjects: [`${ns}.raw.*`] });
    const js = jetstream(nc);
    const encoder = new TextEncoder();
    let n = 0;
    const end = Date.now() + DURATION_MS;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async (_, w) => {
        for (let i = 0; Date.now() < end; i++) {
          await js.publish(`${ns}.raw.s${w % 500}`, encoder.encode(JSON.stringify(body(i))), { msgID: `${ns}-${w}-${i}` });
          n++;
        }
      }),
    );
    const result = rate(n, Date.now() - t0);
    await jsm.streams.delete(`${ns}-raw`);
    return result;
  } finally {
    await nc.close();
  }
}

const openHybrid = (pgUrl: string, natsUrl: string, ns: string, relay: RelayMode) =>
  createHybridStore({ pgUrl, natsUrl, namespace: ns, settings: hybridDescriptor.parseSettings({ relay, relayBatchSize: BATCH, poolSize: WRITERS }) });

/**
 * Relay throughput: the relay runs first (for `logical` its slot must exist before the events are
 * committed, or they would be drained from the outbox by the polling path instead), then `--backlog`
 * events are appended in 100-event appends by `--writers` writers as fast as they go, and the clock stops
 * when the last one is relayed. When the relay finishes with the writers it kept up, and the rate is a
 * lower bound (`keptUp`): then the writers, not the relay, were the limit.
 */
async function relayThroughput(pgUrl: string, natsUrl: string, ns: string, mode: RelayMode): Promise<RateResult & { writeSeconds: number; keptUp: boolean }> {
  const relay = await openHybrid(pgUrl, natsUrl, ns, mode);
  try {
    await relay.init();
    if (mode === 'logical') {
      for (let polls = 0; polls < 500 && !(await slotActive(pgUrl, ns)); polls++) await sleep(20);
    }
    const t0 = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        for (let i = (next += 100) - 100; i < BACKLOG; i = (next += 100) - 100) {
          await relay.appendToStream(`backlog-${i / 100}`, Array.from({ length: Math.min(100, BACKLOG - i) }, (_, k) => ev(`${ns}-b${i + k}`, i + k)));
        }
      }),
    );
    const written = Date.now();
    for (let polls = 0; polls < 60_000 && (await relay.relayLag()).pending > 0; polls++) await sleep(20);
    const done = Date.now();
    // Within 100 ms of the last commit: the relay was never the bottleneck.
    return { ...rate(BACKLOG, done - t0), writeSeconds: (written - t0) / 1000, keptUp: done - written < 100 };
  } finally {
    await relay.close();
  }
}

async function slotActive(pgUrl: string, ns: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active', [slotName(ns)]);
    return rows.length > 0;
  } finally {
    await client.end();
  }
}

async function commitToConsume(pgUrl: string, natsUrl: string, ns: string, mode: RelayMode): Promise<{ latency: LatencySummary; appended: number; consumed: number }> {
  const store: HybridStore = await openHybrid(pgUrl, natsUrl, ns, mode);
  const acked = new Map<string, number>();
  /** Handled before the append's acknowledgement reached the writer (the commit is on the server first). */
  const early = new Map<string, number>();
  const hist = newHistogram();
  let consumed = 0;
  try {
    await store.init();
    await store.subscribe('latency', (e) => {
      if (!e.id.startsWith(`${ns}-l`)) return;
      const t = acked.get(e.id);
      if (t === undefined) {
        early.set(e.id, performance.now());
        return;
      }
      recordMs(hist, performance.now() - t);
      acked.delete(e.id);
      consumed++;
    }, { category: 'live', from: 'end', maxInFlight: 1000, batchSize: 200 });
    const t0 = performance.now();
    const total = Math.floor((RATE * DURATION_MS) / 1000);
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const intended = t0 + (i * 1000) / RATE;
      const wait = intended - performance.now();
      if (wait > 0) await sleep(wait);
      const id = `${ns}-l${i}`;
      inFlight.push(
        store.appendToStream(`live-${i % 100}`, [ev(id, i)]).then(() => {
          const at = performance.now();
          const handled = early.get(id);
          if (handled === undefined) return void acked.set(id, at);
          recordMs(hist, handled - at); // negative: counted as 0 ms
          early.delete(id);
          consumed++;
        }),
      );
    }
    await Promise.all(inFlight);
    for (let polls = 0; polls < 1_500 && acked.size > 0; polls++) await sleep(20);
    return { latency: summarize(hist), appended: total, consumed };
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  const servers = await openServers(
    { infra: 'auto', pgUrl: args['pg-url'], natsUrl: args['nats-url'], pgBin: args['pg-bin'], pgSettings: LOGICAL_DECODING_SETTINGS },
    { postgres: true, nats: true },
  );
  try {
    const pgUrl = servers.pgUrl!;
    const natsUrl = servers.natsUrl!;
    const loadAtStart = loadavg();
    const rounds: Record<string, unknown>[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const ns = `relaybench_${Date.now().toString(36)}_${r}`;
      const rawPg = await rawPostgresAppend(pgUrl, `${ns}_raw`);
      const rawJs = await rawJetStreamPublish(natsUrl, ns);
      const slower = Math.min(rawPg.perSecond, rawJs.perSecond);
      const modes: Record<string, unknown> = {};
      for (const mode of r % 2 === 0 ? MODES : [...MODES].reverse()) {
        const throughput = await relayThroughput(pgUrl, natsUrl, `${ns}_${mode}`, mode);
        const live = await commitToConsume(pgUrl, natsUrl, `${ns}_${mode}_live`, mode);
        modes[mode] = { throughput, vsSlowerRaw: Math.round((throughput.perSecond / slower) * 100) / 100, commitToConsume: live };
        process.stdout.write(`round ${r + 1} ${mode}: relay ${throughput.perSecond}/s (${(throughput.perSecond / slower).toFixed(2)}x of ${slower}/s), commit->consume p50 ${live.latency.p50} ms p99 ${live.latency.p99} ms at ${RATE}/s\n`);
      }
      rounds.push({ rawPostgresAppend: rawPg, rawJetStreamPublish: rawJs, modes });
      await dropSchemas(pgUrl, ns);
    }
    const environment = await captureEnvironment({ pgUrl, natsUrl, ...(servers.nats ? { nats: servers.nats } : {}) });
    const out = {
      benchmark: 'relay',
      options: { durationSeconds: DURATION_MS / 1000, rounds: ROUNDS, writers: WRITERS, inFlight: IN_FLIGHT, backlog: BACKLOG, rate: RATE, batchSize: BATCH },
      target: 'relay throughput >= 0.8x of the slower of raw PostgreSQL append and raw JetStream publish, same run',
      loadAverage: { start: loadAtStart, end: loadavg() },
      rounds,
      environment,
    };
    mkdirSync(args.out!, { recursive: true });
    const base = `${args.out}/${new Date().toISOString().replace(/[:.]/g, '-')}`;
    writeFileSync(`${base}.json`, `${JSON.stringify(out, null, 2)}\n`);
    writeFileSync(`${base}.md`, markdown(out));
    process.stdout.write(`wrote ${base}.json and .md\n`);
  } finally {
    await servers.stop();
  }
}

async function dropSchemas(pgUrl: string, prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${prefix}%`]);
    for (const r of rows) await client.query(`DROP SCHEMA "${r.nspname}" CASCADE`);
  } finally {
    await client.end();
  }
}

function markdown(out: { options: Record<string, number>; rounds: Record<string, unknown>[]; loadAverage: { start: number[]; end: number[] } }): string {
  const lines = [
    '# Relay: polling vs logical decoding',
    '',
    `Options: ${JSON.stringify(out.options)}. Load average at start ${out.loadAverage.start.map((v) => v.toFixed(2)).join(' ')}, at end ${out.loadAverage.end.map((v) => v.toFixed(2)).join(' ')}.`,
    '',
    '| round | raw PG append/s | raw JetStream publish/s | mode | relay/s | vs slower raw | commit->consume p50 / p99 / max ms |',
    '|---|---|---|---|---|---|---|',
  ];
  out.rounds.forEach((round, i) => {
    const r = round as { rawPostgresAppend: RateResult; rawJetStreamPublish: RateResult; modes: Record<string, { throughput: RateResult & { keptUp: boolean }; vsSlowerRaw: number; commitToConsume: { latency: LatencySummary } }> };
    for (const [mode, m] of Object.entries(r.modes)) {
      const l = m.commitToConsume.latency;
      lines.push(`| ${i + 1} | ${r.rawPostgresAppend.perSecond} | ${r.rawJetStreamPublish.perSecond} | ${mode} | ${m.throughput.keptUp ? '>= ' : ''}${m.throughput.perSecond} | ${m.vsSlowerRaw}x | ${l.p50} / ${l.p99} / ${l.max} |`);
    }
  });
  return `${lines.join('\n')}\n`;
}

await main();
