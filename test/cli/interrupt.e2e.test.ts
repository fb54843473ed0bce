/**
 * Ctrl-C at any moment ends eventbench with exit code 130 and leaves nothing of the run behind: no
 * process it started (checked by the PIDs of its descendants, recorded while it ran) and no temp
 * directory (each run gets an empty TMPDIR of its own; afterwards it must hold nothing new). A SIGKILL
 * while a managed server starts leaves nothing behind either (the watchdog's job).
 *
 * Each run uses `--infra managed`, so it starts its own servers (never the shared test servers).
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'eventbench.js');
/** tsx keeps its transpile cache in $TMPDIR/tsx-<uid>: shared with every run, so no run compiles from scratch. */
const TSX_CACHE = `tsx-${process.getuid?.() ?? 0}`;

interface ProcInfo {
  pid: number;
  comm: string;
  /** Start time in clock ticks since boot: tells a recorded process from a later one with the same PID. */
  start: string;
}

function readStat(pid: number): { ppid: number; comm: string; start: string; state: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]), comm, start: rest[19]! };
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root` (by /proc parent links). */
function descendants(root: number): ProcInfo[] {
  const byParent = new Map<number, { pid: number; comm: string; start: string }[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = readStat(Number(entry));
    if (!s || s.state === 'Z') continue;
    const list = byParent.get(s.ppid) ?? [];
    list.push({ pid: Number(entry), comm: s.comm, start: s.start });
    byParent.set(s.ppid, list);
  }
  const out: ProcInfo[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of byParent.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

function stillRunning(p: ProcInfo): boolean {
  const s = readStat(p.pid);
  return s !== undefined && s.state !== 'Z' && s.start === p.start;
}

async function until(condition: () => boolean, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** At most `n` runs at once: each starts real servers on a 2-core machine. */
function limiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    while (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
const slot = limiter(4);

/** Processes recorded by every run, so that a failed assertion cannot leave them running. */
const recordedEverywhere: ProcInfo[] = [];
const runDirs: string[] = [];
afterAll(async () => {
  for (const p of recordedEverywhere) if (stillRunning(p)) process.kill(p.pid, 'SIGKILL');
  for (const d of runDirs) rmSync(d, { recursive: true, force: true });
});

interface RunOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Descendants seen at any time during the run. */
  seen: ProcInfo[];
  /** Recorded descendants still alive a few seconds after the exit. */
  survivors: ProcInfo[];
  /** What the run left in its TMPDIR. */
  leftovers: string[];
  /** What the run's TMPDIR held when the signal was sent (shows the phase it hit). */
  tmpAtSignal: string[];
}

/** True once bin/eventbench.js's first lines ran (its signal handlers are in place): it renames the process. */
function eventbenchCodeRuns(pid: number): boolean {
  return readStat(pid)?.comm.startsWith('eventbench') ?? false;
}

/**
 * Runs `eventbench <args>` with its own TMPDIR, sends `signal` once `when` says so (checked every 25 ms,
 * with the TMPDIR entries, stderr so far and the ms elapsed since eventbench's own code started: node's
 * bootstrap before its first line, 0.3-1 s on this loaded 2-core machine, runs no code of ours and
 * starts nothing, so "0.5 s into the run" counts from there), and reports what it left behind.
 */
async function runAndSignal(
  args: string[],
  when: (state: { elapsedMs: number; tmp: string[]; stderr: string }) => boolean,
  signal: NodeJS.Signals = 'SIGINT',
): Promise<RunOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'eventbench-interrupt-test-'));
  runDirs.push(dir);
  chmodSync(dir, 0o755); // as root, managed PostgreSQL runs as `postgres`, which must reach its temp dir
  if (existsSync(join(tmpdir(), TSX_CACHE))) symlinkSync(join(tmpdir(), TSX_CACHE), join(dir, TSX_CACHE));
  const before = new Set(readdirSync(dir));
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: dir };
  delete env.PG_URL;
  delete env.NATS_URL;
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, sig) => resolve({ code, signal: sig })));
  let done = false;
  void exited.then(() => (done = true));

  const seen = new Map<string, ProcInfo>();
  const record = () => {
    for (const p of descendants(child.pid!)) {
      const key = `${p.pid}/${p.start}`;
      if (!seen.has(key)) {
        seen.set(key, p);
        recordedEverywhere.push(p);
      }
    }
  };
  const newEntries = () => readdirSync(dir).filter((e) => !before.has(e));
  let tmpAtSignal: string[] = [];
  let signalled = false;
  let armedAt: number | undefined;
  while (!done) {
    record();
    if (armedAt === undefined && eventbenchCodeRuns(child.pid!)) armedAt = Date.now();
    if (!signalled && armedAt !== undefined && when({ elapsedMs: Date.now() - armedAt, tmp: newEntries(), stderr })) {
      tmpAtSignal = newEntries();
      child.kill(signal);
      signalled = true;
    }
    if (Date.now() - started > 90_000) {
      child.kill('SIGKILL'); // a run that ignores the signal: fail, but leave nothing running
      break;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const { code, signal: bySignal } = await exited;
  const all = [...seen.values()];
  // The watchdog and esbuild's service end by themselves once eventbench is gone: allow them a moment.
  await until(() => all.every((p) => !stillRunning(p)) && newEntries().length === 0, 10_000);
  return { code, signal: bySignal, stdout, stderr, seen: all, survivors: all.filter(stillRunning), leftovers: newEntries(), tmpAtSignal };
}

function expectNothingLeft(r: RunOutcome): void {
  expect(r.survivors.map((p) => `${p.pid} ${p.comm}`), `processes of the run still alive; stderr: ${r.stderr}`).toEqual([]);
  expect(r.leftovers, `temp entries left by the run; stderr: ${r.stderr}`).toEqual([]);
}

const COMMANDS = {
  load: (backend: string) => ['load', '--backend', backend, '--infra', 'managed', '--duration', '60s', '--rate', '50/s'],
  bench: (backend: string, out: string) => ['bench', '--backends', backend, '--infra', 'managed', '--duration', '60s', '--rate', '50/s', '--out', out],
  generate: (backend: string) => ['generate', '--backend', backend, '--infra', 'managed', '--count', '1000000'],
} as const;

function argsFor(command: keyof typeof COMMANDS, backend: string): string[] {
  if (command !== 'bench') return COMMANDS[command](backend);
  // bench writes its (partial) results on Ctrl-C: to a directory of the test's, not into the run's TMPDIR.
  const out = mkdtempSync(join(tmpdir(), 'eventbench-interrupt-out-'));
  runDirs.push(out);
  return COMMANDS.bench(backend, join(out, 'results'));
}

describe('Ctrl-C at 0.5, 1 and 2 s exits 130 and leaves no process and no temp dir of the run', () => {
  const cases = (['load', 'bench', 'generate'] as const).flatMap((command) =>
    (['postgres', 'jetstream'] as const).flatMap((backend) => [500, 1000, 2000].map((ms) => ({ command, backend, ms }))),
  );
  it.concurrent.each(cases)('$command --backend $backend, SIGINT at $ms ms', { timeout: 240_000 }, async ({ command, backend, ms }) => {
    const r = await slot(() => runAndSignal(argsFor(command, backend), (s) => s.elapsedMs >= ms));
    expect({ code: r.code, signal: r.signal }, `stderr: ${r.stderr}`).toEqual({ code: 130, signal: null });
    expectNothingLeft(r);
  });
});

describe('Ctrl-C while a managed server starts, and once it runs', () => {
  // The phases a fixed delay may miss on a loaded machine, hit by what the run's TMPDIR shows.
  it.concurrent.each([
    { backend: 'postgres', prefix: 'eventbench-pg-' },
    { backend: 'jetstream', prefix: 'eventbench-nats-' },
  ])('load --backend $backend: SIGINT as soon as $prefix* exists', { timeout: 240_000 }, async ({ backend, prefix }) => {
    const r = await slot(() => runAndSignal(argsFor('load', backend), (s) => s.tmp.some((e) => e.startsWith(prefix))));
    expect(r.tmpAtSignal.some((e) => e.startsWith(prefix))).toBe(true);
    expect({ code: r.code, signal: r.signal }, `stderr: ${r.stderr}`).toEqual({ code: 130, signal: null });
    expectNothingLeft(r);
  });

  // memory: its appends resolve in microtasks, which once starved the signal handler (the run went on to the end).
  it.concurrent.each(['memory', 'postgres', 'jetstream'])('generate --backend %s: SIGINT while generating prints a partial summary', { timeout: 240_000 }, async (backend) => {
    const r = await slot(() => runAndSignal(argsFor('generate', backend), (s) => /generating: [1-9]\d* ?\/1000000 appends/.test(s.stderr)));
    expect({ code: r.code, signal: r.signal }, `stderr: ${r.stderr}`).toEqual({ code: 130, signal: null });
    expect(r.stdout).toMatch(/INTERRUPTED: partial counts/);
    const appends = Number(/appends\s+(\d+)/.exec(r.stdout)?.[1]);
    expect(appends).toBeGreaterThan(0);
    expect(appends).toBeLessThan(1_000_000);
    expectNothingLeft(r);
  });
});

describe('Ctrl-C while a replicated topology starts (docs/topologies.md)', () => {
  // Three cluster nodes and their proxies, or a primary whose standby is being copied: all stopped.
  it.concurrent.each([
    { backend: 'jetstream', prefix: 'eventbench-nats-' },
    { backend: 'postgres', prefix: 'eventbench-pg-standby-' },
  ])('load --backend $backend --topology replicated: SIGINT as soon as $prefix* exists', { timeout: 240_000 }, async ({ backend, prefix }) => {
    const r = await slot(() => runAndSignal([...argsFor('load', backend), '--topology', 'replicated'], (s) => s.tmp.some((e) => e.startsWith(prefix))));
    expect(r.tmpAtSignal.some((e) => e.startsWith(prefix))).toBe(true);
    expect({ code: r.code, signal: r.signal }, `stderr: ${r.stderr}`).toEqual({ code: 130, signal: null });
    expectNothingLeft(r);
  });
});

describe('SIGKILL of eventbench while a managed server starts', () => {
  it.concurrent.each([
    { backend: 'postgres', prefix: 'eventbench-pg-' },
    { backend: 'jetstream', prefix: 'eventbench-nats-' },
  ])('$backend: the watchdog kills what was started and removes $prefix*', { timeout: 240_000 }, async ({ backend, prefix }) => {
    const r = await slot(() => runAndSignal(argsFor('load', backend), (s) => s.tmp.some((e) => e.startsWith(prefix)), 'SIGKILL'));
    expect(r.signal).toBe('SIGKILL');
    expect(r.tmpAtSignal.some((e) => e.startsWith(prefix))).toBe(true);
    expectNothingLeft(r);
  });
});
