/**
 * A throwaway nats-server with JetStream: file store in a temp dir, client and monitoring ports on
 * 127.0.0.1. Binary: $NATS_SERVER_BIN, `nats-server` on PATH, /usr/sbin or /usr/local/bin.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ConfigError } from '../core/event-store.ts';
import { freePort, retryOnPortClash, startManagedProcess } from './managed-process.ts';
import { createOwnedDir } from './owned-dir.ts';
import type { ServerHandle } from './server-handle.ts';
import { prepareNatsSecurity, type NatsSecurity, type NatsSecurityMode } from './security/nats-security.ts';

export interface NatsServerHandle extends ServerHandle {
  /** http://127.0.0.1:<port> of the server's monitoring endpoints (/varz, /jsz, /healthz). */
  readonly monitorUrl: string;
  /**
   * With `security`: the users, token and certificates made for this server (tests connect as each user).
   * `url` then carries the harness's credentials and CA (docs/security.md): print it only through `redactUrl`.
   */
  readonly security?: NatsSecurity;
}

export interface ManagedNatsOptions {
  /** Where to look for the binary instead of the default places (tests use this). */
  candidates?: string[];
  /**
   * Fsync every JetStream write before its ack (`sync_interval: always`, nats-server 2.10+; `--durability
   * matched`). Ignored by older servers, which have no such option: the run's environment then reports
   * their 60 s background sync instead.
   */
  syncAlways?: boolean;
  /** One node of a cluster (src/infra/managed-nats-cluster.ts): its route port is fixed by the caller. */
  cluster?: NatsClusterMembership;
  /**
   * Accounts (DOMAIN, QUERY, SYS) with password and nkey users, a token, and/or TLS with certificates
   * made for the run (src/infra/security/nats-security.ts). Default `none`. Not for cluster nodes.
   */
  security?: NatsSecurityMode;
}

/** What a node of a managed cluster needs beyond a single server. */
export interface NatsClusterMembership {
  /** Cluster name, the same on every node. */
  name: string;
  /** Unique per node: JetStream's meta group knows its peers by server name. */
  serverName: string;
  /** The route port this node listens on (127.0.0.1). */
  port: number;
  /** Route URLs (nats-route://127.0.0.1:port) this node dials. */
  routes: string[];
  /** The route URL told to other nodes (which may dial it); default the listen address. */
  advertise?: string;
}

export async function startManagedNats(options: ManagedNatsOptions = {}): Promise<NatsServerHandle> {
  const bin = findNatsServer(options.candidates);
  if (!bin) {
    throw new ConfigError('nats-server not found (PATH, /usr/sbin, /usr/local/bin): apt-get install nats-server, or set NATS_SERVER_BIN, or run one (e.g. docker compose up -d nats) and set NATS_URL');
  }
  const version = /v?(\d+\.\d+\.\d+\S*)/.exec(execFileSync(bin, ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  const cluster = options.cluster;
  const securityMode = options.security ?? 'none';
  if (cluster && securityMode !== 'none') throw new ConfigError(`NATS security ${securityMode} is for a single managed server, not a cluster node: use --topology single`);
  const syncConfig = jetStreamSyncConfig(version, options.syncAlways ?? false);
  const dir = createOwnedDir('eventbench-nats-');
  const rootDir = dir.path;
  const dataDir = join(rootDir, 'jetstream');
  try {
    // Secrets, keys and certificates live in the owned dir: removed with the server, also on a hard exit.
    const security = securityMode === 'none' ? undefined : prepareNatsSecurity(securityMode, rootDir);
    const configText = [security?.configText, syncConfig].filter(Boolean).join('\n');
    return await retryOnPortClash(async () => {
      const port = await freePort();
      const monitorPort = await freePort();
      const monitorUrl = `http://127.0.0.1:${monitorPort}`;
      return startManagedProcess<{ monitorUrl: string; security?: NatsSecurity }>(
        {
          kind: 'nats',
          source: bin,
          version,
          url: security ? security.harnessUrl(port) : `nats://127.0.0.1:${port}`,
          port,
          dir,
          dataDir,
          logFile: join(rootDir, 'server.log'),
          command: bin,
          args: [
            ...(configText ? ['-c', writeConfig(rootDir, configText)] : []),
            ...['-js', '-sd', dataDir, '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort), '-n', cluster?.serverName ?? `eventbench-${port}`],
            ...(cluster
              ? [
                  ...['--cluster_name', cluster.name, '--cluster', `nats://127.0.0.1:${cluster.port}`],
                  ...(cluster.routes.length > 0 ? ['--routes', cluster.routes.join(',')] : []),
                  ...(cluster.advertise ? ['--cluster_advertise', cluster.advertise] : []),
                ]
              : []),
          ],
          stopSignal: 'SIGTERM',
          probe: () => probeHealthz(monitorUrl),
        },
        { monitorUrl, ...(security ? { security } : {}) },
      );
    });
  } catch (err) {
    await dir.remove();
    throw err;
  }
}

/**
 * The config file text that makes JetStream fsync before every ack, or null where it does not apply:
 * not asked for, or a server before 2.10 (no `sync_interval`; 2.9 refuses unknown keys). Command-line
 * flags still set the ports and store dir; the file carries only what has no flag.
 */
export function jetStreamSyncConfig(version: string, syncAlways: boolean): string | null {
  if (!syncAlways) return null;
  const m = /^(\d+)\.(\d+)\./.exec(version);
  if (!m) return null; // a version we cannot read: no option it might refuse
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major < 2 || (major === 2 && minor < 10)) return null;
  return 'jetstream {\n  sync_interval: always\n}\n';
}

function writeConfig(rootDir: string, text: string): string {
  const file = join(rootDir, 'server.conf');
  writeFileSync(file, text, { mode: 0o600 }); // may hold the run's passwords
  return file;
}

/** /healthz answers 200 once the server (and JetStream, with js-enabled) is ready. */
async function probeHealthz(monitorUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${monitorUrl}/healthz?js-enabled=true`, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

export function findNatsServer(
  candidates: (string | undefined)[] = [
    process.env.NATS_SERVER_BIN,
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'nats-server')),
    '/usr/sbin/nats-server',
    '/usr/local/bin/nats-server',
  ],
): string | undefined {
  for (const c of candidates) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}
