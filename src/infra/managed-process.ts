/**
 * The lifecycle shared by managed PostgreSQL and NATS: spawn in its own process group with a watchdog,
 * wait until it answers, and stop / kill / pause / resume / restart it by process-group id.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { ConfigError } from '../core/event-store.ts';
import type { ServerHandle } from './server-handle.ts';
import type { OwnedDir } from './owned-dir.ts';
import { isAlive, isGroupAlive, own, processTree, signalGroup, signalPids, waitFor } from './process-registry.ts';

export interface ProcessSpec {
  kind: ServerHandle['kind'];
  source: string;
  version: string;
  url: string;
  port: number;
  /** Temp directory holding data dir and log (its watchdog also kills the server); removed by `stop()`. */
  dir: OwnedDir;
  dataDir: string;
  logFile: string;
  command: string;
  args: string[];
  /** Extra environment (postgres-exporter takes its connection URL here, not in argv where `ps` shows it). */
  env?: Record<string, string>;
  /** Run as this user (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  /** Clean shutdown signal sent to the main process: SIGINT is PostgreSQL's "fast" shutdown. */
  stopSignal: NodeJS.Signals;
  /** One readiness probe; true when the server answers. Must bound its own time. */
  probe(): Promise<boolean>;
  startTimeoutMs?: number;
}

const STOP_TIMEOUT_MS = 10_000;

/** Returns a free TCP port on 127.0.0.1 (the OS picks it; we close and hand it to the server). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts the process and returns its handle once `probe()` succeeds. On failure the process is gone
 * and ownership released, but `dir` is left to the caller (which may retry on another port).
 */
export async function startManagedProcess<T extends object = object>(spec: ProcessSpec, extra?: T): Promise<ServerHandle & T> {
  const server = new ManagedServer(spec);
  try {
    await server.start();
  } catch (err) {
    await server.discard().catch(() => {});
    throw err;
  }
  return Object.assign(server, extra ?? ({} as T)) as ManagedServer & T;
}

class ManagedServer implements ServerHandle {
  readonly kind: ServerHandle['kind'];
  readonly source: string;
  readonly url: string;
  readonly port: number;
  readonly version: string;
  readonly dataDir: string;
  readonly logFile: string;
  state: ServerHandle['state'] = 'down';
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private release: (() => void) | undefined;
  private currentPid = 0;

  constructor(private readonly spec: ProcessSpec) {
    this.kind = spec.kind;
    this.source = spec.source;
    this.url = spec.url;
    this.port = spec.port;
    this.version = spec.version;
    this.dataDir = spec.dataDir;
    this.logFile = spec.logFile;
  }

  get pid(): number {
    return this.currentPid;
  }

  async start(): Promise<void> {
    if (this.state === 'removed') throw new Error(`${this.kind} server was stopped for good; start a new one`);
    this.release ??= own({ label: `${this.kind}:${this.port}`, stop: () => this.stop(), killSync: () => this.killSync() });
    const out = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.spec.command, this.spec.args, {
        detached: true, // own process group: Ctrl-C reaches only us, and we signal the whole group
        stdio: ['ignore', out, out],
        cwd: this.spec.dir.path,
        ...(this.spec.env ? { env: { ...process.env, ...this.spec.env } } : {}),
        ...(this.spec.uid !== undefined ? { uid: this.spec.uid, gid: this.spec.gid } : {}),
      });
    } finally {
      closeSync(out);
    }
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    // A server that dies by itself (crash, OOM killer, someone else's signal) is `down`, restartable.
    child.once('exit', () => {
      if (this.child !== child || this.state === 'removed' || this.state === 'down') return;
      if (!isAlive(child.pid ?? 0)) {
        this.spec.dir.unwatch(child.pid ?? 0);
        this.state = 'down';
      }
    });
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    child.unref(); // a forgotten handle must not keep the process alive; the exit hook kills it then
    this.child = child;
    this.currentPid = child.pid ?? 0;
    if (this.currentPid) this.spec.dir.watch(this.currentPid);
    this.state = 'running';

    let exited = false;
    void this.exited.then(() => (exited = true));
    let failure: Error | undefined;
    void spawnError.then((e) => (failure = e));
    const timeout = this.spec.startTimeoutMs ?? 30_000;
    const ready = await waitFor(async () => exited || failure !== undefined || (await this.spec.probe()), timeout, 50);
    if (failure || exited || !ready) {
      const clash = /address already in use/i.test(this.readLog());
      const why = failure ? failure.message : clash ? `could not listen: port ${this.port} already in use` : exited ? 'exited during startup' : `did not answer within ${timeout} ms`;
      await this.kill().catch(() => {});
      throw new ConfigError(`managed ${this.kind} (${this.spec.command}) ${why}: ${this.logTail()} (log: ${this.logFile})`);
    }
  }

  async stop(): Promise<void> {
    if (this.state === 'removed') return;
    if (this.state === 'running' || this.state === 'paused') await this.shutdown();
    this.state = 'removed';
    await this.spec.dir.remove();
    this.release?.();
    this.release = undefined;
  }

  /** After a failed start: make sure the process is gone and release ownership; keep the directory. */
  async discard(): Promise<void> {
    await this.kill();
    this.state = 'removed';
    this.release?.();
    this.release = undefined;
  }

  async kill(): Promise<void> {
    if (this.state === 'down' || this.state === 'removed') return;
    const pgid = this.currentPid;
    // The whole server at once, as a crash would: the process tree (PostgreSQL backends are session
    // leaders of their own) and the group. They must all be gone before a restart (backends hold the
    // shared memory segment).
    const tree = processTree(pgid);
    signalGroup(pgid, 'SIGKILL');
    signalPids(tree, 'SIGKILL');
    await this.waitExited();
    await this.settleDown(pgid, tree);
  }

  async pause(): Promise<void> {
    if (this.state !== 'running') throw new Error(`${this.kind} server is ${this.state}, cannot pause`);
    // The main process first, so it cannot start new children, then every descendant.
    const tree = processTree(this.currentPid);
    signalGroup(this.currentPid, 'SIGSTOP');
    signalPids(tree, 'SIGSTOP');
    this.state = 'paused';
    await waitFor(() => tree.every((p) => ['T', undefined].includes(procState(p))), 2_000, 5);
  }

  async resume(): Promise<void> {
    if (this.state !== 'paused') return;
    signalPids(processTree(this.currentPid), 'SIGCONT');
    signalGroup(this.currentPid, 'SIGCONT');
    this.state = 'running';
  }

  async restart(): Promise<void> {
    if (this.state === 'removed') throw new Error(`${this.kind} server was stopped for good; cannot restart`);
    if (this.state === 'running' || this.state === 'paused') await this.shutdown();
    await this.start();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Clean shutdown of the current process, escalating to SIGKILL; data dir stays. */
  private async shutdown(): Promise<void> {
    const pgid = this.currentPid;
    if (this.state === 'paused') await this.resume();
    const tree = processTree(pgid);
    if (this.child && isAlive(pgid)) {
      try {
        process.kill(pgid, this.spec.stopSignal);
      } catch {
        // already gone
      }
      this.child.ref(); // keep the event loop alive while we wait for the exit event
      const done = await Promise.race([this.exited.then(() => true), delay(STOP_TIMEOUT_MS, false, { ref: false })]);
      if (!done) {
        signalGroup(pgid, 'SIGKILL');
        signalPids(tree, 'SIGKILL');
      }
      await this.waitExited();
    }
    await this.settleDown(pgid, tree);
  }

  /** After a kill or a shutdown: every process of the server gone, its watchdog stopped, state `down`. */
  private async settleDown(pgid: number, tree: number[]): Promise<void> {
    await waitFor(() => !isGroupAlive(pgid) && tree.every((p) => !isAlive(p)), 5_000);
    this.spec.dir.unwatch(pgid);
    this.state = 'down';
  }

  /** The child is unref'd (a forgotten handle must not keep the process alive), so ref it while we wait. */
  private async waitExited(): Promise<void> {
    this.child?.ref();
    await this.exited;
  }

  /** Exit hook: SIGKILL now; the directory's own exit hook (it runs after the processes') removes it. */
  private killSync(): void {
    if (this.state === 'running' || this.state === 'paused') {
      signalPids(processTree(this.currentPid), 'SIGKILL');
      signalGroup(this.currentPid, 'SIGKILL');
    }
    this.state = 'removed';
  }

  private readLog(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  private logTail(): string {
    const lines = this.readLog().trim().split('\n');
    return lines.slice(-3).join(' | ').slice(0, 500) || '(empty log)';
  }
}

/**
 * Runs `attempt` up to 3 times while the server reports its port taken: the free port we picked can be
 * grabbed (e.g. as another client's ephemeral port) before the server binds it.
 */
export async function retryOnPortClash<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (i >= 3 || !/already in use/i.test((err as Error).message)) throw err;
    }
  }
}

function procState(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined; // gone, or no /proc: nothing to wait for
  }
}

/**
 * Runs a helper command to completion (e.g. `initdb`) in its own process group, watched by `dir` so
 * that Ctrl-C or a SIGKILL of eventbench also ends it before the directory goes. Rejects with its
 * stderr when it fails or is killed.
 */
export async function runInDir(
  dir: OwnedDir,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number; timeoutMs: number },
): Promise<void> {
  const child = spawn(command, args, {
    detached: true, // a terminal's Ctrl-C reaches only us; we end it in order
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: dir.path,
    ...(options.env ? { env: options.env } : {}),
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
  });
  if (child.pid !== undefined) dir.watch(child.pid);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4_000)));
  const timer = setTimeout(() => child.pid !== undefined && signalGroup(child.pid, 'SIGKILL'), options.timeoutMs);
  try {
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    if (code !== 0) throw Object.assign(new Error(signal ? `${command} ended by ${signal}` : `${command} exited with ${code}`), { stderr });
  } finally {
    clearTimeout(timer);
    if (child.pid !== undefined) {
      // initdb's own children (postgres --boot) end with it; make sure before forgetting the group.
      await waitFor(() => !isGroupAlive(child.pid!), 5_000);
      dir.unwatch(child.pid);
    }
  }
}
