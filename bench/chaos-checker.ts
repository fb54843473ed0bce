/**
 * The chaos checker's cost (target: verifying N acknowledged events takes at most 2x a raw read of them).
 *
 * Loads N events (default 1,000,000; --events N) into a PostgreSQL schema server-side, shaped as the chaos
 * writers write them (--writers processes, each owning --streams / --writers streams, contiguous versions,
 * the writers' small payload; --data-bytes adds a padding string), and the matching history: per event an
 * `append` invoke and its `ok`, as the writers record them. Then, alternating and after a warm-up pass:
 *   raw        a keyset SELECT loop over the category with `pg` (pages of --page), rows parsed, nothing kept
 *   readBack   the checker's read-back alone: `readAll` by category through the contract, pages dropped
 *   check      `checker.check(readBack)` with the history folded in while it was recorded (a chaos run's
 *              path: the checker's index is built as the run goes, so verifying = read back + compare)
 *   file       reading the history file back (validated) into a new checker, then `check`: re-checking a
 *              finished run from its files
 * Ratios are to `raw` of the same round. Prints a Markdown table; --out DIR also writes <timestamp>.json/.md.
 * Server: --pg-url / PG_URL, else a managed one (--pg-bin embedded | system | DIR).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { captureEnvironment } from '../src/infra/environment.ts';
import { openServers } from '../src/infra/servers.ts';
import { createChecker, type Checker } from '../src/runners/chaos/checker.ts';
import { createHistoryWriter, replayHistory, type HistorySink } from '../src/runners/chaos/history.ts';
import { readBack } from '../src/runners/chaos/read-back.ts';
import { COUNT_NAMES, countOf, type Verdict } from '../src/runners/chaos/verdict.ts';
import { createStore } from '../src/store/index.ts';

const { values: args } = parseArgs({
  options: {
    'pg-url': { type: 'string', default: process.env.PG_URL },
    'pg-bin': { type: 'string', default: process.env.EVENTBENCH_PG || 'embedded' },
    events: { type: 'string', default: '1000000' },
    writers: { type: 'string', default: '16' },
    streams: { type: 'string', default: '1024' },
    page: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '2' },
    'data-bytes': { type: 'string', default: '0' },
    skip: { type: 'string', multiple: true, default: [] }, // file
    out: { type: 'string' },
  },
});

function positiveInt(name: string, value: string | undefined, min = 1): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) {
    process.stderr.write(`--${name} ${value}: expected an integer >= ${min}\n`);
    process.exit(2);
  }
  return n;
}
const EVENTS = positiveInt('events', args.events);
const WRITERS = positiveInt('writers', args.writers);
const STREAMS = positiveInt('streams', args.streams);
const PAGE = positiveInt('page', args.page);
const ROUNDS = positiveInt('rounds', args.rounds);
const DATA_BYTES = positiveInt('data-bytes', args['data-bytes'], 0);
if (STREAMS % WRITERS !== 0) {
  process.stderr.write(`--streams ${STREAMS}: must be a multiple of --writers ${WRITERS} (each writer owns its streams)\n`);
  process.exit(2);
}
const CATEGORY = 'acct';
const RUN = 'bench';
const SCHEMA = `bench_chaos_checker_${process.pid}`;

// Event g (0-based): stream g % STREAMS at version floor(g / STREAMS) + 1; its writer process is
// stream % WRITERS = g % WRITERS (STREAMS is a multiple of WRITERS), its counter floor(g / WRITERS).
const streamOf = (g: number): string => `${CATEGORY}-${RUN}_w${(g % STREAMS) % WRITERS}_${g % STREAMS}`;
const idOf = (g: number): string => `${RUN}-${g % WRITERS}-${Math.floor(g / WRITERS)}`;
const versionOf = (g: number): number => Math.floor(g / STREAMS) + 1;

/** The history the writers would have recorded for these events, into `sinks` (and a file if given). */
function recordHistory(sinks: HistorySink[], path?: string): void {
  let t = 0;
  const history = createHistoryWriter({ sinks, clock: () => (t += 1000), ...(path ? { path } : {}) });
  try {
    for (let g = 0; g < EVENTS; g++) {
      const op = { process: g % WRITERS, f: 'append' as const, stream: streamOf(g), ids: [idOf(g)], expected: versionOf(g) - 1 };
      history.record({ type: 'invoke', ...op });
      history.record({ type: 'ok', ...op, version: versionOf(g), positions: [g + 1] });
    }
  } finally {
    history.close();
  }
}

async function load(pool: pg.Pool): Promise<void> {
  const started = Date.now();
  const CHUNK = 100_000;
  for (let from = 0; from < EVENTS; from += CHUNK) {
    const to = Math.min(EVENTS, from + CHUNK) - 1;
    // Same strings as streamOf / idOf / versionOf, computed by the server; the payload as the chaos writers write it.
    await pool.query(
      `INSERT INTO "${SCHEMA}".events (stream_id, category, version, event_id, type, data, metadata, "timestamp", correlation_id, aggregate_id, aggregate_type)
       SELECT $3 || '-' || $4 || '_w' || ((g % $5) % $6) || '_' || (g % $5), $3, g / $5 + 1, $4 || '-' || (g % $6) || '-' || (g / $6),
              'chaos.written',
              CASE WHEN $7::int = 0 THEN jsonb_build_object('process', g % $6, 'stream', $3 || '-' || $4 || '_w' || ((g % $5) % $6) || '_' || (g % $5))
                   ELSE jsonb_build_object('process', g % $6, 'pad', repeat('x', $7::int)) END,
              '{}', '2026-12-04T00:00:00.000Z', $4 || '-' || (g % $6) || '-' || (g / $6), $4 || '_w' || ((g % $5) % $6) || '_' || (g % $5), $3
         FROM generate_series($1::bigint, $2::bigint) g ORDER BY g`,
      [from, to, CATEGORY, RUN, STREAMS, WRITERS, DATA_BYTES],
    );
  }
  await pool.query(`VACUUM ANALYZE "${SCHEMA}".events`);
  process.stderr.write(`loaded ${EVENTS} events in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

const seconds = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e9;

async function main(): Promise<void> {
  await using servers = await openServers({ infra: 'auto', pgUrl: args['pg-url'], pgBin: args['pg-bin'] }, { postgres: true, nats: false });
  const pgUrl = servers.pgUrl!;
  const environment = await captureEnvironment({ pgUrl, ...(servers.postgres ? { postgres: servers.postgres } : {}) });
  const pool = new pg.Pool({ connectionString: pgUrl, max: 2 });
  const tmp = mkdtempSync(join(tmpdir(), 'eventbench-chaos-checker-'));
  const store = await createStore('postgres', { pgUrl, namespace: SCHEMA, settings: { poolSize: 2 } });
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await load(pool);
    const historyPath = join(tmp, 'history.jsonl');
    recordHistory([], historyPath);

    const raw = async (): Promise<number> => {
      const started = process.hrtime.bigint();
      let last = 0;
      let n = 0;
      for (;;) {
        controller.signal.throwIfAborted();
        const { rows } = await pool.query<{ position: string }>({
          name: 'chaos_checker_raw_page',
          text: `SELECT position, stream_id, version, event_id, type, data, metadata, "timestamp", correlation_id, causation_id, aggregate_id, aggregate_type
                   FROM "${SCHEMA}".events WHERE category = $1 AND position > $2 ORDER BY position LIMIT ${PAGE}`,
          values: [CATEGORY, last],
        });
        if (rows.length === 0) break;
        n += rows.length;
        last = Number(rows[rows.length - 1]!.position);
      }
      if (n !== EVENTS) throw new Error(`raw read ${n} events, expected ${EVENTS}`);
      return seconds(started);
    };
    const readBackOnly = async (): Promise<number> => {
      const started = process.hrtime.bigint();
      let n = 0;
      for await (const page of readBack(store, { categories: [CATEGORY], pageSize: PAGE, signal: controller.signal })) n += page.length;
      if (n !== EVENTS) throw new Error(`read back ${n} events, expected ${EVENTS}`);
      return seconds(started);
    };
    const expectClean = (v: Verdict): void => {
      const dirty = COUNT_NAMES.filter((c) => countOf(v, c) !== 0);
      if (v.acked !== EVENTS || v.read !== EVENTS || dirty.length > 0) throw new Error(`the verdict is not clean: acked ${v.acked}, read ${v.read}, ${dirty.join(', ')}`);
    };
    const check = async (): Promise<{ seconds: number; foldSeconds: number }> => {
      const foldStarted = process.hrtime.bigint();
      let checker: Checker | undefined = createChecker();
      recordHistory([checker]);
      const foldSeconds = seconds(foldStarted);
      const started = process.hrtime.bigint();
      expectClean(await checker.check(readBack(store, { categories: checker.categories(), pageSize: PAGE, signal: controller.signal })));
      const s = seconds(started);
      checker = undefined;
      return { seconds: s, foldSeconds };
    };
    const fromFile = async (): Promise<number> => {
      const started = process.hrtime.bigint();
      const checker = createChecker();
      await replayHistory(historyPath, [checker]);
      expectClean(await checker.check(readBack(store, { categories: checker.categories(), pageSize: PAGE, signal: controller.signal })));
      return seconds(started);
    };

    // Warm-up: the table in the page cache and shared buffers, the code paths compiled.
    await raw();
    await readBackOnly();
    await check();
    const rounds: Record<string, number>[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const round: Record<string, number> = {};
      round.raw = await raw();
      const c = await check();
      round.check = c.seconds;
      round.foldDuringRun = c.foldSeconds;
      round.readBack = await readBackOnly();
      if (!args.skip!.includes('file')) round.file = await fromFile();
      round.rawAgain = await raw();
      rounds.push(round);
      process.stderr.write(`round ${r + 1}: ${Object.entries(round).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ')}\n`);
    }
    const out = {
      bench: 'chaos-checker',
      startedAt: new Date().toISOString(),
      options: { events: EVENTS, writers: WRITERS, streams: STREAMS, page: PAGE, rounds: ROUNDS, dataBytes: DATA_BYTES },
      serverVersion: environment.postgres?.version,
      load: `load average (1, 5, 15 min) at start ${environment.machine.loadAverage.join(' ')}, at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
      environment,
      rounds: rounds.map((r) => {
        const rawSeconds = (r.raw! + r.rawAgain!) / 2;
        return { ...r, checkRatio: r.check! / rawSeconds, readBackRatio: r.readBack! / rawSeconds, ...(r.file === undefined ? {} : { fileRatio: r.file / rawSeconds }) };
      }),
      target: 'check <= 2x raw',
    };
    const md = markdown(out);
    process.stdout.write(md);
    if (args.out) {
      mkdirSync(args.out, { recursive: true });
      const base = join(args.out, new Date().toISOString().replace(/[:.]/g, '-'));
      writeFileSync(`${base}.json`, `${JSON.stringify(out, null, 2)}\n`);
      writeFileSync(`${base}.md`, md);
      process.stderr.write(`wrote ${base}.json and ${base}.md\n`);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    rmSync(tmp, { recursive: true, force: true });
    await store.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`).catch(() => undefined);
    await pool.end();
  }
  if (controller.signal.aborted) process.exitCode = 130;
}

function markdown(out: {
  options: Record<string, number>;
  serverVersion: string | undefined;
  load: string;
  environment: Awaited<ReturnType<typeof captureEnvironment>>;
  rounds: Record<string, number>[];
}): string {
  const env = out.environment;
  const f = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(2));
  const lines = [
    `# Chaos checker: verifying ${out.options.events!.toLocaleString('en-US')} acknowledged events vs a raw read (${new Date().toISOString()})`,
    '',
    `PostgreSQL ${out.serverVersion ?? '?'}; ${env.machine.cores} cores (${out.load}); node ${env.node.version}; git ${env.git.revision?.slice(0, 12) ?? '?'}${env.git.dirty ? ' (dirty)' : ''}.`,
    `Options: ${JSON.stringify(out.options)}. Target: check <= 2x raw.`,
    '',
    '| round | raw s (before / after) | check s | check / raw | readBack s | readBack / raw | history file + check s | file / raw | fold during run s |',
    '|---|---|---|---|---|---|---|---|---|',
    ...out.rounds.map(
      (r, i) =>
        `| ${i + 1} | ${f(r.raw)} / ${f(r.rawAgain)} | ${f(r.check)} | ${f(r.checkRatio)}x | ${f(r.readBack)} | ${f(r.readBackRatio)}x | ${f(r.file)} | ${r.fileRatio === undefined ? '-' : `${f(r.fileRatio)}x`} | ${f(r.foldDuringRun)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

await main();
