/**
 * `--prometheus`: Debian's `prometheus` started like the managed PostgreSQL and NATS (free 127.0.0.1 port,
 * a temp dir with its watchdog, one owner, gone on exit and Ctrl-C) scraping the run's /metrics, and,
 * when `prometheus-postgres-exporter` is installed and the run has a PostgreSQL, that exporter started
 * the same way. The TSDB can live outside the temp dir (`<out>/prometheus`) so that a finished run can be
 * browsed later: `prometheus --storage.tsdb.path=<out>/prometheus --config.file=<out>/prometheus/browse.yml`.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { ConfigError } from '../core/event-store.ts';
import { freePort, retryOnPortClash, startManagedProcess } from './managed-process.ts';
import { createOwnedDir } from './owned-dir.ts';
import type { ServerHandle } from './server-handle.ts';

export interface ScrapeTarget {
  job: string;
  /** host:port */
  address: string;
  /** Target labels added to every series of the job (e.g. `run`). */
  labels?: Record<string, string>;
}

export interface PrometheusConfigOptions {
  targets: ScrapeTarget[];
  /** Prometheus duration; 1 s by default: runs are short, and a rate needs two samples in its window. */
  scrapeInterval?: string;
}

/** The generated prometheus.yml (`promtool check config` accepts it: test/observability/prometheus-config.unit.test.ts). */
export function prometheusConfig(options: PrometheusConfigOptions): string {
  const interval = options.scrapeInterval ?? '1s';
  return stringify({
    global: { scrape_interval: interval, evaluation_interval: interval },
    scrape_configs: options.targets.map((t) => ({
      job_name: t.job,
      static_configs: [{ targets: [t.address], ...(t.labels ? { labels: t.labels } : {}) }],
    })),
  });
}

/**
 * Custom postgres-exporter queries (`--extend.query-path`; the compose exporter reads the same file from
 * grafana/postgres-exporter-queries.yaml, written by `npm run dashboards`). Metric names are
 * `<query>_<column>`, as src/core/server-metrics.ts lists them (the dashboard e2e test finds a typo as no data). Checkpoints moved from pg_stat_bgwriter to
 * pg_stat_checkpointer in PostgreSQL 17; `query_to_xml` runs whichever exists, so one file serves 15 to 18.
 */
export const POSTGRES_EXPORTER_QUERIES = stringify({
  eventbench_pg_wal: {
    query: "SELECT pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, '0/0') AS lsn_bytes",
    metrics: [{ lsn_bytes: { usage: 'COUNTER', description: 'WAL position in bytes (its rate is the WAL write rate)' } }],
  },
  eventbench_pg_checkpoints: {
    query:
      "SELECT (xpath('/row/t/text()', x))[1]::text::bigint AS timed, (xpath('/row/r/text()', x))[1]::text::bigint AS requested FROM query_to_xml(" +
      "CASE WHEN current_setting('server_version_num')::int >= 170000 THEN 'SELECT num_timed AS t, num_requested AS r FROM pg_stat_checkpointer' " +
      "ELSE 'SELECT checkpoints_timed AS t, checkpoints_req AS r FROM pg_stat_bgwriter' END, false, true, '') AS x",
    metrics: [
      { timed: { usage: 'COUNTER', description: 'Scheduled checkpoints performed' } },
      { requested: { usage: 'COUNTER', description: 'Requested checkpoints performed (WAL full, CHECKPOINT)' } },
    ],
  },
});

/** The config written next to a kept TSDB for browsing it later (docs/observability.md). */
export const BROWSE_CONFIG = 'browse.yml';

export interface ManagedPrometheusOptions {
  targets: ScrapeTarget[];
  /** TSDB directory, kept after the run (created if missing); default: inside the temp dir, removed with it. */
  storageDir?: string;
  /** The run's PostgreSQL: scraped through prometheus-postgres-exporter when that is installed. */
  pgUrl?: string;
  /** Labels added to the exporter's job too (the same `run`). */
  labels?: Record<string, string>;
  scrapeInterval?: string;
}

export interface ManagedPrometheus extends AsyncDisposable {
  /** http://127.0.0.1:<port> (HTTP API under /api/v1). */
  readonly url: string;
  readonly storageDir: string;
  /** The generated config, also copied next to a kept TSDB. */
  readonly config: string;
  /** Set when prometheus-postgres-exporter runs for this Prometheus. */
  readonly postgresExporter?: ServerHandle;
  /**
   * Waits until every target was scraped after this call (at most `timeoutMs`): a run's last numbers (the
   * chaos checker's verdict, the final counters) reach the TSDB before Prometheus stops. False on timeout.
   */
  awaitScrape(timeoutMs?: number): Promise<boolean>;
  /** Stops Prometheus (its TSDB is flushed by a clean shutdown) and the exporter. Idempotent. */
  stop(): Promise<void>;
}

export function findBinary(name: string, env?: string): string | undefined {
  const candidates = [env ? process.env[env] : undefined, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name)), `/usr/bin/${name}`];
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

/** Checked before any server starts (`--prometheus` without Prometheus is bad input). */
export function requirePrometheus(): string {
  const bin = findBinary('prometheus', 'PROMETHEUS_BIN');
  if (!bin) throw new ConfigError('--prometheus: prometheus not found (PATH, /usr/bin): apt-get install prometheus, or set PROMETHEUS_BIN, or leave out --prometheus');
  return bin;
}

export async function startManagedPrometheus(options: ManagedPrometheusOptions): Promise<ManagedPrometheus> {
  const bin = requirePrometheus();
  let exporter: ServerHandle | undefined;
  const targets = [...options.targets];
  const exporterBin = options.pgUrl ? findBinary('prometheus-postgres-exporter', 'POSTGRES_EXPORTER_BIN') : undefined;
  if (exporterBin && options.pgUrl) {
    exporter = await startPostgresExporter(exporterBin, options.pgUrl);
    targets.push({ job: 'postgres', address: `127.0.0.1:${exporter.port}`, ...(options.labels ? { labels: options.labels } : {}) });
  }
  try {
    const config = prometheusConfig({ targets, ...(options.scrapeInterval ? { scrapeInterval: options.scrapeInterval } : {}) });
    const prometheus = await startPrometheusProcess(bin, config, options.storageDir, targets.length > 0);
    let stopped = false;
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      // Prometheus first: its last scrape of the exporter must not fail into the stored data.
      await prometheus.handle.stop();
      await exporter?.stop();
    };
    return {
      url: prometheus.url,
      storageDir: prometheus.storageDir,
      config,
      ...(exporter ? { postgresExporter: exporter } : {}),
      awaitScrape: (timeoutMs = AWAIT_SCRAPE_MS) => awaitScrape(prometheus.url, targets.length, timeoutMs),
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    await exporter?.stop();
    throw err;
  }
}

async function startPrometheusProcess(bin: string, config: string, keptStorage: string | undefined, scrapes: boolean): Promise<{ handle: ServerHandle; url: string; storageDir: string }> {
  const version = binaryVersion(bin);
  const dir = createOwnedDir('eventbench-prometheus-');
  const storageDir = keptStorage ?? join(dir.path, 'data');
  try {
    mkdirSync(storageDir, { recursive: true });
    const configFile = join(dir.path, 'prometheus.yml');
    writeFileSync(configFile, config);
    // Next to a kept TSDB: the run's config (what was scraped), and `browse.yml`, which scrapes nothing,
    // for looking at the finished run (the run's ports may belong to someone else by then). A Prometheus
    // started only to browse leaves both alone.
    if (keptStorage && scrapes) {
      writeFileSync(join(keptStorage, 'prometheus.yml'), config);
      writeFileSync(join(keptStorage, BROWSE_CONFIG), prometheusConfig({ targets: [] }));
    }
    return await retryOnPortClash(async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const handle = await startManagedProcess({
        kind: 'prometheus',
        source: bin,
        version,
        url,
        port,
        dir,
        dataDir: storageDir,
        logFile: join(dir.path, 'prometheus.log'),
        command: bin,
        args: [`--config.file=${configFile}`, `--storage.tsdb.path=${storageDir}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
        stopSignal: 'SIGTERM',
        probe: () => probeOk(`${url}/-/ready`),
      });
      return { handle, url, storageDir };
    });
  } catch (err) {
    await dir.remove();
    throw err;
  }
}

async function startPostgresExporter(bin: string, pgUrl: string): Promise<ServerHandle> {
  const version = binaryVersion(bin);
  const dir = createOwnedDir('eventbench-pgexporter-');
  try {
    const queries = join(dir.path, 'queries.yaml');
    writeFileSync(queries, POSTGRES_EXPORTER_QUERIES);
    // lib/pq (the exporter's driver) defaults to sslmode=require; our servers are local and plain.
    const dsn = new URL(pgUrl);
    if (!dsn.searchParams.has('sslmode')) dsn.searchParams.set('sslmode', 'disable');
    return await retryOnPortClash(async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      return startManagedProcess({
        kind: 'postgres-exporter',
        source: bin,
        version,
        url,
        port,
        dir,
        dataDir: dir.path,
        logFile: join(dir.path, 'exporter.log'),
        command: bin,
        args: [
          `--web.listen-address=127.0.0.1:${port}`,
          `--extend.query-path=${queries}`,
          // pg_settings_* is hundreds of constant series; bgwriter fails on PostgreSQL 17+ (our query covers it).
          '--disable-settings-metrics',
          '--no-collector.bgwriter',
          '--log.level=warn',
        ],
        env: { DATA_SOURCE_NAME: dsn.toString() },
        stopSignal: 'SIGTERM',
        probe: () => probeOk(`${url}/metrics`),
      });
    });
  } catch (err) {
    await dir.remove();
    throw err;
  }
}

/** Three scrape intervals of the default 1 s: a target that answers is scraped within that. */
const AWAIT_SCRAPE_MS = 3_000;

interface TargetsAnswer {
  data?: { activeTargets?: { lastScrape?: string; health?: string }[] };
}

/** Polls /api/v1/targets until `count` targets each report a scrape that began after now (bounded). */
async function awaitScrape(url: string, count: number, timeoutMs: number): Promise<boolean> {
  if (count === 0) return true;
  const since = Date.now();
  const until = since + timeoutMs;
  while (Date.now() < until) {
    try {
      const res = await fetch(`${url}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(1_000) });
      const targets = ((await res.json()) as TargetsAnswer).data?.activeTargets ?? [];
      if (targets.length >= count && targets.every((t) => t.lastScrape !== undefined && Date.parse(t.lastScrape) > since)) return true;
    } catch {
      // not answering this time: try again until the bound
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** `<bin> --version`: Prometheus prints it on stdout, postgres_exporter (kingpin) on stderr; neither reaches ours. */
function binaryVersion(bin: string): string {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  return /version (\S+)/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1] ?? 'unknown';
}

async function probeOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
