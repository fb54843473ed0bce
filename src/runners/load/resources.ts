/**
 * CPU and memory of the managed server processes (from /proc: utime + stime of the main process, its
 * reaped children and its live children, e.g. PostgreSQL backends; VmRSS summed likewise) and of the
 * load generator itself (process.cpuUsage / memoryUsage: all its threads). Sampled once a second.
 */
import { readdirSync, readFileSync } from 'node:fs';

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
