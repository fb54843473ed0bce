/**
 * The observability flags of `load`, `bench` and `chaos` (docs/observability.md): `--prometheus` (a
 * managed Prometheus scraping the run, its TSDB kept under `--out` when the run writes a result),
 * `--nats-monitor-url` (where /metrics polls NATS server metrics) and `--otlp URL` (append -> consume
 * traces to an OTLP/HTTP collector, from the main thread and every load worker). Parsed with the other
 * flags, before anything starts; started once the servers are.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/event-store.ts';
import { requirePrometheus, startManagedPrometheus, type ManagedPrometheus } from '../infra/managed-prometheus.ts';
import { createNatsMonitor } from '../infra/nats-monitor.ts';
import type { Servers } from '../infra/servers.ts';
import type { MetricsServer } from '../runners/load/metrics-server.ts';
import { setRunTracer, setWorkerTracing } from '../runners/load/tracing.ts';
import { otlpTracesUrl } from '../observability/otlp-url.ts';
import type { Tracing } from '../observability/tracing-sdk.ts';


/** How long a run waits for Prometheus's first scrape of its /metrics before it starts. */
const FIRST_SCRAPE_MS = 15_000;
export interface ObservabilityCliOptions {
  prometheus?: boolean;
  natsMonitorUrl?: string;
  otlp?: string;
  metrics: boolean;
}

export interface ObservabilityOptions {
  prometheus: boolean;
  /** An explicit monitoring URL for an external NATS (managed NATS brings its own). */
  natsMonitorUrl?: string;
  /** OTLP/HTTP traces endpoint. */
  otlp?: string;
}

/** How long the end of a run waits for the last spans to reach the collector. */
const TRACE_FLUSH_TIMEOUT_MS = 5_000;

/** NATS's conventional monitoring port (`-m 8222`, as docker-compose.yml runs it). */
const DEFAULT_NATS_MONITOR_PORT = 8222;

export function parseObservabilityOptions(opts: ObservabilityCliOptions): ObservabilityOptions {
  if (opts.prometheus) {
    if (!opts.metrics) throw new ConfigError('--prometheus with --no-metrics: there would be nothing to scrape; leave out one of them');
    requirePrometheus();
  }
  let natsMonitorUrl: string | undefined;
  if (opts.natsMonitorUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(opts.natsMonitorUrl);
    } catch {
      throw new ConfigError(`--nats-monitor-url ${JSON.stringify(opts.natsMonitorUrl)}: not a URL; e.g. http://127.0.0.1:8222`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`--nats-monitor-url ${JSON.stringify(opts.natsMonitorUrl)}: must be http:// or https://, e.g. http://127.0.0.1:8222`);
    natsMonitorUrl = url.origin;
  }
  let otlp: string | undefined;
  if (opts.otlp !== undefined) {
    try {
      otlp = otlpTracesUrl(opts.otlp);
    } catch {
      throw new ConfigError(`--otlp ${JSON.stringify(opts.otlp)}: not a URL; e.g. http://127.0.0.1:4318 (an OTLP/HTTP collector)`);
    }
    if (!/^https?:$/.test(new URL(otlp).protocol)) throw new ConfigError(`--otlp ${JSON.stringify(opts.otlp)}: must be http:// or https:// (OTLP over HTTP), e.g. http://127.0.0.1:4318`);
  }
  return { prometheus: opts.prometheus === true, ...(natsMonitorUrl ? { natsMonitorUrl } : {}), ...(otlp ? { otlp } : {}) };
}

/**
 * The monitoring endpoints /metrics polls: every node of a managed cluster (each is its own series, told
 * apart by the exporter's `server_id` and `server_name` labels); a managed single server's own port; for
 * an external NATS the flag's URL, else port 8222 of every host its URL lists (a cluster URL lists several).
 */
export function natsMonitorUrls(servers: Pick<Servers, 'natsUrl' | 'nats' | 'natsCluster'>, explicit: string | undefined): string[] {
  if (servers.natsCluster) return servers.natsCluster.nodes.map((n) => n.monitorUrl);
  if (servers.nats) return [servers.nats.monitorUrl];
  if (explicit) return [explicit];
  if (!servers.natsUrl) return [];
  const hosts = servers.natsUrl
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean)
    .map((u) => new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(u) ? u : `nats://${u}`).hostname);
  return [...new Set(hosts)].map((host) => `http://${host.includes(':') ? `[${host}]` : host}:${DEFAULT_NATS_MONITOR_PORT}`);
}

/**
 * Adds NATS server metrics to /metrics and starts the managed Prometheus when asked. The result is owned
 * by the caller (`await using`): disposing it waits for a last scrape (the run's final numbers), stops
 * Prometheus (and postgres-exporter) before the servers, and removes `<out>/prometheus` again when the run
 * wrote no result (`resultWritten`; default: `result.json` in `outDir` written during the run, as `load`
 * and `bench` write it) and the directory was created by this run.
 */
export async function startRunObservability(input: {
  options: ObservabilityOptions;
  metricsServer: MetricsServer | null;
  metricsHost: string;
  servers: Servers;
  runId: string;
  outDir?: string;
  resultWritten?: () => boolean;
}): Promise<AsyncDisposable> {
  const { options, metricsServer, servers } = input;
  const startedMs = Date.now();
  if (metricsServer && servers.natsUrl) {
    const monitor = createNatsMonitor(natsMonitorUrls(servers, options.natsMonitorUrl));
    metricsServer.addSource(() => monitor.scrape());
  }
  let prometheus: ManagedPrometheus | undefined;
  const storageDir = input.outDir ? join(input.outDir, 'prometheus') : undefined;
  // Only a TSDB directory this run creates is ever removed (an earlier run's kept data is not ours).
  const ownsStorage = storageDir !== undefined && !existsSync(storageDir);
  const resultWritten =
    input.resultWritten ??
    (() => {
      if (!input.outDir) return false;
      try {
        return statSync(join(input.outDir, 'result.json')).mtimeMs >= startedMs - 1_000;
      } catch {
        return false;
      }
    });
  const removeUnkeptStorage = (): void => {
    if (ownsStorage && !resultWritten()) rmSync(storageDir, { recursive: true, force: true });
  };
  if (options.prometheus && metricsServer) {
    const host = ['0.0.0.0', '::', ''].includes(input.metricsHost) ? '127.0.0.1' : input.metricsHost;
    const labels = { run: input.runId };
    try {
      prometheus = await startManagedPrometheus({
        targets: [{ job: 'eventbench', address: `${host}:${metricsServer.port}`, labels }],
        labels,
        ...(servers.pgUrl ? { pgUrl: servers.pgUrl } : {}),
        ...(storageDir ? { storageDir } : {}),
      });
    } catch (err) {
      removeUnkeptStorage();
      throw err;
    }
    // The run starts once every target was scraped: each counter then has a sample before its first
    // increment, which rate() and increase() need (a run's first second is otherwise invisible to them).
    // Up to 15 s: a freshly started Prometheus took more than the 3 s of the end-of-run wait here (its
    // first stored sample of a 4 s chaos run came after the fault had started); bounded, before measuring.
    if (!(await prometheus.awaitScrape(FIRST_SCRAPE_MS))) {
      process.stderr.write(`eventbench: prometheus had not scraped /metrics within ${FIRST_SCRAPE_MS / 1000} s; the run starts anyway, its first seconds may be missing from the stored data\n`);
    }
    const kept = input.outDir ? ` (data kept in ${prometheus.storageDir})` : '';
    process.stderr.write(`eventbench: prometheus at ${prometheus.url}${kept}${prometheus.postgresExporter ? ', with postgres-exporter' : ''}\n`);
  }
  let tracing: Tracing | undefined;
  if (options.otlp) {
    // The SDK loads only for a run that traces (src/observability/otlp-url.ts).
    tracing = (await import('../observability/tracing-sdk.ts')).startTracing({ otlpUrl: options.otlp });
    setRunTracer(tracing.tracer);
    // Load workers started from now on export their own spans (src/runners/load/worker-thread.ts).
    setWorkerTracing(options.otlp);
    process.stderr.write(`eventbench: traces to ${options.otlp}\n`);
  }
  return {
    async [Symbol.asyncDispose]() {
      setRunTracer(null);
      setWorkerTracing(null);
      // A collector that is down must not hold up the end of the run: its spans are lost, the run is not.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([tracing?.shutdown().catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, TRACE_FLUSH_TIMEOUT_MS)))]);
      clearTimeout(timer);
      if (prometheus) {
        if (resultWritten()) await prometheus.awaitScrape();
        await prometheus.stop();
        removeUnkeptStorage();
      }
    },
  };
}
