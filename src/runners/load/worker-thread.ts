/** The body of a load worker thread: one LocalLoadSide with its own store connection, driven by messages. */
import { parentPort, workerData } from 'node:worker_threads';
import { LocalLoadSide, type FromWorker, type LoadSideConfig, type ToWorker } from './load-side.ts';
import { setRunTracer, workerTracingUrl } from './tracing.ts';

const LIVE_INTERVAL_MS = 500;
/** How long closing waits for this thread's last spans to reach the collector (the parent terminates the thread after 10 s). */
const TRACE_FLUSH_TIMEOUT_MS = 5_000;
const port = parentPort!;
const post = (msg: FromWorker): void => port.postMessage(msg);

try {
  const config = workerData as LoadSideConfig;
  // `--otlp`: this thread's append spans go out through its own exporter (src/runners/load/tracing.ts).
  const otlp = workerTracingUrl();
  const tracing = otlp ? (await import('../../observability/tracing-sdk.ts')).startTracing({ otlpUrl: otlp, thread: `worker ${config.index}` }) : undefined;
  if (tracing) setRunTracer(tracing.tracer);
  const flushTraces = async (): Promise<void> => {
    if (!tracing) return;
    setRunTracer(null);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([tracing.shutdown().catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, TRACE_FLUSH_TIMEOUT_MS)))]);
    clearTimeout(timer);
  };
  const side = await LocalLoadSide.open(config);
  const timer = setInterval(() => {
    void side.metricsSnapshot().then((metrics) => post({ type: 'live', live: side.live(), metrics }));
  }, LIVE_INTERVAL_MS);
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'phase') {
      side.runPhase(msg.spec).then(
        async (result) => {
          // Final live numbers first, so the coordinator's metrics are complete when the phase ends.
          post({ type: 'live', live: side.live(), metrics: await side.metricsSnapshot() });
          post({ type: 'phaseResult', id: msg.id, result, usage: side.phaseUsage(), pregeneration: side.pregeneration() });
        },
        (e: Error) => post({ type: 'error', id: msg.id, name: e.name, message: e.message }),
      );
    } else if (msg.type === 'metrics') {
      void side.metricsSnapshot().then((metrics) => post({ type: 'metrics', id: msg.id, metrics }));
    } else if (msg.type === 'stop') {
      side.stop();
    } else if (msg.type === 'close') {
      clearInterval(timer);
      void side
        .close()
        .finally(flushTraces)
        .finally(() => {
          post({ type: 'closed' });
          port.close();
        });
    }
  });
  post({ type: 'ready' });
} catch (err) {
  const e = err as Error;
  post({ type: 'error', name: e?.name ?? 'Error', message: e?.message ?? String(err) });
}
