/**
 * PostgreSQL adapter vs raw `pg` (npm run bench:postgres): three parts, each one `eventbench bench`
 * invocation with the postgres adapter and its raw-driver baseline (raw-postgres: the same rows in one
 * statement through `pg`), rounds alternating, ratios from that invocation (bench/append-efficiency.ts).
 *
 * 1. single: single-event OCC append, closed loop, 16 writers over 10,000 streams. Target >= 0.9x.
 * 2. batch: 100-event appends (`--batch 100`, one stream's next 100 versions per call), 4 writers. >= 0.8x.
 * 3. replay: ~1,000,000 events loaded in 100-event appends at a fixed rate (the load is not what is
 *    compared), then read back from position 0 by each round (catch-up, pages of 1000). Target >= 0.8x.
 *
 * Results: results/postgres/<stamp>.json and .md, each part's full result in results/postgres/<stamp>/.
 * Servers: --pg-url / PG_URL, else a managed PostgreSQL (--pg-bin embedded = PG 18, system = Debian's).
 */
import { parseArgs } from 'node:util';
import { replayLoad, runAppendBenchmark, serverArgs, type AppendPart } from './append-efficiency.ts';

const { values: args } = parseArgs({
  options: {
    'pg-url': { type: 'string', default: process.env.PG_URL || undefined },
    'pg-bin': { type: 'string', default: process.env.EVENTBENCH_PG || undefined },
    duration: { type: 'string', default: '10s' }, // per round
    warmup: { type: 'string', default: '2s' },
    runs: { type: 'string', default: '3' }, // single and batch; each run is an adapter and a raw round
    writers: { type: 'string', default: '16' },
    streams: { type: 'string', default: '10000' },
    'batch-writers': { type: 'string', default: '4' },
    events: { type: 'string', default: '1000000' },
    'seed-rate': { type: 'string', default: '200' }, // replay load: 100-event appends per second
    'replay-runs': { type: 'string', default: '1' },
    skip: { type: 'string', multiple: true, default: [] }, // single | batch | replay
    out: { type: 'string', default: 'results/postgres' },
  },
});

const common = ['--backends', 'postgres', '--no-consumer', '--streams', args.streams];
const parts: AppendPart[] = [
  {
    name: 'single',
    what: `single-event OCC append, ${args.writers} writers, ${args.streams} streams`,
    ratio: 'throughput',
    target: 0.9,
    args: [...common, '--executor', 'closed', '--writers', args.writers, '--duration', args.duration, '--warmup', args.warmup, '--runs', args.runs],
  },
  {
    name: 'batch',
    what: `100-event append, ${args['batch-writers']} writers`,
    ratio: 'throughput',
    target: 0.8,
    args: [...common, '--executor', 'closed', '--writers', args['batch-writers'], '--batch', '100', '--duration', args.duration, '--warmup', args.warmup, '--runs', args.runs],
  },
  {
    name: 'replay',
    what: `catch-up read of ~${Number(args.events).toLocaleString('en-US')} events from position 0`,
    ratio: 'replay',
    target: 0.8,
    args: [...common, ...replayLoad(Number(args.events), 100, Number(args['seed-rate'])), '--runs', args['replay-runs'], '--drain-timeout', '60s'],
  },
];

process.exitCode = await runAppendBenchmark({
  title: 'bench:postgres',
  backend: 'postgres',
  out: args.out,
  parts: parts.filter((p) => !args.skip.includes(p.name)),
  server: serverArgs(args),
  notes: [
    'raw-postgres writes the adapter\'s rows (stream row with the OCC check, events, outbox rows) in one named statement; see docs/bench.md.',
    `replay: the events are loaded by 100-event appends at ${args['seed-rate']}/s first; only the read back from position 0 is compared.`,
  ],
});
