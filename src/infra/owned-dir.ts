/**
 * A temporary directory with an owner from the moment it exists: registered with the process registry
 * (stopped on Ctrl-C, removed by the exit hook) and watched by a watchdog `sh` that removes it, after
 * SIGKILLing the process groups started in it (initdb, postgres, nats-server), if eventbench dies hard.
 * The watchdog is started before the directory is created, so there is no moment in which a SIGKILL of
 * eventbench leaves the directory behind.
 *
 * The watchdog blocks reading a pipe whose only writer is this process; we tell it which process groups
 * to kill (`+ <pgid>` / `- <pgid>` lines). When we die the kernel closes the pipe, its `read` sees EOF,
 * it kills the groups it was told about, then every process whose working directory lies in the
 * directory (servers are started there: this catches one whose spawn our death interrupted before we
 * could name its group), and removes the directory (retrying while a dying server may still create
 * files in it). A directory we removed ourselves dismisses its watchdog first, so it never signals a
 * recycled group id.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, isGroupAlive, own, processTree, removeDirSync, signalGroup, signalPids, sleepSync, waitFor } from './process-registry.ts';

export interface OwnedDir {
  readonly path: string;
  /** Process groups started in the directory: killed before it is removed (by us or the watchdog). */
  watch(pgid: number): void;
  /** A group that stopped by our own hand: nothing left to kill. */
  unwatch(pgid: number): void;
  /** SIGKILLs what is still watched, removes the directory, dismisses the watchdog. Idempotent. */
  remove(): Promise<void>;
}

// dash: `read` is a builtin (no child process to leave behind); `kill -9 -N` signals process group N.
const WATCHDOG_SCRIPT = `dir=$1; groups=
while read -r op id; do
  case $op in
    +) groups="$groups $id" ;;
    -) rest=; for g in $groups; do [ "$g" = "$id" ] || rest="$rest $g"; done; groups=$rest ;;
  esac
done
for g in $groups; do kill -9 -"$g" 2>/dev/null || kill -9 "$g" 2>/dev/null; done
for p in /proc/[0-9]*; do
  case $(readlink "$p/cwd" 2>/dev/null) in "$dir"|"$dir"/*) kill -9 "\${p#/proc/}" 2>/dev/null ;; esac
done
i=0
while [ -e "$dir" ] && [ $i -lt 25 ]; do rm -rf -- "$dir" 2>/dev/null; [ -e "$dir" ] && sleep 0.2; i=$((i+1)); done`;

/** Creates `<tmpdir>/<prefix>XXXXXXXXXXXX` (mode 700), owned and watched from before it exists. */
export function createOwnedDir(prefix: string): OwnedDir {
  for (let attempt = 0; ; attempt++) {
    const path = join(tmpdir(), `${prefix}${randomBytes(6).toString('hex')}`);
    const watchdog = startWatchdog(path);
    try {
      mkdirSync(path, { mode: 0o700 });
    } catch (err) {
      dismiss(watchdog); // the name is someone else's (or tmpdir is unusable): never remove it
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 10) continue;
      throw err;
    }
    return ownDir(path, watchdog);
  }
}

function ownDir(path: string, watchdog: ChildProcess): OwnedDir {
  const groups = new Set<number>();
  let removed = false;
  const tell = (line: string) => {
    if (watchdog.stdin && !watchdog.stdin.destroyed) watchdog.stdin.write(`${line}\n`);
  };
  const killGroups = () => {
    for (const pgid of groups) {
      signalPids(processTree(pgid), 'SIGKILL');
      signalGroup(pgid, 'SIGKILL');
    }
  };
  const gone = () => [...groups].every((g) => !isGroupAlive(g) && !isAlive(g));
  const release = own({
    label: `temp dir ${path}`,
    kind: 'files',
    stop: () => dir.remove(),
    killSync: () => {
      if (removed) return;
      removed = true;
      killGroups();
      for (let i = 0; i < 100 && !gone(); i++) sleepSync(10);
      try {
        removeDirSync(path);
      } catch {
        // a dying server still writing: the watchdog retries once we are gone
      }
      if (!existsSync(path)) dismiss(watchdog);
    },
  });
  const dir: OwnedDir = {
    path,
    watch(pgid) {
      groups.add(pgid);
      tell(`+ ${pgid}`);
    },
    unwatch(pgid) {
      groups.delete(pgid);
      tell(`- ${pgid}`);
    },
    async remove() {
      if (removed) return;
      removed = true;
      killGroups();
      await waitFor(gone, 5_000);
      for (let i = 0; i < 5; i++) {
        try {
          removeDirSync(path);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100)); // a killed server's last files
        }
      }
      if (!existsSync(path)) dismiss(watchdog);
      release();
    },
  };
  return dir;
}

function startWatchdog(path: string): ChildProcess {
  const child = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'eventbench-watchdog', path], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true, // not in our process group: a terminal's Ctrl-C must not end it before it is needed
  });
  child.on('error', () => {});
  child.stdin?.on('error', () => {});
  child.unref();
  // The pipe must not keep the event loop alive; it only exists to be closed by our death.
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return child;
}

function dismiss(watchdog: ChildProcess): void {
  if (watchdog.pid === undefined || watchdog.exitCode !== null || watchdog.signalCode !== null) return;
  try {
    process.kill(watchdog.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
