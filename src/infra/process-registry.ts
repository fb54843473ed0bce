/**
 * The one owner of every server process eventbench starts. Three layers make sure none outlives us:
 * 1. the handle's own `stop()` (normal path, `await using`, a test's afterAll);
 * 2. while anything is owned: SIGINT / SIGTERM / SIGHUP handlers that stop everything cleanly and then
 *    re-raise the signal (so the exit status still says "killed by SIGINT"), unless the application
 *    listens for that signal too (then it finishes and stops its servers itself; a second signal
 *    kills them at once and exits 128+n); and an `exit` hook that SIGKILLs whatever is left
 *    synchronously (uncaught errors, `process.exit()` elsewhere);
 * 3. for a hard death of this process (SIGKILL, OOM), which Node cannot observe and where Linux's
 *    `prctl(PR_SET_PDEATHSIG)` is not reachable from Node: a tiny watchdog `sh` per server process that
 *    blocks reading a pipe whose only writer is us. When we die the kernel closes the pipe, the
 *    watchdog reads EOF and SIGKILLs the server's process group and removes its temp dir (PostgreSQL
 *    backends then exit by themselves: they watch for their postmaster's death).
 * Servers run in their own process group (`detached`), so a terminal's Ctrl-C reaches only us and we
 * shut them down in order. Signals go to PIDs we started and their descendants (PostgreSQL backends
 * are session leaders of their own), never to names.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';

/** Something that must not outlive this process. */
export interface OwnedResource {
  readonly label: string;
  /** Clean, async shutdown (bounded in time by the resource itself). */
  stop(): Promise<void>;
  /** Last resort from the `exit` hook: synchronous SIGKILL + remove temp files. */
  killSync(): void;
}

const owned = new Set<OwnedResource>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;
let shuttingDown = false;
let signalsSeen = 0;

/** Registers a resource; returns the function that releases it (after it stopped by itself). */
export function own(resource: OwnedResource): () => void {
  owned.add(resource);
  install();
  return () => {
    owned.delete(resource);
    if (owned.size === 0) uninstall();
  };
}

/** What is owned right now (labels), for diagnostics and tests. */
export function ownedLabels(): string[] {
  return [...owned].map((r) => r.label);
}

/** Stops every owned resource (used by the signal handlers; callable by a runner that wants to). */
export async function stopAllOwned(): Promise<void> {
  await Promise.allSettled([...owned].map((r) => r.stop()));
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
    process.exit(128 + signalNumber(signal));
  }
  // A command that handles the signal itself (e.g. `load` stops the load and writes partial results)
  // still needs its servers for that; it stops them through its own `await using`, and the exit hook
  // is the backstop. Only when nobody else listens do we shut down and die by the signal.
  if (process.listeners(signal).some((l) => l !== onSignal)) return;
  shuttingDown = true;
  void stopAllOwned().finally(() => {
    shuttingDown = false;
    for (const r of owned) r.killSync();
    owned.clear();
    uninstall();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    else process.exit(128 + signalNumber(signal));
  });
}

function onExit(): void {
  for (const r of owned) {
    try {
      r.killSync();
    } catch {
      // best effort: we are exiting
    }
  }
  owned.clear();
}

function signalNumber(signal: NodeJS.Signals): number {
  return { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[signal as 'SIGHUP' | 'SIGINT' | 'SIGTERM'] ?? 1;
}

/**
 * Starts the watchdog for one server process group (see the file comment). Returns its PID; kill it
 * with `stopWatchdog` once the server stopped by our own hand, so it never signals a recycled group id.
 */
export function startWatchdog(pgid: number, removeDir?: string): number | undefined {
  // dash's kill takes no `--`; `-9 -N` signals process group N. PostgreSQL backends are session leaders
  // of their own (the postmaster setsid()s them); they exit by themselves once the postmaster is gone.
  const script = 'cat >/dev/null; kill -9 -"$1" 2>/dev/null || kill -9 "$1" 2>/dev/null; if [ -n "$2" ]; then sleep 0.2; rm -rf -- "$2"; fi';
  const child = spawn('/bin/sh', ['-c', script, 'eventbench-watchdog', String(pgid), removeDir ?? ''], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  child.on('error', () => {});
  child.unref();
  // The pipe must not keep the event loop alive; it only exists to be closed by our death.
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return child.pid;
}

export function stopWatchdog(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
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
