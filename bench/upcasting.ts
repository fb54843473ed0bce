/**
 * What upcasting costs in a catch-up (npm run bench:upcasting; src/core/upcasting.ts, docs/hybrid.md
 * §Event schema versions). One PostgreSQL store, `--events` invoice payments of the `invoices-evolving`
 * workload (src/workloads/invoices-evolving.ts) written as the schema evolves mid-run (the first half at
 * schema version 1, `{ cents }`; the second half at the current version 3), then a
 * catch-up read of all of them (readAll, pages of 1000) with and without `withUpcasting`, rounds
 * alternating (plain, upcast, upcast, plain, ...). Reports events/s of each and the ratio, with the share of
 * events that needed upcasting. Results: results/upcasting/<timestamp>.json and .md with the environment.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { EventStore } from '../src/core/event-store.ts';
import { withUpcasting } from '../src/core/upcasting.ts';
import { captureEnvironment } from '../src/infra/environment.ts';
import { openServers } from '../src/infra/servers.ts';
import { createPostgresStore } from '../src/store/postgres/index.ts';
import { upcastersOf } from '../src/workloads/event-schemas.ts';
import { createEvolvingPayments, invoicesEvolvingWorkload } from '../src/workloads/invoices-evolving.ts';

const { values: args } = parseArgs({
  options: {
    'pg-url': { type: 'string', default: process.env.PG_URL },
    'pg-bin': { type: 'string', default: process.env.EVENTBENCH_PG || 'embedded' },
    events: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '6' },
    out: { type: 'string', default: 'results/upcasting' },
  },
});
const EVENTS = Number(args.events);
const ROUNDS = Number(args.rounds);
if (!Number.isInteger(EVENTS) || EVENTS < 1000 || !Number.isInteger(ROUNDS) || ROUNDS < 1) {
  process.stderr.write('bench:upcasting: --events must be an integer >= 1000 and --rounds >= 1\n');
  process.exit(2);
}

const chain = upcastersOf(invoicesEvolvingWorkload.name)!;
const CATEGORY = invoicesEvolvingWorkload.category;

async function catchUp(store: EventStore): Promise<{ events: number; seconds: number; perSecond: number }> {
  const t0 = performance.now();
  let from = 0;
  let n = 0;
  for (let page = 0; page < EVENTS; page++) {
    const events = await store.readAll({ category: CATEGORY, fromPosition: from, limit: 1000 });
    if (events.length === 0) break;
    n += events.length;
    from = events[events.length - 1]!.position;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { events: n, seconds, perSecond: Math.round(n / seconds) };
}

async function main(): Promise<void> {
  const servers = await openServers({ infra: 'auto', pgUrl: args['pg-url'], pgBin: args['pg-bin'] }, { postgres: true, nats: false });
  const schema = `upcastbench_${Date.now().toString(36)}`;
  const store = await createPostgresStore({ pgUrl: servers.pgUrl!, schema, poolSize: 4, outbox: false });
  try {
    await store.init();
    const loadAtStart = loadavg();
    // The workload's own events, 100 to an append (its streams and expected versions set aside: the
    // catch-up reads the category, and batches keep the writing part short).
    const generator = createEvolvingPayments({ seed: 1, legacyEvents: EVENTS / 2 });
    for (let i = 0; i < EVENTS; i += 100) {
      const events = Array.from({ length: Math.min(100, EVENTS - i) }, () => generator.next().events).flat();
      await store.appendToStream(`${CATEGORY}-bench${i / 100}`, events);
    }
    const upcasting = withUpcasting(store, chain);
    // Settle the table before timing: the first reads of freshly written rows set their hint bits (and
    // write those pages), and autovacuum starts on a table that just grew by EVENTS rows; either made the
    // first rounds of a run 10x slower than the rest (measured 2026-12-04: 20,000/s against 200,000/s).
    const admin = new pg.Client({ connectionString: servers.pgUrl! });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE schemaname = $1', [schema]);
      for (const { tablename } of rows) await admin.query(`VACUUM (ANALYZE) ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(tablename)}`);
      await admin.query('CHECKPOINT').catch(() => {}); // needs superuser or pg_checkpoint: skipped without
    } finally {
      await admin.end();
    }
    await catchUp(store); // warm-up: caches, JIT
    await catchUp(upcasting);
    const plain: number[] = [];
    const upcast: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (const which of r % 2 === 0 ? ['plain', 'upcast'] : ['upcast', 'plain']) {
        const result = await catchUp(which === 'plain' ? store : upcasting);
        if (result.events !== EVENTS) throw new Error(`read ${result.events} of ${EVENTS} events`);
        (which === 'plain' ? plain : upcast).push(result.perSecond);
        process.stdout.write(`round ${r + 1} ${which}: ${result.perSecond} events/s\n`);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const out = {
      benchmark: 'upcasting',
      options: { workload: invoicesEvolvingWorkload.name, events: EVENTS, rounds: ROUNDS, upcastShare: 0.5, steps: 2 },
      plainPerSecond: plain,
      upcastPerSecond: upcast,
      ratio: Math.round((median(upcast) / median(plain)) * 100) / 100,
      loadAverage: { start: loadAtStart, end: loadavg() },
      environment: await captureEnvironment({ pgUrl: servers.pgUrl! }),
    };
    mkdirSync(args.out!, { recursive: true });
    const base = `${args.out}/${new Date().toISOString().replace(/[:.]/g, '-')}`;
    writeFileSync(`${base}.json`, `${JSON.stringify(out, null, 2)}\n`);
    writeFileSync(
      `${base}.md`,
      `# Upcasting in a catch-up\n\n${EVENTS} events, half of them stored at schema version 1 (two steps to the current 3). ` +
        `Catch-up (readAll, pages of 1000) plain: ${plain.join(', ')} events/s; with upcasting: ${upcast.join(', ')} events/s; ` +
        `median ratio ${out.ratio}x. Load average at start ${loadAtStart.map((v) => v.toFixed(2)).join(' ')}, at end ${out.loadAverage.end.map((v) => v.toFixed(2)).join(' ')}.\n`,
    );
    process.stdout.write(`upcasting / plain: ${out.ratio}x; wrote ${base}.json and .md\n`);
    await store.pool.query(`DROP SCHEMA "${schema}" CASCADE`);
  } finally {
    await store.close();
    await servers.stop();
  }
}

await main();
