/**
 * Harness overhead (npm run bench:harness): the load tester must measure the backend, not itself.
 *
 * 1. The memory backend at full speed: closed loop, 8 writers, in-process (no server in the way), with
 *    and without the run consumer. This is the ceiling of what eventbench can drive from one thread.
 * 2. Prometheus metrics on vs off under the same load, in alternating rounds (the machine is shared, so
 *    noise hits both alike):
 *    a. closed loop at full speed: throughput with metrics on / off;
 *    b. open loop at a fixed rate: CPU time of this process per append with metrics on / off.
 *    With metrics on, /metrics is served and scraped every second, as a Prometheus would (the scrape's
 *    CPU is the harness's cost too). The target is <= 5% cost.
 * 2c. Tracing (--otlp) on vs off, open loop at the fixed rate with the consumer (append and consume spans),
 *    metrics on in both: CPU per append. Spans go through the OTLP/HTTP exporter to a sink in a child
 *    process, so encoding and sending count and the collector's side does not.
 * 3. Micro costs of the hot-path pieces (tinybench): the synthetic generator, the window recorder
 *    (4 HdrHistogram records per append), the prom-client updates, the memory append itself.
 *
 * Results: results/harness/<timestamp>.json and .md, with the environment.
 */
import { loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Counter, Histogram, Registry } from 'prom-client';
import { Bench } from 'tinybench';
import { spawn } from 'node:child_process';
import { createRunMetrics } from '../src/core/metrics.ts';
import { startTracing } from '../src/observability/tracing-sdk.ts';
import { startMetricsServer } from '../src/runners/load/metrics-server.ts';
import { setRunTracer } from '../src/runners/load/tracing.ts';
import { captureEnvironment } from '../src/infra/environment.ts';
import { WindowRecorder } from '../src/runners/load/recorder.ts';
import { runLoad, type LoadScenario } from '../src/runners/load/run.ts';
import { createStore } from '../src/store/index.ts';
import { dropMemoryNamespace } from '../src/store/memory/index.ts';
import { syntheticWorkload } from '../src/workloads/synthetic.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '1.5' }, // seconds per round
    rounds: { type: 'string', default: '10' },
    rate: { type: 'string', default: '5000' }, // open-loop rate of phase 2b
    out: { type: 'string', default: 'results/harness' },
  },
});
const DURATION_MS = Number(args.duration) * 1000;
const ROUNDS = Number(args.rounds);
const RATE = Number(args.rate);

let round = 0;
/** Scraped /metrics of the round (`metrics: true`): served on a free port, fetched every second. */
const SCRAPE_INTERVAL_MS = 1000;

async function run(partial: Partial<LoadScenario>, options: { otlpUrl?: string } = {}): Promise<{ eventsPerSec: number; cpuUsPerAppend: number; p99: number; appends: number }> {
  const namespace = `harness_${process.pid}_${round++}`;
  const metricsOn = partial.metrics ?? true;
  const server = metricsOn ? await startMetricsServer(0) : null;
  const scraper = server ? setInterval(() => void fetch(server.url).then((r) => r.text()).catch(() => {}), SCRAPE_INTERVAL_MS) : null;
  const tracing = options.otlpUrl ? startTracing({ otlpUrl: options.otlpUrl }) : null;
  setRunTracer(tracing?.tracer ?? null);
  const cpu = process.cpuUsage();
  try {
    const r = await runLoad({
      onMetrics: (scrape) => server?.setSource(scrape),
      backend: 'memory',
      backendOptions: { namespace },
      scenario: {
        executor: 'closed',
        workload: 'synthetic',
        seed: 1,
        runId: `h${round}`,
        writers: 8,
        durationMs: DURATION_MS,
        warmupMs: 500,
        maxInFlight: 10_000,
        workers: 1,
        drainTimeoutMs: 10_000,
        consumer: false,
        metrics: true,
        ...partial,
      },
    });
    const used = process.cpuUsage(cpu);
    return {
      eventsPerSec: r.throughput.eventsPerSec,
      cpuUsPerAppend: (used.user + used.system) / Math.max(1, r.totals.wholeRun.appends),
      p99: r.latency.p99,
      appends: r.totals.wholeRun.appends,
    };
  } finally {
    setRunTracer(null);
    await tracing?.shutdown();
    if (scraper) clearInterval(scraper);
    await server?.close();
    dropMemoryNamespace(namespace);
  }
}

/**
 * An OTLP/HTTP sink in a child process (its CPU is not ours): answers every POST with 200 and discards
 * the body. Returns its URL and a stop function; it also exits when our stdin pipe closes.
 */
async function startOtlpSink(): Promise<{ url: string; stop: () => void }> {
  const script = `const s=require('http').createServer((q,r)=>{q.resume();q.on('end',()=>r.writeHead(200,{'content-type':'application/json'}).end('{}'))});
s.listen(0,'127.0.0.1',()=>console.log(s.address().port));process.stdin.on('end',()=>process.exit(0));process.stdin.resume();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', () => reject(new Error('OTLP sink exited before listening')));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round1 = (v: number): number => Math.round(v * 10) / 10;

async function main(): Promise<void> {
  const environment = await captureEnvironment({});
  console.error(`harness overhead: ${ROUNDS} rounds x ${DURATION_MS / 1000}s, machine ${environment.machine.cores} cores, load ${environment.machine.loadAverage.join(' ')}`);

  // 1. Full speed.
  const fullSpeed = { consumerOff: [] as number[], consumerOn: [] as number[] };
  for (let i = 0; i < Math.min(ROUNDS, 3); i++) {
    fullSpeed.consumerOff.push((await run({ consumer: false })).eventsPerSec);
    fullSpeed.consumerOn.push((await run({ consumer: true })).eventsPerSec);
    console.error(`  full speed round ${i + 1}: consumer off ${fullSpeed.consumerOff.at(-1)}/s, on ${fullSpeed.consumerOn.at(-1)}/s`);
  }

  // 2a. Closed loop, metrics on vs off, alternating (order flipped every round).
  const closed = { on: [] as number[], off: [] as number[], cpuOn: [] as number[], cpuOff: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    for (const metrics of i % 2 ? [true, false] : [false, true]) {
      const r = await run({ metrics });
      closed[metrics ? 'on' : 'off'].push(r.eventsPerSec);
      closed[metrics ? 'cpuOn' : 'cpuOff'].push(r.cpuUsPerAppend);
    }
    console.error(`  closed round ${i + 1}: metrics off ${closed.off.at(-1)}/s (${round1(closed.cpuOff.at(-1)!)} us CPU/append), on ${closed.on.at(-1)}/s (${round1(closed.cpuOn.at(-1)!)} us)`);
  }
  // 2b. Open loop at a fixed rate: same work, so the cost shows as CPU per append.
  const open = { on: [] as number[], off: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    for (const metrics of i % 2 ? [true, false] : [false, true]) {
      open[metrics ? 'on' : 'off'].push((await run({ executor: 'constant', rate: RATE, metrics })).cpuUsPerAppend);
    }
    console.error(`  open ${RATE}/s round ${i + 1}: CPU/append metrics off ${round1(open.off.at(-1)!)} us, on ${round1(open.on.at(-1)!)} us`);
  }

  // 2c. Tracing on vs off, open loop with the consumer, metrics on in both, alternating.
  const sink = await startOtlpSink();
  const traced = { on: [] as number[], off: [] as number[] };
  try {
    for (let i = 0; i < ROUNDS; i++) {
      for (const on of i % 2 ? [true, false] : [false, true]) {
        traced[on ? 'on' : 'off'].push((await run({ executor: 'constant', rate: RATE, consumer: true }, on ? { otlpUrl: sink.url } : {})).cpuUsPerAppend);
      }
      console.error(`  tracing ${RATE}/s round ${i + 1}: CPU/append off ${round1(traced.off.at(-1)!)} us, on ${round1(traced.on.at(-1)!)} us`);
    }
  } finally {
    sink.stop();
  }

  // 3. Micro costs.
  const bench = new Bench({ time: 300, warmupTime: 100 });
  const gen = syntheticWorkload.create({ seed: 1 });
  const rec = new WindowRecorder(0, Number.MAX_SAFE_INTEGER);
  const metrics = createRunMetrics('memory');
  const store = await createStore('memory', { namespace: `harness_micro_${process.pid}` });
  const plain = new Registry();
  const promCounter = new Counter({ name: 'x_total', help: 'x', labelNames: ['backend', 'event_type'], registers: [plain] }).labels('memory', 'synthetic.recorded');
  const promHistogram = new Histogram({ name: 'x_seconds', help: 'x', labelNames: ['backend'], registers: [plain] }).labels('memory');
  const memGen = syntheticWorkload.create({ seed: 2, runId: 'micro' } as Parameters<typeof syntheticWorkload.create>[0]);
  let t = 1;
  bench
    .add('synthetic generator next() (1 KB event)', () => {
      gen.next();
    })
    .add('window recorder onSend + onAck (4 HdrHistogram records)', () => {
      t += 1;
      rec.onSend(t, t + 0.01);
      rec.onAck(t, t + 0.01, t + 0.5, 1, 'synthetic.recorded');
    })
    .add('metrics published() (counter + histogram, batched)', () => {
      metrics.published('synthetic.recorded', 1, 0.0005);
    })
    .add('metrics processed() (counter + 2 histograms, batched)', () => {
      metrics.processed('synthetic.recorded', 'success', 0.00001, 0.002);
    })
    .add('for comparison: plain prom-client counter.inc + histogram.observe via labels()', () => {
      promCounter.inc();
      promHistogram.observe(0.0005);
    })
    .add('memory appendToStream (the backend itself)', async () => {
      const p = memGen.next();
      await store.appendToStream(p.stream, p.events, { expectedVersion: p.expectedVersion });
    });
  await bench.run();
  await store.close();
  dropMemoryNamespace(`harness_micro_${process.pid}`);
  const micro = bench.tasks.map((task) => ({ name: task.name, nsPerOp: round1(1e9 / Math.max(1e-9, task.result?.throughput.mean ?? 0)), opsPerSec: Math.round(task.result?.throughput.mean ?? 0) }));

  // Wall-clock throughput on a shared machine swings by 2x between rounds; CPU time of this process per
  // append is the steadier measure of what the metrics cost, so the verdict uses it.
  const ns = (prefix: string): number => micro.find((x) => x.name.startsWith(prefix))?.nsPerOp ?? 0;
  const microEstimate = (ns('metrics published') + ns('metrics processed')) / ns('memory appendToStream');
  // Each round runs on and off back to back, so the pair shares the machine's state: the median of the
  // per-round ratios is the estimator (medians of each side would mix busy and quiet moments).
  const pairedCost = (on: number[], off: number[]): number => median(on.map((v, i) => v / off[i]!)) - 1;
  /** Lower and upper quartile of the per-round cost: how far the machine's noise lets us resolve it. */
  const quartiles = (on: number[], off: number[]): [number, number] => {
    const r = on.map((v, i) => v / off[i]! - 1).sort((a, b) => a - b);
    return [r[Math.floor((r.length - 1) / 4)]!, r[Math.ceil(((r.length - 1) * 3) / 4)]!];
  };
  const verdict = (cost: number, [q1, q3]: [number, number]): string =>
    cost <= 0.05 ? 'within' : q1 > 0.05 ? 'over' : `inconclusive (per-round cost ${round1(q1 * 100)}%..${round1(q3 * 100)}%)`;
  const closedCost = 1 - median(closed.on.map((v, i) => v / closed.off[i]!));
  const closedCpuCost = pairedCost(closed.cpuOn, closed.cpuOff);
  const openCost = pairedCost(open.on, open.off);
  const tracingCost = pairedCost(traced.on, traced.off);
  const out = {
    benchmark: 'harness-overhead',
    createdAt: new Date().toISOString(),
    environment,
    settings: { roundSeconds: DURATION_MS / 1000, rounds: ROUNDS, openRate: RATE, closedWriters: 8, warmupSeconds: 0.5, backend: 'memory', workload: 'synthetic (~1 KB events, 1000 streams)' },
    fullSpeed: { eventsPerSecConsumerOff: fullSpeed.consumerOff, eventsPerSecConsumerOn: fullSpeed.consumerOn, medianConsumerOff: median(fullSpeed.consumerOff), medianConsumerOn: median(fullSpeed.consumerOn) },
    metricsOverhead: {
      closedLoop: {
        eventsPerSecOn: closed.on,
        eventsPerSecOff: closed.off,
        throughputCostPercent: round1(closedCost * 100),
        cpuUsPerAppendOn: closed.cpuOn.map(round1),
        cpuUsPerAppendOff: closed.cpuOff.map(round1),
        costPercent: round1(closedCpuCost * 100),
        interquartilePercent: quartiles(closed.cpuOn, closed.cpuOff).map((q) => round1(q * 100)),
        verdict: verdict(closedCpuCost, quartiles(closed.cpuOn, closed.cpuOff)),
      },
      openLoop: {
        rate: RATE,
        cpuUsPerAppendOn: open.on.map(round1),
        cpuUsPerAppendOff: open.off.map(round1),
        costPercent: round1(openCost * 100),
        interquartilePercent: quartiles(open.on, open.off).map((q) => round1(q * 100)),
        verdict: verdict(openCost, quartiles(open.on, open.off)),
      },
      /** Metrics work per append (publish + consume side) relative to one memory append, from the micro benchmarks. */
      microEstimatePercent: round1(microEstimate * 100),
      targetPercent: 5,
      // The micro estimate is exact arithmetic on the hot path; the run-level ratios add the machine's noise.
      withinTarget: microEstimate <= 0.05 && closedCpuCost <= 0.05 && openCost <= 0.05,
    },
    tracingOverhead: {
      rate: RATE,
      cpuUsPerAppendOn: traced.on.map(round1),
      cpuUsPerAppendOff: traced.off.map(round1),
      costPercent: round1(tracingCost * 100),
      interquartilePercent: quartiles(traced.on, traced.off).map((q) => round1(q * 100)),
    },
    micro,
    notes: [
      `${environment.machine.cores} cores, load average (1, 5, 15 min) at start ${environment.machine.loadAverage.join(' ')}, at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}; compare ratios within this run, not absolute numbers across runs.`,
      'Costs are medians of per-round on/off ratios (each round runs both back to back, order alternating); a negative cost is noise. The verdict uses CPU time per append (steadier than wall-clock throughput when other processes compete for the cores).',
    ],
  };
  mkdirSync(args.out!, { recursive: true });
  const base = `${args.out}/${out.createdAt.replace(/[:.]/g, '-')}`;
  writeFileSync(`${base}.json`, `${JSON.stringify(out, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdown(out));
  process.stdout.write(markdown(out));
  console.error(`wrote ${base}.json and ${base}.md`);
}

function markdown(o: {
  createdAt: string;
  environment: { machine: { cores: number; cpuModel: string }; node: { version: string }; git: { revision: string | null; dirty: boolean | null } };
  settings: { roundSeconds: number; rounds: number; openRate: number };
  fullSpeed: { medianConsumerOff: number; medianConsumerOn: number };
  tracingOverhead: { rate: number; cpuUsPerAppendOn: number[]; cpuUsPerAppendOff: number[]; costPercent: number; interquartilePercent: number[] };
  metricsOverhead: { microEstimatePercent: number; closedLoop: { eventsPerSecOn: number[]; eventsPerSecOff: number[]; throughputCostPercent: number; cpuUsPerAppendOn: number[]; cpuUsPerAppendOff: number[]; costPercent: number; interquartilePercent: number[]; verdict: string }; openLoop: { cpuUsPerAppendOn: number[]; cpuUsPerAppendOff: number[]; costPercent: number; interquartilePercent: number[]; verdict: string }; withinTarget: boolean };
  micro: { name: string; nsPerOp: number; opsPerSec: number }[];
  notes: string[];
}): string {
  const m = o.metricsOverhead;
  return [
    `# Harness overhead (${o.createdAt})`,
    '',
    `${o.environment.machine.cores} cores (${o.environment.machine.cpuModel}), Node ${o.environment.node.version}, git ${o.environment.git.revision?.slice(0, 12) ?? 'unknown'}${o.environment.git.dirty ? ' (dirty)' : ''}; ${o.settings.rounds} rounds of ${o.settings.roundSeconds}s, memory backend, synthetic ~1 KB events.`,
    '',
    '| measurement | result |',
    '|---|---|',
    `| memory at full speed (closed loop, 8 writers), consumer off | ${Math.round(o.fullSpeed.medianConsumerOff).toLocaleString('en-US')} events/s |`,
    `| memory at full speed, consumer on (end-to-end measured) | ${Math.round(o.fullSpeed.medianConsumerOn).toLocaleString('en-US')} events/s |`,
    `| metrics cost, closed loop full speed, CPU per append (off: ${m.closedLoop.cpuUsPerAppendOff.join(', ')} us; on: ${m.closedLoop.cpuUsPerAppendOn.join(', ')} us) | ${m.closedLoop.costPercent}% (middle half of rounds ${m.closedLoop.interquartilePercent.join('%..')}%): ${m.closedLoop.verdict} |`,
    `| (same rounds, wall-clock throughput: off ${m.closedLoop.eventsPerSecOff.join(', ')}/s; on ${m.closedLoop.eventsPerSecOn.join(', ')}/s) | ${m.closedLoop.throughputCostPercent}% (noisy on a shared machine) |`,
    `| metrics cost, open loop ${o.settings.openRate}/s CPU per append (off: ${m.openLoop.cpuUsPerAppendOff.join(', ')} us; on: ${m.openLoop.cpuUsPerAppendOn.join(', ')} us) | ${m.openLoop.costPercent}% (middle half of rounds ${m.openLoop.interquartilePercent.join('%..')}%): ${m.openLoop.verdict} |`,
    `| metrics work per append vs one memory append (micro benchmarks below) | ${m.microEstimatePercent}% |`,
    `| within the 5% target | ${m.withinTarget ? 'yes' : '**no**'} |`,
    `| tracing cost (--otlp; append + consume spans, OTLP/HTTP export), open loop ${o.tracingOverhead.rate}/s with consumer, CPU per append (off: ${o.tracingOverhead.cpuUsPerAppendOff.join(', ')} us; on: ${o.tracingOverhead.cpuUsPerAppendOn.join(', ')} us) | ${o.tracingOverhead.costPercent}% (middle half of rounds ${o.tracingOverhead.interquartilePercent.join('%..')}%) |`,
    '',
    '| hot-path piece | ns/op | ops/s |',
    '|---|---|---|',
    ...o.micro.map((x) => `| ${x.name} | ${x.nsPerOp} | ${x.opsPerSec.toLocaleString('en-US')} |`),
    '',
    ...o.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}

await main();
