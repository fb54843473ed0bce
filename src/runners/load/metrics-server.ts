/**
 * `--metrics-port`: serves Prometheus exposition text on GET /metrics while a run is going (node:http,
 * bound to 127.0.0.1 unless told otherwise). Between runs (bench switching backends) it answers with
 * the last run's final numbers, so a scrape never sees counters jump back to nothing mid-bench.
 * Server-side sources (NATS monitoring, src/infra/nats-monitor.ts) are added for the whole command and
 * appended to every answer.
 */
import { createServer, type Server } from 'node:http';
import { StoreUnavailableError } from '../../core/event-store.ts';

export interface MetricsServer {
  readonly port: number;
  readonly url: string;
  setSource(scrape: (() => Promise<string>) | null): void;
  /** A source polled on every scrape for as long as the server runs (its metric names must not clash). */
  addSource(scrape: () => Promise<string>): void;
  close(): Promise<void>;
}

export async function startMetricsServer(port: number, host = '127.0.0.1'): Promise<MetricsServer> {
  let source: (() => Promise<string>) | null = null;
  let last = '';
  const extra: (() => Promise<string>)[] = [];
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || !req.url || !req.url.startsWith('/metrics')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('eventbench: only GET /metrics here\n');
      return;
    }
    const own = source ? source().then((text) => (last = text)) : Promise.resolve(last);
    const body = Promise.all([own, ...extra.map((s) => s())]).then((parts) => parts.filter((p) => p !== '').map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join(''));
    body.then(
      (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new StoreUnavailableError(`--metrics-port ${port}: cannot listen on ${host}:${port} (${err.code ?? err.message})`, { cause: err })),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return {
    port: actual,
    url: `http://${host}:${actual}/metrics`,
    setSource(scrape) {
      if (source && !scrape) {
        // Keep the final numbers of the run that just ended.
        void source().then((text) => (last = text), () => {});
      }
      source = scrape;
    },
    addSource(scrape) {
      extra.push(scrape);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
