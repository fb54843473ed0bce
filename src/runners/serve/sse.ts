/**
 * `GET /events/stream`: Server-Sent Events to every connected client (docs/event-api.md). New events are
 * gathered for `FLUSH_MS` and sent as one message to all clients, serialised once: at 5,000 events/s a
 * message per event per client would cost more than the events themselves, and 50 ms is far inside the
 * 1 s the live view allows (docs/event-api.md §Departures).
 */
import type { ServerResponse } from 'node:http';
import type { ReadSide, ServedEvent } from './read-side.ts';

const FLUSH_MS = 50;
/** A comment line now and then keeps idle connections (and proxies between) from timing out. */
const HEARTBEAT_MS = 15_000;
/** Bytes a client may have unsent in its socket before it is dropped (its EventSource reconnects). */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** Events per message at most: a larger burst goes out as several messages, one flush apart. */
const MAX_EVENTS_PER_MESSAGE = 2_000;

export class SseHub {
  private readonly clients = new Set<ServerResponse>();
  private pending: ServedEvent[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(private readonly readSide: ReadSide) {
    this.unsubscribe = readSide.onEvent((e) => {
      if (this.clients.size === 0) return;
      this.pending.push(e);
      this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
    });
    this.heartbeat = setInterval(() => this.broadcast(': ping\n\n'), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Takes over `res`: the headers, a first message with the recent `events` and `stats`, then every new event. */
  add(res: ServerResponse, initial: ServedEvent[]): void {
    if (this.closed) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 1000\ndata: ${JSON.stringify({ events: initial, stats: this.readSide.stats() })}\n\n`);
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  private flush(): void {
    this.flushTimer = undefined;
    const events = this.pending.splice(0, MAX_EVENTS_PER_MESSAGE);
    if (this.pending.length) this.flushTimer = setTimeout(() => this.flush(), FLUSH_MS);
    if (!events.length) return;
    this.broadcast(`data: ${JSON.stringify({ events, stats: this.readSide.stats() })}\n\n`);
  }

  private broadcast(message: string): void {
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        this.clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(message);
    }
  }

  /** Ends every client's stream and stops the timers. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    clearInterval(this.heartbeat);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.pending = [];
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
