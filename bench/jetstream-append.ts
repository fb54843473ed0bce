/**
 * JetStream adapter vs raw nats.js (npm run bench:jetstream): each part is one `eventbench bench`
 * invocation with the jetstream adapter and its raw-driver baseline (raw-jetstream: `js.publish` of the
 * same envelope with the same headers into the same stream), rounds alternating, ratios from that
 * invocation (bench/append-efficiency.ts).
 *
 * 1. single: OCC append over 10,000 subjects, closed loop with 256 writers (256 appends in flight, as in
 *    the raw-driver reference of docs/design.md). Target >= 0.9x.
 * 2. workers: the same with `--workers 2` (one Node thread tops out at ~22-25k publishes/s here; each
 *    worker has its own connection and its share of the writers and subjects). Target >= 0.9x.
 * 3. batch: 100-event appends (`--batch 100`; the baseline chains them one publish at a time, as the
 *    adapter must on nats-server < 2.12), 4 writers. Target >= 0.8x.
 * 4. replay: ~1,000,000 events loaded by single-event appends at a fixed rate (chained 100-event
 *    appends are too slow to load a million here; the load is not what is compared), then read back
 *    from the start by each round (readAll pages against an ordered consumer). Target >= 0.8x.
 *
 * Results: results/jetstream/<stamp>.json and .md, each part's full result in results/jetstream/<stamp>/.
 * Server: --nats-url / NATS_URL, else a managed nats-server (removed afterwards).
 */
import { parseArgs } from 'node:util';
import { replayLoad, runAppendBenchmark, serverArgs, type AppendPart } from './append-efficiency.ts';

const { values: args } = parseArgs({
  options: {
    'nats-url': { type: 'string', default: process.env.NATS_URL || undefined },
    duration: { type: 'string', default: '10s' }, // per round
    warmup: { type: 'string', default: '2s' },
    runs: { type: 'string', default: '3' }, // append parts; each run is an adapter and a raw round
    writers: { type: 'string', default: '256' },
    workers: { type: 'string', default: '2' },
    streams: { type: 'string', default: '10000' },
    'batch-writers': { type: 'string', default: '4' },
    events: { type: 'string', default: '1000000' },
    'seed-rate': { type: 'string', default: '10000' }, // replay load: single-event appends per second
    'replay-runs': { type: 'string', default: '1' },
    skip: { type: 'string', multiple: true, default: [] }, // single | workers | batch | replay
    out: { type: 'string', default: 'results/jetstream' },
  },
});

const common = ['--backends', 'jetstream', '--no-consumer', '--streams', args.streams];
const closed = (writers: string): string[] => ['--executor', 'closed', '--writers', writers, '--max-in-flight', writers, '--duration', args.duration, '--warmup', args.warmup, '--runs', args.runs];
const parts: AppendPart[] = [
  { name: 'single', what: `OCC append, 1 thread, ${args.writers} writers, ${args.streams} subjects`, ratio: 'throughput', target: 0.9, args: [...common, ...closed(args.writers)] },
  {
    name: 'workers',
    what: `OCC append, ${args.workers} worker threads, ${args.writers} writers in all`,
    ratio: 'throughput',
    target: 0.9,
    args: [...common, ...closed(args.writers), '--workers', args.workers],
  },
  { name: 'batch', what: `100-event append, ${args['batch-writers']} writers`, ratio: 'throughput', target: 0.8, args: [...common, ...closed(args['batch-writers']), '--batch', '100'] },
  {
    name: 'replay',
    what: `replay of ~${Number(args.events).toLocaleString('en-US')} events from the start`,
    ratio: 'replay',
    target: 0.8,
    args: [...common, ...replayLoad(Number(args.events), 1, Number(args['seed-rate'])), '--runs', args['replay-runs'], '--drain-timeout', '60s'],
  },
];

process.exitCode = await runAppendBenchmark({
  title: 'bench:jetstream',
  backend: 'jetstream',
  out: args.out,
  parts: parts.filter((p) => !args.skip.includes(p.name)),
  server: serverArgs(args),
  notes: [
    'raw-jetstream publishes the adapter\'s envelope with the same headers (Nats-Msg-Id, expected last subject sequence, version); see docs/bench.md.',
    `replay: the events are loaded by single-event appends at ${args['seed-rate']}/s first; only the read back from the start is compared.`,
  ],
});
