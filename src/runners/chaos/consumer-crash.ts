/**
 * A consumer in a child process that a chaos run SIGKILLs in the middle of a batch and starts again:
 * what a crashed worker does to a durable subscription (its unacknowledged deliveries come back: at-least-
 * once) cannot be shown inside one process, where a "crash" would still run `finally` blocks.
 *
 * The child speaks a line protocol on stdout: `ready` once subscribed; `handling <event id>` before a
 * handler's effect and `handled <event id>` after it. A delivery between the two is in flight: killing
 * then is a crash in mid-batch. Signals go only to the PID we spawned.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { own, waitFor } from '../../infra/process-registry.ts';
import type { ConsumerChildArgs } from './consumer-child.ts';

export interface ConsumerProcessOptions {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** How long a start may take until the child says `ready` (default 30 s). */
  readyTimeoutMs?: number;
  /** For messages and the process registry, e.g. `consumer postgres/load_1`. */
  label?: string;
}

export interface CrashResult {
  /** The PID that was killed. */
  pid: number;
  /** Deliveries in flight at the kill (`handling` without `handled`): empty if none came within the wait. */
  inFlight: string[];
}

export interface ConsumerProcess extends AsyncDisposable {
  readonly label: string;
  /** PID of the current child; undefined while down. */
  readonly pid: number | undefined;
  readonly state: 'running' | 'down' | 'stopped';
  /** Every `handled` id the children reported, in order, across restarts (repeats included). */
  readonly handled: readonly string[];
  /** Deliveries the current child is handling now. */
  inFlight(): string[];
  /**
   * SIGKILL. With `midBatch` (default true) it first waits (at most `waitMs`, default 10 s) until a
   * delivery is in flight, so the kill lands between a handler's start and its acknowledgement.
   * Resolves once the process is gone.
   */
  crash(options?: { midBatch?: boolean; waitMs?: number }): Promise<CrashResult>;
  /** Starts the consumer again (after `crash`), same command; resolves when it is ready. */
  restart(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s. Idempotent. */
  stop(): Promise<void>;
}

const STOP_TIMEOUT_MS = 5_000;

export async function startConsumerProcess(options: ConsumerProcessOptions): Promise<ConsumerProcess> {
  const label = options.label ?? `consumer ${options.args.at(-1) ?? options.command}`;
  const handled: string[] = [];
  let inFlight = new Set<string>();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let state: ConsumerProcess['state'] = 'down';
  let release: (() => void) | undefined;

  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const start = async () => {
    if (state === 'stopped') throw new Error(`${label} was stopped for good`);
    if (alive()) return;
    release ??= own({ label, stop: () => consumer.stop(), killSync });
    let stderrTail = '';
    let ready = false;
    const c = spawn(options.command, options.args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    const current = new Set<string>();
    inFlight = current;
    exited = new Promise((resolve) => c.once('close', () => resolve()));
    c.on('error', (err) => (stderrTail += `\n${err.message}`));
    c.stderr!.on('data', (b: Buffer) => (stderrTail = (stderrTail + b.toString()).slice(-2_000)));
    createInterface({ input: c.stdout! }).on('line', (line) => {
      const space = line.indexOf(' ');
      const what = space < 0 ? line : line.slice(0, space);
      const id = space < 0 ? '' : line.slice(space + 1);
      if (what === 'ready') ready = true;
      else if (what === 'handling') current.add(id);
      else if (what === 'handled') {
        current.delete(id);
        handled.push(id);
      }
    });
    state = 'running';
    const timeoutMs = options.readyTimeoutMs ?? 30_000;
    const ok = await waitFor(() => ready || !alive(), timeoutMs, 20);
    if (!ok || !ready) {
      await kill();
      const why = !ok ? `not ready within ${timeoutMs} ms` : `exited before it was ready (${c.exitCode ?? c.signalCode})`;
      throw new Error(`${label} ${why}: ${stderrTail.trim().split('\n').slice(-3).join(' | ') || '(no output)'}`);
    }
  };

  const kill = async () => {
    if (!child) return;
    if (alive()) {
      try {
        process.kill(child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await exited;
    if (state === 'running') state = 'down';
  };

  function killSync(): void {
    if (child && alive()) {
      try {
        process.kill(child.pid!, 'SIGKILL');
      } catch {
        // exiting anyway
      }
    }
    state = 'stopped';
  }

  const consumer: ConsumerProcess = {
    label,
    get pid() {
      return alive() ? child?.pid : undefined;
    },
    get state() {
      return state;
    },
    handled,
    inFlight: () => [...inFlight],
    async crash(crashOptions = {}) {
      if (!alive() || !child?.pid) throw new Error(`${label} is not running, nothing to crash`);
      const pid = child.pid;
      if (crashOptions.midBatch ?? true) await waitFor(() => inFlight.size > 0 || !alive(), crashOptions.waitMs ?? 10_000, 2);
      const caught = [...inFlight];
      await kill();
      return { pid, inFlight: caught };
    },
    restart: () => start(),
    async stop() {
      if (state === 'stopped') return;
      if (child && alive()) {
        try {
          process.kill(child.pid!, 'SIGTERM');
        } catch {
          // gone
        }
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), STOP_TIMEOUT_MS)))]);
        clearTimeout(timer);
        if (timedOut) await kill();
      }
      state = 'stopped';
      release?.();
      release = undefined;
    },
    [Symbol.asyncDispose]() {
      return consumer.stop();
    },
  };

  try {
    await start();
  } catch (err) {
    state = 'stopped';
    release?.();
    throw err;
  }
  return consumer;
}

/** The environment variable that carries a chaos consumer child's arguments (JSON). */
export const CONSUMER_CHILD_ARGS_ENV = 'EVENTBENCH_CONSUMER_CHILD_ARGS';

/**
 * The command that starts a chaos run's consumer (src/runners/chaos/consumer-child.ts) in a child
 * process, for `startConsumerProcess`: the same Node, TypeScript through tsx's loader as the CLI itself.
 * Its arguments travel in the child's environment, not its argv: they hold the server URL, which may carry
 * a password or token, and any user on the machine can read a process's argv (`ps`), not its environment.
 */
export function chaosConsumerCommand(args: ConsumerChildArgs): Pick<ConsumerProcessOptions, 'command' | 'args' | 'cwd' | 'env'> {
  return {
    command: process.execPath,
    args: ['--import', 'tsx', fileURLToPath(new URL('./consumer-child.ts', import.meta.url))],
    cwd: fileURLToPath(new URL('../../../', import.meta.url)),
    env: { ...process.env, [CONSUMER_CHILD_ARGS_ENV]: JSON.stringify(args) },
  };
}
