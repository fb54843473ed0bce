/**
 * `eventbench serve` as a function (docs/event-api.md): catches up from the store, then follows it with a
 * durable subscription and answers the event API, the live page and the replay view over HTTP. The caller
 * owns the store; `close()` stops the HTTP server, the SSE streams and the subscription (idempotent).
 *
 * Why catch up and also subscribe durably: the counters of `/stats` live in memory, so a restarted server
 * must read what is stored to show it (the catch-up, at most `MAX_CATCH_UP` events), while the durable
 * subscription resumes from its checkpoint and so does not read the whole category again after the first
 * start. Events both deliver are counted once (read-side.ts).
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ConfigError, type EventStore, type Subscription } from '../../core/event-store.ts';
import { readAllAgainWhileUnavailable } from '../../core/read-again.ts';
import { createRunMetrics } from '../../core/metrics.ts';
import { buildApp } from './http.ts';
import { ReadSide } from './read-side.ts';
import { Replayer } from './replay.ts';
import { SseHub } from './sse.ts';

/** The category the event API serves: the document events of docs/workloads.md §Documents. */
export const SERVE_CATEGORY = 'document';
export const DEFAULT_SUBSCRIPTION = 'eventbench-serve';
/** Events read at start-up before the subscription takes over (bounds the start-up time and its memory use). */
export const MAX_CATCH_UP = 1_000_000;
const CATCH_UP_PAGE = 1000;

export interface ServeOptions {
  host: string;
  port: number;
  /** The durable subscription's name (default `eventbench-serve`). */
  subscription?: string;
  /** Every route but `/health` needs `Authorization: Bearer <token>` (docs/security.md). */
  token?: string;
  now?: () => number;
}

export interface ServeHandle {
  /** `http://host:port` as bound (port 0 becomes the port the kernel chose). */
  readonly url: string;
  /** Events read by the start-up catch-up. */
  readonly caughtUp: number;
  readonly readSide: ReadSide;
  close(): Promise<void>;
}

/** Is `err` a listen on a port that is taken? */
export function isAddressInUse(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'EADDRINUSE';
}

export async function startServe(store: EventStore, options: ServeOptions): Promise<ServeHandle> {
  const readSide = new ReadSide(options.now);
  const metrics = createRunMetrics(store.backend);
  const sse = new SseHub(readSide);
  let subscription: Subscription | undefined;
  const app = buildApp({
    readSide,
    sse,
    replayer: new Replayer(store),
    metrics: metrics.registry,
    ...(options.token ? { token: options.token } : {}),
    beforeScrape: async () => {
      if (subscription) metrics.setQueueDepth(await subscription.lag());
    },
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    sse.close();
    await app.close();
    await subscription?.close();
  };
  try {
    let caughtUp = 0;
    let from = 0;
    while (caughtUp < MAX_CATCH_UP) {
      // A replicated store electing a leader answers unavailable for a few seconds: read again, bounded.
      const page = await readAllAgainWhileUnavailable(store, { category: SERVE_CATEGORY, fromPosition: from, limit: Math.min(CATCH_UP_PAGE, MAX_CATCH_UP - caughtUp) });
      for (const e of page) readSide.apply(e);
      caughtUp += page.length;
      if (page.length < CATCH_UP_PAGE) break;
      from = page[page.length - 1]!.position;
    }
    const floor = readSide.floor();
    subscription = await store.subscribe(
      options.subscription ?? DEFAULT_SUBSCRIPTION,
      (event) => {
        const started = performance.now();
        if (event.position < floor) return;
        readSide.apply(event);
        metrics.processed(event.type, 'success', (performance.now() - started) / 1000, undefined);
      },
      { category: SERVE_CATEGORY, from: 'start' },
    );
    try {
      await app.listen({ host: options.host, port: options.port });
    } catch (err) {
      if (isAddressInUse(err)) throw new ConfigError(`port ${options.port} on ${options.host} is in use: stop what listens there or pick another with --port`);
      throw err;
    }
    const address = app.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return { url: `http://${host}:${address.port}`, caughtUp, readSide, close };
  } catch (err) {
    await close();
    throw err;
  }
}
