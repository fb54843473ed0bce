/**
 * CPU and memory of the managed server processes (from /proc: utime + stime of the main process, its
 * reaped children and its live children, e.g. PostgreSQL backends; VmRSS summed likewise) and of the
 * load generator itself (process.cpuUsage / memoryUsage: all its threads). Sampled once a second.
 * Below: each load thread's own event-loop utilisation and CPU per phase, and the rule that marks a run
 * client-bound (the load side, not the backend, was the limit).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Linux USER_HZ: /proc times are in 1/100 s on every mainstream kernel. */
const CLOCK_TICKS = 100;

export interface ProcessUsage {
  name: string;
  pid: number | null;
  /** Average CPU over the sampled span, percent of one core (200 = two cores busy). */
  cpuPercent: number;
  cpuSeconds: number;
  rssMaxBytes: number;
  rssEndBytes: number;
}

interface ProcSample {
  ticks: number;
  rss: number;
}

function readStat(pid: number): { ppid: number; ticks: number; childTicks: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), childTicks: Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}

function readRss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function childrenOf(pids: Set<number>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const st = readStat(Number(e));
    if (st && pids.has(st.ppid)) out.set(st.ppid, [...(out.get(st.ppid) ?? []), Number(e)]);
  }
  return out;
}

export function sampleProcess(pid: number, children: number[] = []): ProcSample | null {
  const main = readStat(pid);
  if (!main) return null;
  let ticks = main.ticks + main.childTicks;
  let rss = readRss(pid);
  for (const c of children) {
    const st = readStat(c);
    if (st) ticks += st.ticks;
    rss += readRss(c);
  }
  return { ticks, rss };
}

export class ResourceSampler {
  private readonly servers: { name: string; pid: number; first: ProcSample | null; last: ProcSample | null; rssMax: number }[];
  private readonly selfStart = process.cpuUsage();
  private selfRssMax = 0;
  private startMs = Date.now();
  private endMs = Date.now();
  private timer: NodeJS.Timeout | null = null;

  constructor(servers: { name: string; pid: number }[]) {
    this.servers = servers.map((s) => ({ ...s, first: null, last: null, rssMax: 0 }));
  }

  start(intervalMs = 1000): void {
    this.startMs = Date.now();
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): void {
    this.endMs = Date.now();
    this.selfRssMax = Math.max(this.selfRssMax, process.memoryUsage.rss());
    if (this.servers.length === 0) return;
    const kids = childrenOf(new Set(this.servers.map((s) => s.pid)));
    for (const s of this.servers) {
      const cur = sampleProcess(s.pid, kids.get(s.pid) ?? []);
      if (!cur) continue;
      s.first ??= cur;
      s.last = cur;
      s.rssMax = Math.max(s.rssMax, cur.rss);
    }
  }

  stop(): { loadGenerator: ProcessUsage; servers: ProcessUsage[] } {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    const wallS = Math.max(0.001, (this.endMs - this.startMs) / 1000);
    const self = process.cpuUsage(this.selfStart);
    const selfCpu = (self.user + self.system) / 1e6;
    const round = (v: number): number => Math.round(v * 10) / 10;
    return {
      loadGenerator: {
        name: 'load generator (this process)',
        pid: process.pid,
        cpuSeconds: round(selfCpu),
        cpuPercent: round((selfCpu / wallS) * 100),
        rssMaxBytes: this.selfRssMax,
        rssEndBytes: process.memoryUsage.rss(),
      },
      servers: this.servers.map((s) => {
        const cpu = s.first && s.last ? Math.max(0, s.last.ticks - s.first.ticks) / CLOCK_TICKS : 0;
        return { name: s.name, pid: s.pid, cpuSeconds: round(cpu), cpuPercent: round((cpu / wallS) * 100), rssMaxBytes: s.rssMax, rssEndBytes: s.last?.rss ?? 0 };
      }),
    };
  }
}

// ---------------------------------------------------------------------------------------------------
// The load side's own threads: is the client the limit?
// ---------------------------------------------------------------------------------------------------

/** CPU seconds (user + system) of the calling thread, from /proc/thread-self; null where there is none. */
export function threadCpuSeconds(): number | null {
  try {
    const text = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** How busy one load thread was over one phase: event-loop utilisation and the thread's own CPU. */
export interface ThreadUsage {
  /** Event-loop utilisation 0-1 (the share of the time the loop was running code, not waiting). */
  elu: number;
  /** CPU of this thread alone, in cores (1 = one core busy the whole time); null without /proc. */
  cpuCores: number | null;
  cpuSeconds: number | null;
  seconds: number;
}

/**
 * Measures the calling thread from `start()` to `stop()`: `performance.eventLoopUtilization()` (the
 * thread's own loop, in a worker the worker's) and /proc/thread-self CPU time (the thread only, not the
 * process: process.cpuUsage() sums every thread, and Node 20 has no per-thread call).
 */
export class ThreadMeter {
  private elu0 = performance.eventLoopUtilization();
  private cpu0 = threadCpuSeconds();
  private t0 = performance.now();

  start(): void {
    this.elu0 = performance.eventLoopUtilization();
    this.cpu0 = threadCpuSeconds();
    this.t0 = performance.now();
  }

  stop(): ThreadUsage {
    const seconds = Math.max(0.001, (performance.now() - this.t0) / 1000);
    const elu = performance.eventLoopUtilization(this.elu0).utilization;
    const cpu1 = threadCpuSeconds();
    const cpuSeconds = this.cpu0 !== null && cpu1 !== null ? Math.max(0, cpu1 - this.cpu0) : null;
    const r3 = (v: number): number => Math.round(v * 1000) / 1000;
    return { elu: r3(elu), cpuSeconds: cpuSeconds === null ? null : r3(cpuSeconds), cpuCores: cpuSeconds === null ? null : r3(cpuSeconds / seconds), seconds: r3(seconds) };
  }
}

/** A thread counts as saturated at this event-loop utilisation or this many cores of its own CPU. */
export const SATURATED_ELU = 0.9;
export const SATURATED_CPU_CORES = 0.9;
/** Phases shorter than this say little about utilisation (a 10 ms CPU tick is 1 % of a second). */
export const MIN_JUDGED_PHASE_S = 0.5;

export interface WorkerUsage extends ThreadUsage {
  /** The load side: 0..N-1 (worker threads), or 0 for the main thread when there are no workers. */
  worker: number;
  thread: 'main' | 'worker';
  saturated: boolean;
}

export interface ClientBoundVerdict {
  bound: boolean;
  reason: string;
  perWorker: WorkerUsage[];
}

/**
 * The busiest phase of each load side (a `max` search runs one phase per step: its busiest step, not
 * the average over the search, says whether the client kept up); phases under MIN_JUDGED_PHASE_S are
 * ignored unless there is nothing else.
 */
export function busiestPhase(phases: ThreadUsage[]): ThreadUsage | null {
  const judged = phases.filter((p) => p.seconds >= MIN_JUDGED_PHASE_S);
  const from = judged.length > 0 ? judged : phases;
  return from.reduce<ThreadUsage | null>((a, p) => (a === null || p.elu > a.elu ? p : a), null);
}

/**
 * Client-bound rule. A run is client-bound when the load side, not the backend, was the limit:
 *  1. some load thread was saturated in its busiest phase (event-loop utilisation >= 0.9, or its own CPU
 *     >= 0.9 of a core), and
 *  2. the run shows the symptom of a load side that could not keep up: in open loop (constant, ramp) the
 *     target rate was not reached (< 95 %), or due sends were dropped, or sends left late (send delay p99
 *     above the late threshold: the generator fell behind its schedule, which is the load side's delay,
 *     not the backend's). A closed loop and a max search always run as fast as the load side lets them,
 *     so there a saturated thread alone means the rate found may be the client's, not the backend's.
 * A saturated thread that still met its schedule on time is not client-bound: it kept up, if narrowly.
 */
export function judgeClientBound(input: {
  executor: string;
  perWorker: Omit<WorkerUsage, 'saturated'>[];
  targetPerSec: number | null;
  appendsPerSec: number;
  dropped: number;
  sendDelayP99Ms: number;
  lateThresholdMs: number;
}): ClientBoundVerdict {
  const perWorker: WorkerUsage[] = input.perWorker.map((w) => ({ ...w, saturated: w.elu >= SATURATED_ELU || (w.cpuCores ?? 0) >= SATURATED_CPU_CORES }));
  const name = (w: WorkerUsage): string => (w.thread === 'main' ? 'the load thread' : `worker ${w.worker}`);
  const busy = (w: WorkerUsage): string => `${name(w)} event loop ${Math.round(w.elu * 100)} % busy, ${w.cpuCores === null ? 'CPU unknown' : `${w.cpuCores.toFixed(2)} cores`}`;
  const saturated = perWorker.filter((w) => w.saturated);
  if (perWorker.length === 0) return { bound: false, reason: 'no load-side usage recorded', perWorker };
  if (saturated.length === 0) {
    const top = perWorker.reduce((a, w) => (w.elu > a.elu ? w : a));
    return { bound: false, reason: `no load thread saturated (busiest: ${busy(top)}; limit ${SATURATED_ELU * 100} % / ${SATURATED_CPU_CORES} cores)`, perWorker };
  }
  // A loop busy far beyond its own CPU was mostly waiting for a core (a machine busy with other work):
  // still a load side that could not keep up, but the reader should know why.
  const starved = saturated.some((w) => w.cpuCores !== null && w.cpuCores < 0.5 * w.elu);
  const who = `${saturated.map(busy).join('; ')}${starved ? ' (its own CPU far lower: it waited for a core, the machine is busy)' : ''}`;
  if (input.executor === 'closed' || input.executor === 'max') {
    return { bound: true, reason: `${who}: a ${input.executor === 'max' ? 'max search' : 'closed loop'} goes as fast as the load side lets it, so its rate may be the client's limit`, perWorker };
  }
  const symptoms: string[] = [];
  if (input.targetPerSec !== null && input.targetPerSec > 0 && input.appendsPerSec < 0.95 * input.targetPerSec) {
    symptoms.push(`the target rate was not reached (${Math.round(input.appendsPerSec)} of ${Math.round(input.targetPerSec)} appends/s)`);
  }
  if (input.dropped > 0) symptoms.push(`${input.dropped} due sends were dropped`);
  if (input.sendDelayP99Ms > input.lateThresholdMs) symptoms.push(`sends left late (send delay p99 ${input.sendDelayP99Ms.toFixed(1)} ms > ${input.lateThresholdMs} ms)`);
  if (symptoms.length === 0) return { bound: false, reason: `${who}, but the schedule was met on time: the load side kept up`, perWorker };
  return { bound: true, reason: `${who}, and ${symptoms.join(', ')}`, perWorker };
}
