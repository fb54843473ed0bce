/** Runs `node bin/eventbench.js ...` as a user would, for the load tester's e2e tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/eventbench.js', import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliHandle {
  child: ChildProcess;
  done: Promise<CliRun>;
  /** Resolves with the first stderr match of `pattern` (or rejects when the process ends first). */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Starts the CLI without PG_URL / NATS_URL from the caller's environment, so flags decide; `extraEnv` is added. */
export function startEventbench(args: string[], timeoutMs = 60_000, extraEnv: Record<string, string> = {}): CliHandle {
  const env = { ...process.env, ...extraEnv };
  delete env.PG_URL;
  delete env.NATS_URL;
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const w of [...watchers]) {
      const m = stderr.match(w.pattern);
      if (m) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliRun>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    done,
    waitForStderr(pattern, waitMs = 30_000) {
      const m = stderr.match(pattern);
      if (m) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern} on stderr within ${waitMs} ms:\n${stderr}`)), waitMs);
        watchers.push({ pattern, resolve: (x) => (clearTimeout(timer), resolve(x)) });
        void done.then((r) => {
          clearTimeout(timer);
          reject(new Error(`eventbench exited (${r.code}) before ${pattern} appeared:\n${r.stderr}`));
        });
      });
    },
  };
}

export function eventbench(args: string[], timeoutMs = 60_000, extraEnv: Record<string, string> = {}): Promise<CliRun> {
  return startEventbench(args, timeoutMs, extraEnv).done;
}
