/**
 * The SSE clients of bench/serve.ts, in a worker thread of their own: parsing every message once per
 * client is work the server under test does not do, so it runs beside the server's event loop, not on it.
 * Each client reports, every 50 ms, the event ids it received with the wall-clock time of the message
 * (Date.now(), the same clock in every thread of the process).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSseClient, type SseClient } from '../src/runners/serve/sse-client.ts';

export interface ClientsConfig {
  url: string;
  clients: number;
}
/** Worker -> main: `opened` once all streams are open, then batches of what each client saw. */
export type ClientsMessage = { kind: 'opened' } | { kind: 'seen'; client: number; ids: string[]; ats: number[] } | { kind: 'error'; message: string };

const REPORT_MS = 50;
const { url, clients } = workerData as ClientsConfig;
const port = parentPort!;
const pending = Array.from({ length: clients }, () => ({ ids: [] as string[], ats: [] as number[] }));
const open: SseClient[] = pending.map((buffer) =>
  openSseClient(url, (data, at) => {
    for (const e of (data as { events: { eventId?: string }[] }).events) {
      if (!e.eventId) continue;
      buffer.ids.push(e.eventId);
      buffer.ats.push(at);
    }
  }),
);
const flush = () => {
  pending.forEach((b, client) => {
    if (!b.ids.length) return;
    port.postMessage({ kind: 'seen', client, ids: b.ids, ats: b.ats } satisfies ClientsMessage);
    b.ids = [];
    b.ats = [];
  });
};
const timer = setInterval(flush, REPORT_MS);
Promise.all(open.map((c) => c.opened)).then(
  () => port.postMessage({ kind: 'opened' } satisfies ClientsMessage),
  (err: Error) => port.postMessage({ kind: 'error', message: err.message } satisfies ClientsMessage),
);
// 'stop' from main: report what is left, close the streams, and let the thread end.
port.on('message', (m: unknown) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  flush();
  for (const c of open) c.close();
  port.close();
});
