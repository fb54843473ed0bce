/**
 * The one owner of every server process and temp directory eventbench starts. Three layers make sure
 * none outlives us:
 * 1. the handle's own `stop()` (normal path, `await using`, a test's afterAll);
 * 2. SIGINT / SIGTERM / SIGHUP handlers (always installed by the CLI, `installCliSignalHandling`;
 *    otherwise while anything is owned) that stop everything (server processes first, then temp
 *    directories) and exit with 128 + the signal's number (130 for Ctrl-C), unless the application
 *    listens for that signal too (then it finishes, e.g. writes partial results, and stops its servers
 *    itself; a second signal kills everything at once and exits 128 + n); and an `exit` hook that
 *    SIGKILLs whatever is left synchronously (uncaught errors, `process.exit()` elsewhere);
 * 3. for a hard death of this process (SIGKILL, OOM), which Node cannot observe and where Linux's
 *    `prctl(PR_SET_PDEATHSIG)` is not reachable from Node: a watchdog `sh` per temp directory (see
 *    watchdog.ts) that SIGKILLs the process groups started in it and removes it.
 * Servers run in their own process group (`detached`), so a terminal's Ctrl-C reaches only us and we
 * shut them down in order. Signals go to PIDs we started and their descendants (PostgreSQL backends
 * are session leaders of their own), never to names.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';

/** Something that must not outlive this process. */
export interface OwnedResource {
  readonly label: string;
  /**
   * `process` resources (servers) stop before `files` (temp directories), so that a server shuts down
   * cleanly before the directory under it goes. Default `process`.
   */
  readonly kind?: 'process' | 'files';
  /** Clean, async shutdown (bounded in time by the resource itself). */
  stop(): Promise<void>;
  /** Last resort from the `exit` hook: synchronous SIGKILL + remove temp files. */
  killSync(): void;
}

const owned = new Set<OwnedResource>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_NUMBERS: Record<(typeof SIGNALS)[number], number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
/** bin/eventbench.js's handler for the start-up phase (nothing owned yet): replaced by ours. */
const EARLY_HANDLER = Symbol.for('eventbench.earlySignalHandler');
let installed = false;
let permanent = false;
let shuttingDown: NodeJS.Signals | undefined;
let signalsSeen = 0;

/** Registers a resource; returns the function that releases it (after it stopped by itself). */
export function own(resource: OwnedResource): () => void {
  owned.add(resource);
  install();
  return () => {
    owned.delete(resource);
    if (owned.size === 0 && !permanent) uninstall();
  };
}

/** What is owned right now (labels), for diagnostics and tests. */
export function ownedLabels(): string[] {
  return [...owned].map((r) => r.label);
}

/** Stops every owned resource: server processes first, then temp directories. */
export async function stopAllOwned(): Promise<void> {
  const all = [...owned];
  await Promise.allSettled(all.filter((r) => r.kind !== 'files').map((r) => r.stop()));
  await Promise.allSettled([...owned].filter((r) => r.kind === 'files').map((r) => r.stop()));
}

/**
 * The CLI's signal handling, installed once at start-up and kept until exit: a signal at any moment
 * (servers starting, a run, writing results) ends in the same path: owned servers and temp directories
 * stopped and removed, exit code 128 + n (130 for Ctrl-C), unless the running command handles the
 * signal itself.
 */
export function installCliSignalHandling(): void {
  permanent = true;
  // Ours first, then the early one off: removing a signal's last listener resets it to the default
  // action (death by the signal) until the next listener is added, a window Ctrl-C can hit.
  install();
  const early = (globalThis as Record<symbol, unknown>)[EARLY_HANDLER];
  if (typeof early === 'function') for (const sig of SIGNALS) process.off(sig, early as (s: NodeJS.Signals) => void);
}

/** The signal we are shutting down for (our own handler took over), or undefined. */
export function shutdownSignal(): NodeJS.Signals | undefined {
  return shuttingDown;
}

/** The exit code for a signal: 128 + its number, as a shell reports a process that a signal ended. */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return 128 + (SIGNAL_NUMBERS[signal as (typeof SIGNALS)[number]] ?? 1);
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const sig of SIGNALS) process.on(sig, onSignal);
  process.on('exit', onExit);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  signalsSeen = 0;
  for (const sig of SIGNALS) process.off(sig, onSignal);
  process.off('exit', onExit);
}

function onSignal(signal: NodeJS.Signals): void {
  signalsSeen++;
  if (shuttingDown || signalsSeen > 1) {
    // Second Ctrl-C: no more waiting.
    onExit();
    process.exit(exitCodeForSignal(signal));
  }
  // A command that handles the signal itself (e.g. `load` stops the load and writes partial results)
  // still needs its servers for that; it stops them through its own `await using`, and the exit hook
  // is the backstop. Only when nobody else listens do we shut down.
  if (process.listeners(signal).some((l) => l !== onSignal)) return;
  shuttingDown = signal;
  if (owned.size > 0) process.stderr.write(`\neventbench: ${signal === 'SIGINT' ? 'interrupted' : signal}: stopping ${ownedLabels().join(', ')}\n`);
  void stopAllOwned().finally(() => {
    onExit();
    process.exit(exitCodeForSignal(signal));
  });
}

function onExit(): void {
  const all = [...owned];
  for (const r of [...all.filter((x) => x.kind !== 'files'), ...all.filter((x) => x.kind === 'files')]) {
    try {
      r.killSync();
    } catch {
      // best effort: we are exiting
    }
  }
  owned.clear();
}

/** True while a process exists and is not a zombie (a zombie holds no port, no memory, no lock). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return procState(pid) !== 'Z';
}

/**
 * `pid` and all its live descendants (via /proc's parent links), parents first. PostgreSQL puts each
 * backend in a session of its own, so "the server" is this tree, not a process group.
 */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [pid];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat || stat.state === 'Z') continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(entry));
    children.set(stat.ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && out.length < 10_000) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

/** Sends a signal to each PID (parents first); returns how many were signalled. */
export function signalPids(pids: number[], signal: NodeJS.Signals): number {
  let n = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
      n++;
    } catch {
      // gone
    }
  }
  return n;
}

/** True while any non-zombie process of the group exists. */
export function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true; // no /proc: trust kill(0)
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') return true;
  }
  return false;
}

function procState(pid: number): string | undefined {
  return readStat(pid)?.state;
}

function readStat(pid: number): { state: string; ppid: number; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '', ppid: Number(rest[1]), pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

/** Polls `condition` every `intervalMs` until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Sends a signal to a process group; false if it no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export function removeDirSync(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Blocks the thread for `ms` (only for the exit hook, where nothing async runs any more). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
