/**
 * Where servers come from. `auto` (default): a URL that is given (flag or PG_URL / NATS_URL) is used as
 * it is, otherwise a managed throwaway server is started. `managed`: always start throwaway servers (a
 * URL given as well is a contradiction and refused). `external`: only URLs, never start anything.
 * Testcontainers are not used: this project runs where no Docker engine answers, and a fallback that
 * cannot be tested here is not shipped; `docker compose up -d` + the URL variables covers Docker users.
 */
import { connect } from '@nats-io/transport-node';
import { connect as netConnect } from 'node:net';
import pg from 'pg';
import { ConfigError, StoreUnavailableError } from '../core/event-store.ts';
import { startManagedNats, type NatsServerHandle } from './managed-nats.ts';
import { startManagedPostgres } from './managed-postgres.ts';
import type { NatsSecurityMode, PgSecurityMode } from './security/modes.ts';
import { natsClientOptions } from './security/nats-client.ts';
import { startManagedNatsCluster, type NatsClusterHandle } from './managed-nats-cluster.ts';
import { startManagedPostgresWithStandby, type PostgresStandbyPair } from './managed-postgres-standby.ts';
import type { Topology } from '../core/environment.ts';
import { INFRA_MODES, type InfraMode } from './infra-mode.ts';
import type { ServerHandle } from './server-handle.ts';

export { INFRA_MODES, type InfraMode };

export interface OpenServersOptions {
  infra?: InfraMode;
  pgUrl?: string;
  natsUrl?: string;
  /** Managed PostgreSQL binaries: `embedded` (default), `system`, or a bin directory. */
  pgBin?: string;
  /** Extra settings for a managed PostgreSQL (`-c name=value`). */
  pgSettings?: Record<string, string | number>;
  /** Connect timeout for checking external servers. Default 3000 ms. */
  checkTimeoutMs?: number;
  /**
   * `single` (default): one server each. `replicated` (docs/topologies.md): managed servers are a 3-node
   * JetStream cluster and a PostgreSQL primary with a synchronous standby; external URLs are used as given.
   */
  topology?: Topology;
  /** Replicated: every client link and route of the managed cluster through a fault proxy (chaos). */
  clusterFaultProxies?: boolean;
  /** A managed single nats-server fsyncs before every ack where it can (2.10+; `--durability matched`). */
  natsSyncAlways?: boolean;
  /** A managed single nats-server's accounts, users, token and/or TLS (docs/security.md). Default `none`. */
  natsSecurity?: NatsSecurityMode;
  /** A managed PostgreSQL's non-superuser role and/or TLS (docs/security.md). Default `none`. */
  pgSecurity?: PgSecurityMode;
}

/** Which servers a command needs. `jetstream` (default: same as `nats`): a NATS URL must have JetStream enabled. */
export interface ServerNeeds {
  postgres: boolean;
  nats: boolean;
  jetstream?: boolean;
}

/** The servers a run uses: URLs always; handles only for servers we started (and may kill, pause, restart). */
export interface Servers extends AsyncDisposable {
  pgUrl?: string;
  natsUrl?: string;
  /** The managed PostgreSQL; on the replicated topology its primary. */
  postgres?: ServerHandle;
  /** The managed single nats-server (absent on the replicated topology: see `natsCluster`). */
  nats?: NatsServerHandle;
  topology: Topology;
  /** Replicated, managed: the 3-node JetStream cluster (`natsUrl` lists its nodes). */
  natsCluster?: NatsClusterHandle;
  /** Replicated, managed: the primary (`postgres`) and its synchronous standby. */
  postgresStandby?: PostgresStandbyPair;
  /** Stops managed servers (external ones are left alone). Idempotent. */
  stop(): Promise<void>;
}

export async function openServers(options: OpenServersOptions, needs: ServerNeeds): Promise<Servers> {
  const infra = options.infra ?? 'auto';
  if (!INFRA_MODES.includes(infra)) throw new ConfigError(`--infra ${String(infra)}: expected one of ${INFRA_MODES.join(', ')}`);
  // The shape of every URL first: a typo must not cost a server start or a 3 s connect timeout.
  if (needs.postgres && nonEmpty(options.pgUrl)) checkPostgresUrl(nonEmpty(options.pgUrl)!);
  if (needs.nats && nonEmpty(options.natsUrl)) checkNatsUrl(nonEmpty(options.natsUrl)!);
  const timeoutMs = options.checkTimeoutMs ?? 3_000;
  const topology = options.topology ?? 'single';
  const servers: Servers = {
    topology,
    async stop() {
      await Promise.allSettled([servers.postgresStandby?.stop(), servers.postgres?.stop(), servers.nats?.stop(), servers.natsCluster?.stop()]);
    },
    [Symbol.asyncDispose]() {
      return servers.stop();
    },
  };
  try {
    if (needs.postgres) {
      const url = nonEmpty(options.pgUrl);
      if (infra === 'managed' && url) throw new ConfigError('--infra managed starts its own PostgreSQL, but a URL is set (--pg-url / PG_URL): unset it or use --infra auto');
      if (infra === 'external' && !url) throw new ConfigError('--infra external needs a PostgreSQL URL: --pg-url postgres://... or PG_URL');
      if (url) {
        await checkPostgres(url, timeoutMs);
        servers.pgUrl = url;
      }
    }
    if (needs.nats) {
      const url = nonEmpty(options.natsUrl);
      if (infra === 'managed' && url) throw new ConfigError('--infra managed starts its own NATS, but a URL is set (--nats-url / NATS_URL): unset it or use --infra auto');
      if (infra === 'external' && !url) throw new ConfigError('--infra external needs a NATS URL: --nats-url nats://... or NATS_URL');
      if (url) {
        await checkNats(url, timeoutMs, needs.jetstream ?? true);
        servers.natsUrl = url;
      }
    }
    // Start what is missing, both at once (each takes ~1 s); if one fails, the other is stopped too.
    const replicated = topology === 'replicated';
    const natsSecurity = options.natsSecurity ?? 'none';
    const pgSecurity = options.pgSecurity ?? 'none';
    if (replicated && (natsSecurity !== 'none' || pgSecurity !== 'none')) {
      throw new ConfigError('--nats-security / --pg-security apply to single managed servers: use --topology single, or secure your own servers and pass their URLs');
    }
    const pgOptions = { bin: options.pgBin, settings: options.pgSettings, ...(pgSecurity !== 'none' ? { security: pgSecurity } : {}) };
    const [postgres, nats] = await Promise.allSettled([
      needs.postgres && !servers.pgUrl ? (replicated ? startManagedPostgresWithStandby(pgOptions) : startManagedPostgres(pgOptions)) : undefined,
      needs.nats && !servers.natsUrl ? (replicated ? startManagedNatsCluster({ faultProxies: options.clusterFaultProxies ?? false, syncAlways: options.natsSyncAlways ?? false }) : startManagedNats({ syncAlways: options.natsSyncAlways ?? false, ...(natsSecurity !== 'none' ? { security: natsSecurity } : {}) })) : undefined,
    ]);
    if (postgres.status === 'fulfilled' && postgres.value) {
      const v = postgres.value;
      if ('standby' in v) {
        servers.postgresStandby = v;
        servers.postgres = v.primary;
      } else {
        servers.postgres = v;
      }
      servers.pgUrl = v.url;
    }
    if (nats.status === 'fulfilled' && nats.value) {
      const v = nats.value;
      if ('nodes' in v) servers.natsCluster = v;
      else servers.nats = v;
      servers.natsUrl = v.url;
    }
    if (postgres.status === 'rejected') throw postgres.reason;
    if (nats.status === 'rejected') throw nats.reason;
    return servers;
  } catch (err) {
    await servers.stop();
    throw err;
  }
}

function nonEmpty(s: string | undefined): string | undefined {
  return s && s.trim() ? s.trim() : undefined;
}

/**
 * Hides the secrets of a URL (or a comma-separated NATS list) for messages and results: a password, and
 * a NATS URL's user part without a password, which is a token (docs/security.md). Anything that is not
 * a URL is hidden whole when it has an `@` (it might be `user:secret@host`).
 */
export function redactUrl(url: string): string {
  if (url.includes(',')) return url.split(',').map((part) => redactUrl(part.trim())).join(',');
  // `user:secret@host:port` without a scheme would parse as scheme `user:`: hide everything before the @.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url.includes('@') ? `***@${url.slice(url.lastIndexOf('@') + 1)}` : url;
  try {
    const u = new URL(url);
    const natsToken = NATS_SCHEMES.includes(u.protocol) && u.username && !u.password;
    if (!u.password && !natsToken) return url; // as given: URL's toString would add a trailing slash to some
    if (natsToken) u.username = '***';
    else u.password = '***';
    return u.toString();
  } catch {
    return url.includes('@') ? `***@${url.slice(url.lastIndexOf('@') + 1)}` : url;
  }
}

const PG_SCHEMES = ['postgres:', 'postgresql:'];
const NATS_SCHEMES = ['nats:', 'tls:'];

/** `postgres://` or `postgresql://` with a host (or `?host=` for a socket directory): ConfigError otherwise. */
export function checkPostgresUrl(url: string): void {
  const fix = 'use postgres://user[:password]@host[:port]/database (check --pg-url / PG_URL)';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`--pg-url ${JSON.stringify(redactUrl(url))} is not a URL: ${fix}`);
  }
  if (!PG_SCHEMES.includes(u.protocol)) throw new ConfigError(`--pg-url ${JSON.stringify(redactUrl(url))} is not a PostgreSQL URL (scheme ${u.protocol.replace(/:$/, '')}): ${fix}`);
  if (!u.hostname && !u.searchParams.get('host')) throw new ConfigError(`--pg-url ${JSON.stringify(redactUrl(url))} names no host: ${fix}`);
}

/** `nats://host:port`, `tls://host:port` or `host[:port]`, comma-separated: ConfigError otherwise. */
export function checkNatsUrl(urls: string): void {
  const fix = 'use nats://host:port (or tls://..., or host:port; several separated by commas) (check --nats-url / NATS_URL)';
  const list = urls.split(',').map((x) => x.trim());
  for (const url of list) {
    const shown = JSON.stringify(redactUrl(url));
    if (!url) throw new ConfigError(`--nats-url ${JSON.stringify(urls)} has an empty entry: ${fix}`);
    const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
    if (schemeMatch && !NATS_SCHEMES.includes(`${schemeMatch[1]!.toLowerCase()}:`)) {
      throw new ConfigError(`--nats-url ${shown} is not a NATS URL (scheme ${schemeMatch[1]}): ${fix}`);
    }
    let u: URL;
    try {
      u = new URL(schemeMatch ? url : `nats://${url}`);
    } catch {
      throw new ConfigError(`--nats-url ${shown} is not a URL: ${fix}`);
    }
    if (!u.hostname || (u.pathname !== '' && u.pathname !== '/')) throw new ConfigError(`--nats-url ${shown} is not host:port: ${fix}`);
  }
}

/**
 * "unreachable" (nothing answered: refused, no such host, timeout) or "reachable but refused" (a
 * server answered and said no: authentication, unknown database or role, too many connections, ...):
 * the fixes differ. A PostgreSQL error with a SQLSTATE came from the server.
 */
async function checkPostgres(url: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => {});
  const started = Date.now();
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    const sqlstate = (err as { code?: unknown }).code;
    if (typeof sqlstate === 'string' && /^[0-9A-Z]{5}$/.test(sqlstate)) {
      // node-postgres takes the OS user when the URL names none: say so, it is a common surprise.
      const noUser = new URL(url).username ? '' : client.user ? ` (the URL names no user, so $USER ${JSON.stringify(client.user)} was used)` : ' (the URL names no user, and $USER is not set)';
      throw new StoreUnavailableError(`PostgreSQL at ${redactUrl(url)} is reachable but refused: ${describe(err)} [SQLSTATE ${sqlstate}]${noUser} (check --pg-url / PG_URL)`, { cause: err });
    }
    const why = Date.now() - started >= timeoutMs - 50 ? `no answer within ${timeoutMs} ms (${describe(err)})` : describe(err);
    throw new StoreUnavailableError(`PostgreSQL at ${redactUrl(url)} is unreachable: ${why} (check --pg-url / PG_URL, or unset it to use a managed server)`, { cause: err });
  } finally {
    await client.end().catch(() => {});
  }
}

async function checkNats(url: string, timeoutMs: number, needsJetStream: boolean): Promise<void> {
  const first = url.split(',')[0]!.trim();
  let info: { version?: string; jetstream?: boolean };
  try {
    info = await probeNatsInfo(first, timeoutMs);
  } catch (err) {
    throw new StoreUnavailableError(`NATS at ${redactUrl(url)} is unreachable: ${describe(err)} (check --nats-url / NATS_URL, or unset it to use a managed server)`, { cause: err });
  }
  try {
    const nc = await connect({ ...natsClientOptions(url), timeout: timeoutMs, reconnect: false });
    await nc.close();
  } catch (err) {
    throw new StoreUnavailableError(`NATS at ${redactUrl(url)} is reachable but refused: ${describe(err)} (check the credentials in --nats-url / NATS_URL)`, { cause: err });
  }
  if (needsJetStream && info.jetstream !== true) {
    throw new StoreUnavailableError(`NATS at ${redactUrl(url)} is reachable but refused: JetStream is not enabled on this server (start nats-server with -js, or point --nats-url / NATS_URL at one that has it)`);
  }
}

/**
 * Waits (bounded) for the `INFO` line a NATS server sends first on every connection. Needed before
 * nats.js's connect: when a server accepts but never sends INFO, @nats-io/transport-node 3.x rejects on
 * its timeout but leaves the socket open (its close() ignores connections that never completed), which
 * keeps the process alive forever.
 */
export async function probeNatsInfo(url: string, timeoutMs: number): Promise<{ version?: string; jetstream?: boolean }> {
  const u = new URL(url.includes('://') ? url : `nats://${url}`);
  const port = Number(u.port || 4222);
  return new Promise((resolve, reject) => {
    let buffered = '';
    const socket = netConnect({ host: u.hostname, port });
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const finish = (err: Error | undefined, info?: { version?: string; jetstream?: boolean }) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(info ?? {});
    };
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNREFUSED' ? new Error('connection refused') : err));
    socket.on('close', () => finish(new Error('connection closed before the server said INFO')));
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      const end = buffered.indexOf('\r\n');
      if (end < 0) {
        if (buffered.length > 64 * 1024) finish(new Error('not a NATS server (no INFO line)'));
        return;
      }
      const line = buffered.slice(0, end);
      if (!line.startsWith('INFO ')) return finish(new Error(`not a NATS server (said ${JSON.stringify(line.slice(0, 40))})`));
      try {
        finish(undefined, JSON.parse(line.slice(5)) as { version?: string; jetstream?: boolean });
      } catch {
        finish(new Error('not a NATS server (bad INFO line)'));
      }
    });
  });
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; errors?: { message?: string }[] };
  // node-postgres wraps "connect to each address" failures in an AggregateError without a message.
  const msg = e?.message || e?.errors?.map((x) => x.message).join('; ') || e?.code || String(err);
  return msg.replace(/\s+/g, ' ').trim();
}
