/**
 * Server snapshots (docs/server-snapshots.md): what each server of a run says about itself at the run's
 * start and end, kept in the result so that a number can be checked against the server's own counters.
 * PostgreSQL: the run's database row of `pg_stat_database`, `pg_stat_wal`, `pg_stat_bgwriter` and, on
 * 17+ where the checkpoint columns moved, `pg_stat_checkpointer`. NATS, per server of the run:
 * `/healthz`, `/varz`, `/jsz` (with the run's own streams apart) and `/connz` from its monitoring port
 * (polled through nats-monitor.ts's `getJson`).
 *
 * A snapshot never fails a run: a server that does not answer (an external NATS without a monitoring
 * port, a PostgreSQL that refuses the statistics views) is recorded as unavailable, with the reason.
 * Nothing secret is stored: a server is named by host, port (and database), never by its URL.
 *
 * Counters are cumulative, so a run's share is end minus start; `formatSnapshotDelta` says that in one
 * line. Two caveats it accounts for: a server restarted during the run (a chaos kill) starts its counters
 * again (PostgreSQL discards them after crash recovery), so the delta is reported as reset, not as a
 * negative number; and a PostgreSQL session reports its statistics when it ends, but while idle may hold
 * them for up to 10 s (`PGSTAT_IDLE_INTERVAL` in pgstat.c), so callers take the end snapshot after the
 * run's sessions are closed (taken before, a 1 s run of 100 appends showed 26-63 commits; after, 128:
 * the appends and the run's set-up). Counters are server-wide (WAL, NATS messages) or database-wide
 * (commits): other clients' work on the same server counts too.
 */
import pg from 'pg';
import { z } from 'zod';
import { getJson } from './nats-monitor.ts';

/** Each server's snapshot waits at most this long for an answer (per query / endpoint). */
export const SNAPSHOT_TIMEOUT_MS = 3_000;
/** NATS's conventional monitoring port (`-m 8222`), tried for an external server when no URL is known. */
const DEFAULT_MONITOR_PORT = 8222;

/** A statistics row as the server gave it: numbers (bigints too), times as ISO strings, text, null. */
const statsRowSchema = z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()]));
export type StatsRow = z.infer<typeof statsRowSchema>;

const unavailableSchema = z.object({
  at: z.string(),
  available: z.literal(false),
  /** Why there is no snapshot (no monitoring port, refused, no answer in time). */
  reason: z.string(),
});

const postgresSnapshotSchema = z.object({
  at: z.string(),
  available: z.literal(true),
  serverVersion: z.string(),
  /** `pg_postmaster_start_time()`: a different value at the end means a restart (counters reset). */
  startedAt: z.string(),
  /** The run's database's row of `pg_stat_database`. */
  database: statsRowSchema,
  wal: statsRowSchema,
  bgwriter: statsRowSchema,
  /** `pg_stat_checkpointer` (PostgreSQL 17+, where the checkpoint columns of `pg_stat_bgwriter` went); null before. */
  checkpointer: statsRowSchema.nullable(),
});

const natsSnapshotSchema = z.object({
  at: z.string(),
  available: z.literal(true),
  /** `/healthz`'s status (`ok`, or the error it reported). */
  health: z.string(),
  /** The counters of `/varz` (messages and bytes in and out, connections, CPU, memory, uptime, start). */
  varz: statsRowSchema,
  /** `/jsz`'s totals over the server. */
  jetstream: z.object({
    streams: z.number(),
    consumers: z.number(),
    messages: z.number(),
    bytes: z.number(),
    apiTotal: z.number(),
    apiErrors: z.number(),
  }),
  /** The run's own streams (`<namespace>-*`) on this server: how many, their messages and bytes. Null without a namespace. */
  runStreams: z.object({ streams: z.number(), messages: z.number(), bytes: z.number() }).nullable(),
  /** `/connz`: open connections and the bytes pending to them (connections since start: `varz.total_connections`). */
  connections: z.object({ open: z.number(), pendingBytes: z.number() }),
});

export const serverSnapshotEntrySchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('postgres'),
    /** Host, port and database: never the URL (it may carry a password). */
    server: z.string(),
    start: z.union([postgresSnapshotSchema, unavailableSchema]),
    end: z.union([postgresSnapshotSchema, unavailableSchema]),
  }),
  z.object({
    kind: z.literal('nats'),
    /** The server's name and monitoring address. */
    server: z.string(),
    start: z.union([natsSnapshotSchema, unavailableSchema]),
    end: z.union([natsSnapshotSchema, unavailableSchema]),
  }),
]);

/** One entry per server of the run, each with its start and end snapshot. */
export const serverSnapshotsSchema = z.array(serverSnapshotEntrySchema);
export type ServerSnapshots = z.infer<typeof serverSnapshotsSchema>;
export type ServerSnapshotEntry = z.infer<typeof serverSnapshotEntrySchema>;
export type PostgresSnapshot = z.infer<typeof postgresSnapshotSchema>;
export type NatsSnapshot = z.infer<typeof natsSnapshotSchema>;
type Unavailable = z.infer<typeof unavailableSchema>;

/** Which servers to snapshot. URLs are used to connect and never stored. */
export interface SnapshotTargets {
  /** The run's PostgreSQL (its database is the URL's). */
  pgUrl?: string;
  /** The run's NATS client URL(s), comma-separated: what a found monitoring port must belong to. */
  natsUrl?: string;
  /** Monitoring URLs known for the run's NATS servers (managed servers know theirs; `--nats-monitor-url`). */
  natsMonitorUrls?: string[];
  /** The run's namespace: its JetStream streams (`<namespace>-*`) are counted apart. */
  namespace?: string;
}

/** A run's snapshots in the making: started before the load; `finish()` once its connections are closed. */
export interface SnapshotSession {
  finish(): Promise<ServerSnapshots>;
}

/** Takes the start snapshot of every target server now; `finish()` takes the end snapshots and pairs them. */
export async function startServerSnapshots(targets: SnapshotTargets): Promise<SnapshotSession> {
  const natsServers = targets.natsUrl ? await resolveNatsMonitors(targets) : [];
  const take = () =>
    Promise.all([
      targets.pgUrl ? snapshotPostgres(targets.pgUrl) : undefined,
      ...natsServers.map((n) => (n.monitorUrl ? snapshotNats(n.monitorUrl, targets.namespace) : unavailable(n.reason))),
    ]);
  const start = await take();
  return {
    async finish() {
      const end = await take();
      const out: ServerSnapshots = [];
      if (targets.pgUrl) out.push({ kind: 'postgres', server: postgresName(targets.pgUrl), start: start[0]!, end: end[0]! as PostgresSnapshot | Unavailable });
      natsServers.forEach((n, i) => out.push({ kind: 'nats', server: n.name, start: start[i + 1]! as NatsSnapshot | Unavailable, end: end[i + 1]! as NatsSnapshot | Unavailable }));
      return out;
    },
  };
}

// ------------------------------------------------------------------------------------------------
// PostgreSQL
// ------------------------------------------------------------------------------------------------

function postgresName(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname || u.searchParams.get('host') || 'localhost';
    return `postgres ${host}:${u.port || 5432}/${decodeURIComponent(u.pathname.replace(/^\//, '')) || '(default database)'}`;
  } catch {
    return 'postgres';
  }
}

async function snapshotPostgres(url: string): Promise<PostgresSnapshot | Unavailable> {
  const at = new Date().toISOString();
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: SNAPSHOT_TIMEOUT_MS, query_timeout: SNAPSHOT_TIMEOUT_MS, application_name: 'eventbench-snapshot' });
  client.on('error', () => {});
  try {
    await client.connect();
    const one = async (sql: string): Promise<StatsRow> => toRow((await client.query(sql)).rows[0] ?? {});
    const server = await one(`SELECT current_setting('server_version') AS version, pg_postmaster_start_time() AS started,
                                     to_regclass('pg_catalog.pg_stat_checkpointer') IS NOT NULL AS has_checkpointer`);
    return {
      at,
      available: true,
      serverVersion: String(server.version),
      startedAt: String(server.started),
      database: await one('SELECT * FROM pg_stat_database WHERE datname = current_database()'),
      wal: await one('SELECT * FROM pg_stat_wal'),
      bgwriter: await one('SELECT * FROM pg_stat_bgwriter'),
      checkpointer: server.has_checkpointer === true ? await one('SELECT * FROM pg_stat_checkpointer') : null,
    };
  } catch (err) {
    // The driver's message names host and port at most, never the password.
    return { at, available: false, reason: `PostgreSQL statistics unavailable: ${(err as Error).message.replace(/\s+/g, ' ').trim()}` };
  } finally {
    await client.end().catch(() => {});
  }
}

/** bigint and numeric columns arrive as text from `pg`: numbers again (exact below 2^53, which counters are). */
function toRow(row: Record<string, unknown>): StatsRow {
  const out: StatsRow = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === null || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (v instanceof Date) out[k] = v.toISOString();
    else if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) out[k] = Number(v);
    else out[k] = String(v);
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// NATS
// ------------------------------------------------------------------------------------------------

/** The parts of `/varz` kept: counters and what identifies the server's life (no configuration, nothing secret). */
const VARZ_FIELDS = [
  'server_id', 'server_name', 'version', 'start', 'uptime', 'mem', 'cpu', 'connections', 'total_connections', 'routes',
  'in_msgs', 'out_msgs', 'in_bytes', 'out_bytes', 'slow_consumers', 'subscriptions',
] as const;

interface Jsz {
  streams?: number;
  consumers?: number;
  messages?: number;
  bytes?: number;
  api?: { total?: number; errors?: number };
  account_details?: { stream_detail?: { name: string; state: { messages: number; bytes: number } }[] }[];
}

interface NatsServer {
  name: string;
  monitorUrl?: string;
  reason: string;
}

async function snapshotNats(monitorUrl: string, namespace: string | undefined): Promise<NatsSnapshot | Unavailable> {
  const at = new Date().toISOString();
  const [health, varz, jsz, connz] = await Promise.all([
    // /healthz answers 503 with a JSON error when unhealthy: getJson returns nothing then, which is the finding.
    getJson<{ status?: string; error?: string }>(`${monitorUrl}/healthz`, SNAPSHOT_TIMEOUT_MS),
    getJson<Record<string, unknown>>(`${monitorUrl}/varz`, SNAPSHOT_TIMEOUT_MS),
    getJson<Jsz>(`${monitorUrl}/jsz${namespace ? '?accounts=true&streams=true' : ''}`, SNAPSHOT_TIMEOUT_MS),
    getJson<{ num_connections?: number; connections?: { pending_bytes?: number }[] }>(`${monitorUrl}/connz`, SNAPSHOT_TIMEOUT_MS),
  ]);
  if (!varz) return { at, available: false, reason: `no answer from ${monitorUrl}/varz within ${SNAPSHOT_TIMEOUT_MS} ms` };
  const kept: StatsRow = {};
  for (const f of VARZ_FIELDS) {
    const v = varz[f];
    if (typeof v === 'number' || typeof v === 'string') kept[f] = v;
  }
  const prefix = `${namespace}-`;
  const mine = namespace ? (jsz?.account_details ?? []).flatMap((a) => a.stream_detail ?? []).filter((s) => s.name.startsWith(prefix)) : null;
  return {
    at,
    available: true,
    health: health?.status ?? health?.error ?? 'unhealthy (no ok from /healthz)',
    varz: kept,
    jetstream: {
      streams: jsz?.streams ?? 0,
      consumers: jsz?.consumers ?? 0,
      messages: jsz?.messages ?? 0,
      bytes: jsz?.bytes ?? 0,
      apiTotal: jsz?.api?.total ?? 0,
      apiErrors: jsz?.api?.errors ?? 0,
    },
    runStreams: mine ? { streams: mine.length, messages: sum(mine.map((s) => s.state.messages)), bytes: sum(mine.map((s) => s.state.bytes)) } : null,
    connections: { open: connz?.num_connections ?? 0, pendingBytes: sum((connz?.connections ?? []).map((c) => c.pending_bytes ?? 0)) },
  };
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/**
 * The monitoring endpoint of each NATS server of the run. Candidates: the URLs given (managed servers
 * know theirs; `--nats-monitor-url`), else port 8222 on each client URL's host. A candidate counts only if its
 * `/varz` names a client port of the run's URL (a guessed port may belong to another server on the host),
 * except URLs given explicitly, which are trusted. None found: one entry saying so.
 */
async function resolveNatsMonitors(targets: SnapshotTargets): Promise<NatsServer[]> {
  const clients = clientEndpoints(targets.natsUrl!);
  const ports = new Set(clients.map((c) => c.port));
  const given = targets.natsMonitorUrls ?? [];
  const discovered = given.length ? [] : [...new Set(clients.map((c) => `http://${c.host}:${DEFAULT_MONITOR_PORT}`))];
  const found: NatsServer[] = [];
  const seen = new Set<string>();
  for (const [url, trusted] of [...given.map((u) => [u, true] as const), ...discovered.map((u) => [u, false] as const)]) {
    const varz = await getJson<{ server_id?: string; server_name?: string; port?: number }>(`${url}/varz`, trusted ? SNAPSHOT_TIMEOUT_MS : 1_000);
    if (!varz) {
      if (trusted) found.push({ name: `nats ${hostPort(url)}`, monitorUrl: url, reason: '' });
      continue;
    }
    if (!trusted && !ports.has(Number(varz.port))) continue;
    const id = varz.server_id ?? url;
    if (seen.has(id)) continue;
    seen.add(id);
    found.push({ name: `nats ${varz.server_name ? `${varz.server_name} ` : ''}(monitoring ${hostPort(url)})`, monitorUrl: url, reason: '' });
  }
  if (found.length) return found;
  const where = clients.map((c) => `${c.host}:${c.port}`).join(', ');
  return [{ name: `nats ${where}`, reason: `no monitoring port found for NATS at ${where} (tried ${DEFAULT_MONITOR_PORT}; pass the monitoring URL, e.g. --nats-monitor-url)` }];
}

/** `host:port` of each client URL (`nats://`, `tls://` or bare `host:port`), credentials dropped. */
function clientEndpoints(natsUrl: string): { host: string; port: number }[] {
  return natsUrl
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .flatMap((s) => {
      try {
        const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `nats://${s}`);
        return [{ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 4222) }];
      } catch {
        return [];
      }
    });
}

function hostPort(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function unavailable(reason: string): Unavailable {
  return { at: new Date().toISOString(), available: false, reason };
}

// ------------------------------------------------------------------------------------------------
// Deltas
// ------------------------------------------------------------------------------------------------

const num = (row: StatsRow | null | undefined, key: string): number | null => {
  const v = row?.[key];
  return typeof v === 'number' ? v : null;
};

/** What one server did between the snapshots, as numbers; null where a side is missing or the counters were reset. */
export interface SnapshotDelta {
  server: string;
  kind: 'postgres' | 'nats';
  /** Why there is no delta (a snapshot unavailable, a restart in between); null when there is one. */
  missing: string | null;
  values: Record<string, number>;
}

export function snapshotDelta(entry: ServerSnapshotEntry): SnapshotDelta {
  const base = { server: entry.server, kind: entry.kind };
  const { start, end } = entry;
  if (!start.available || !end.available) return { ...base, missing: `unavailable: ${(!start.available ? start : (end as Unavailable)).reason}`, values: {} };
  const values: Record<string, number> = {};
  const diff = (name: string, a: number | null, b: number | null) => {
    if (a !== null && b !== null) values[name] = b - a;
  };
  if (entry.kind === 'postgres') {
    const [s, e] = [start as PostgresSnapshot, end as PostgresSnapshot];
    if (s.startedAt !== e.startedAt) return { ...base, missing: 'counters reset: the server restarted during the run', values: {} };
    for (const k of ['xact_commit', 'xact_rollback', 'tup_inserted', 'tup_updated', 'tup_deleted', 'blks_read', 'blks_hit', 'deadlocks', 'temp_bytes']) diff(k, num(s.database, k), num(e.database, k));
    for (const k of ['wal_bytes', 'wal_records', 'wal_fpi']) diff(k, num(s.wal, k), num(e.wal, k));
    // 17+: pg_stat_checkpointer.num_timed / num_requested; before: pg_stat_bgwriter.checkpoints_timed / checkpoints_req.
    const checkpoints = (x: PostgresSnapshot) =>
      x.checkpointer ? (num(x.checkpointer, 'num_timed') ?? 0) + (num(x.checkpointer, 'num_requested') ?? 0) : (num(x.bgwriter, 'checkpoints_timed') ?? 0) + (num(x.bgwriter, 'checkpoints_req') ?? 0);
    diff('checkpoints', checkpoints(s), checkpoints(e));
  } else {
    const [s, e] = [start as NatsSnapshot, end as NatsSnapshot];
    if (s.varz.start !== e.varz.start || s.varz.server_id !== e.varz.server_id) return { ...base, missing: 'counters reset: the server restarted during the run', values: {} };
    diff('jetstream_messages', s.jetstream.messages, e.jetstream.messages);
    diff('jetstream_bytes', s.jetstream.bytes, e.jetstream.bytes);
    if (s.runStreams && e.runStreams) {
      diff('run_stream_messages', s.runStreams.messages, e.runStreams.messages);
      diff('run_stream_bytes', s.runStreams.bytes, e.runStreams.bytes);
    }
    for (const k of ['in_msgs', 'out_msgs', 'in_bytes', 'out_bytes', 'total_connections', 'slow_consumers']) diff(k, num(s.varz, k), num(e.varz, k));
    diff('api_errors', s.jetstream.apiErrors, e.jetstream.apiErrors);
  }
  // A counter that went down was reset (pg_stat_reset, a stats file lost): not a negative amount of work.
  if (Object.values(values).some((v) => v < 0)) return { ...base, missing: 'counters reset during the run', values: {} };
  return { ...base, missing: null, values };
}

const int = (v: number | undefined): string => (v === undefined ? '?' : Math.round(v).toLocaleString('en-US'));
const mb = (v: number | undefined): string => (v === undefined ? '?' : `${(v / 2 ** 20).toFixed(1)} MiB`);

/** One line per server: `postgres 127.0.0.1:5432/postgres: commits +1,234, ..., WAL +3.2 MiB (...)`. */
export function formatSnapshotDelta(entry: ServerSnapshotEntry): string {
  const d = snapshotDelta(entry);
  if (d.missing) return `${d.server}: ${d.missing}`;
  const v = d.values;
  if (d.kind === 'postgres') {
    return `${d.server}: commits +${int(v.xact_commit)}, rollbacks +${int(v.xact_rollback)}, rows inserted +${int(v.tup_inserted)}, WAL +${mb(v.wal_bytes)} (${int(v.wal_records)} records, server-wide), checkpoints +${int(v.checkpoints)}, blocks read +${int(v.blks_read)}`;
  }
  const run = v.run_stream_messages !== undefined ? `, the run's streams +${int(v.run_stream_messages)} messages / +${mb(v.run_stream_bytes)}` : '';
  return `${d.server}: JetStream messages +${int(v.jetstream_messages)}, bytes +${mb(v.jetstream_bytes)}${run}, messages in/out +${int(v.in_msgs)} / +${int(v.out_msgs)}, connections +${int(v.total_connections)}, API errors +${int(v.api_errors)}`;
}
