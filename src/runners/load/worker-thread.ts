/** The body of a load worker thread: one LocalLoadSide with its own store connection, driven by messages. */
import { parentPort, workerData } from 'node:worker_threads';
import { LocalLoadSide, type FromWorker, type LoadSideConfig, type ToWorker } from './load-side.ts';

const LIVE_INTERVAL_MS = 500;
const port = parentPort!;
const post = (msg: FromWorker): void => port.postMessage(msg);

try {
  const side = await LocalLoadSide.open(workerData as LoadSideConfig);
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
      void side.close().finally(() => {
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
