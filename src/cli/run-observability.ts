/**
 * The observability flags of `load` and `bench` (docs/observability.md): `--prometheus` (a managed
 * Prometheus scraping the run, its TSDB kept under `--out`), `--nats-monitor-url` (where /metrics polls
 * NATS server metrics) and `--otlp URL` (append -> consume traces to an OTLP/HTTP collector). Parsed with
 * the other flags, before anything starts; started once the servers are.
 */
import { join } from 'node:path';
import { ConfigError } from '../core/event-store.ts';
import { requirePrometheus, startManagedPrometheus, type ManagedPrometheus } from '../infra/managed-prometheus.ts';
import { createNatsMonitor } from '../infra/nats-monitor.ts';
import type { Servers } from '../infra/servers.ts';
import type { MetricsServer } from '../runners/load/metrics-server.ts';
import { setRunTracer } from '../runners/load/tracing.ts';
import { otlpTracesUrl, startTracing, type Tracing } from '../observability/tracing-sdk.ts';

export interface ObservabilityCliOptions {
  prometheus?: boolean;
  natsMonitorUrl?: string;
  otlp?: string;
  metrics: boolean;
  workers: string;
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
    // Spans are made where the appends are; worker threads would each need their own SDK.
    if (opts.workers !== '1') throw new ConfigError(`--otlp with --workers ${opts.workers}: traces are recorded in the main thread only; use --workers 1`);
  }
  return { prometheus: opts.prometheus === true, ...(natsMonitorUrl ? { natsMonitorUrl } : {}), ...(otlp ? { otlp } : {}) };
}

/**
 * Adds NATS server metrics to /metrics and starts the managed Prometheus when asked. The result is owned
 * by the caller (`await using`): disposing it stops Prometheus (and postgres-exporter) before the servers.
 */
export async function startRunObservability(input: {
  options: ObservabilityOptions;
  metricsServer: MetricsServer | null;
  metricsHost: string;
  servers: Servers;
  runId: string;
  outDir?: string;
}): Promise<AsyncDisposable> {
  const { options, metricsServer, servers } = input;
  if (metricsServer && servers.natsUrl) {
    // Managed NATS knows its monitoring port; an external one is asked at the flag's URL, else on 8222 of its host.
    const monitorUrl = servers.nats?.monitorUrl ?? options.natsMonitorUrl ?? `http://${new URL(servers.natsUrl).hostname}:${DEFAULT_NATS_MONITOR_PORT}`;
    const monitor = createNatsMonitor([monitorUrl]);
    metricsServer.addSource(() => monitor.scrape());
  }
  let prometheus: ManagedPrometheus | undefined;
  if (options.prometheus && metricsServer) {
    const host = ['0.0.0.0', '::', ''].includes(input.metricsHost) ? '127.0.0.1' : input.metricsHost;
    const labels = { run: input.runId };
    prometheus = await startManagedPrometheus({
      targets: [{ job: 'eventbench', address: `${host}:${metricsServer.port}`, labels }],
      labels,
      ...(servers.pgUrl ? { pgUrl: servers.pgUrl } : {}),
      ...(input.outDir ? { storageDir: join(input.outDir, 'prometheus') } : {}),
    });
    const kept = input.outDir ? ` (data kept in ${prometheus.storageDir})` : '';
    process.stderr.write(`eventbench: prometheus at ${prometheus.url}${kept}${prometheus.postgresExporter ? ', with postgres-exporter' : ''}\n`);
  }
  let tracing: Tracing | undefined;
  if (options.otlp) {
    tracing = startTracing({ otlpUrl: options.otlp });
    setRunTracer(tracing.tracer);
    process.stderr.write(`eventbench: traces to ${options.otlp}\n`);
  }
  return {
    async [Symbol.asyncDispose]() {
      setRunTracer(null);
      // A collector that is down must not hold up the end of the run: its spans are lost, the run is not.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([tracing?.shutdown().catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, TRACE_FLUSH_TIMEOUT_MS)))]);
      clearTimeout(timer);
      await prometheus?.stop();
    },
  };
}
