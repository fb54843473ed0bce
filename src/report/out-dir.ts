/**
 * `--out DIR`, checked and created before any server starts: an existing file, a parent that is a file
 * (ENOTDIR), a directory without write permission (EACCES / EPERM), a read-only or virtual file system
 * (/proc) are refused with one line, exit 2, and nothing started. The directories this creates have an
 * owner: if the run ends without writing a result into them (bad input found later, a failure), they
 * are removed again, so a failed run leaves nothing behind.
 */
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../core/event-store.ts';

export interface OutDir {
  readonly path: string;
  /** Called once a result was written: the directory is the user's from then on. */
  keep(): void;
  /** Removes the directories this created if nothing was written (idempotent). */
  release(): void;
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is a file, not a directory',
  ENOENT: 'cannot be created there',
  ENOSPC: 'no space left on the device',
  EEXIST: 'exists and is not a directory',
};

function refuse(flag: string, path: string, err: NodeJS.ErrnoException | string): never {
  const why = typeof err === 'string' ? err : `${REASONS[err.code ?? ''] ?? err.message}${err.code ? ` (${err.code})` : ''}`;
  throw new ConfigError(`${flag} ${JSON.stringify(path)}: ${why}; choose a directory you can write to`);
}

function ownedDir(path: string, created: string[]): OutDir {
  let kept = false;
  const release = (): void => {
    if (kept) return;
    kept = true;
    process.off('exit', release);
    // Innermost first; only directories still empty (a concurrent writer's files are never touched).
    for (const dir of [...created].reverse()) {
      try {
        if (readdirSync(dir).length === 0) rmdirSync(dir);
      } catch {
        // already gone, or not ours to remove any more
      }
    }
  };
  // The owner of last resort: a run that ends by process.exit still removes what it created.
  process.on('exit', release);
  return {
    path,
    keep() {
      kept = true;
      process.off('exit', release);
    },
    release,
  };
}

/** Probes that a file can be created in `dir` (permissions, read-only mounts, /proc). */
function probeWrite(flag: string, shown: string, dir: string): void {
  const probe = join(dir, `.eventbench-write-probe-${process.pid}`);
  try {
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (err) {
    refuse(flag, shown, err as NodeJS.ErrnoException);
  }
}

/**
 * Validates `--out`, creates the missing directories one level at a time (never `mkdir -p`, which spins
 * on /proc in Node 20) and probes a write. ConfigError (exit 2) on any problem, with nothing created.
 */
export function prepareOutDir(path: string, flag = '--out'): OutDir {
  if (path.trim() === '') refuse(flag, path, 'is empty');
  const target = resolve(path);
  const missing: string[] = [];
  let existing = target;
  for (;;) {
    try {
      const st = statSync(existing);
      if (!st.isDirectory()) refuse(flag, path, existing === target ? 'exists and is not a directory' : `${existing} is a file, not a directory`);
      break;
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOTDIR') refuse(flag, path, e);
      if (e.code !== 'ENOENT') refuse(flag, path, e);
      missing.unshift(existing);
      const parent = dirname(existing);
      if (parent === existing) refuse(flag, path, e);
      existing = parent;
    }
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (err) {
    refuse(flag, path, err as NodeJS.ErrnoException);
  }
  const created: string[] = [];
  const owner = ownedDir(target, created);
  try {
    for (const dir of missing) {
      mkdirSync(dir);
      created.push(dir);
    }
    probeWrite(flag, path, target);
  } catch (err) {
    owner.release();
    if (err instanceof ConfigError) throw err;
    refuse(flag, path, err as NodeJS.ErrnoException);
  }
  return owner;
}

/** A fresh `<tmpdir>/<prefix>*` directory (bench's default output), removed again if nothing is written to it. */
export function makeTempOutDir(prefix: string): OutDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return ownedDir(dir, [dir]);
}
