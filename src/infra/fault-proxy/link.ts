/**
 * One proxied TCP connection: the client's socket, the socket we dial to the server, and a pump per
 * direction that applies the proxy's current toxics to every chunk. Toxics are read afresh at every step,
 * so adding or removing one acts at once on open connections, as in toxiproxy.
 */
import { connect, type Socket } from 'node:net';
import { covers, type Direction, type Toxic } from './toxics.ts';

/** A toxic as the proxy holds it: `id` is unique for the proxy's lifetime (a re-added toxic counts anew). */
export interface ActiveToxic {
  readonly id: number;
  readonly name: string;
  readonly toxic: Toxic;
}

/** What a link needs from its proxy. */
export interface LinkEnv {
  readonly upstream: { host: string; port: number };
  /** The toxics on now; `generation` changes whenever the list does. */
  current(): { generation: number; toxics: readonly ActiveToxic[] };
  /** Called once when the link is gone (both sockets closed). */
  onClosed(link: Link): void;
}

export interface Link {
  readonly client: Socket;
  /** Our socket to the server, once dialled. Its local port is what the server sees as the client's port. */
  readonly upstreamSocket: Socket | undefined;
  /** Wakes both pumps: the toxics changed. */
  wake(): void;
  /** Both sockets closed with a FIN after what was already passed on is flushed (a server or middlebox closing). */
  close(): void;
  /** Both sockets reset: each peer gets a TCP RST (ECONNRESET). */
  reset(): void;
  /** `half_open` `client_closed`: the client side is closed, the server side stays open and unread. */
  abandonClient(): void;
  /** Both sockets destroyed now (the proxy closing, or healing a `client_closed` half-open). */
  destroy(): void;
  /** No more data passes (closed, reset, or its client side abandoned). */
  readonly closed: boolean;
  readonly abandoned: boolean;
}

// Per direction we buffer at most this much before we stop reading the source socket, so a held
// direction (partition) backs up into the kernel's TCP buffers instead of our memory.
const HIGH_WATER = 256 * 1024;
const LOW_WATER = 64 * 1024;

export function createLink(client: Socket, env: LinkEnv): Link {
  let upstream: Socket | undefined;
  let closed = false;
  let abandoned = false;
  let gone = false;
  const pumps: Pump[] = [];
  const connectWaiter = createWaiter();

  /** Stops all data; `how` says what happens to the sockets. */
  const finish = (how: 'destroy' | 'flush' | 'reset') => {
    if (!closed) {
      closed = true;
      for (const p of pumps) p.stop();
      connectWaiter.wake();
    }
    for (const socket of [client, upstream]) {
      if (!socket || socket.destroyed) continue;
      if (how === 'reset') socket.resetAndDestroy();
      else if (how === 'flush') socket.destroySoon();
      else socket.destroy();
    }
    settle();
  };
  /** Reported to the proxy once both sockets are closed for good. */
  const settle = () => {
    if (gone || !client.destroyed || (upstream && !upstream.destroyed)) return;
    if (!closed) return;
    gone = true;
    env.onClosed(link);
  };

  const link: Link = {
    client,
    get upstreamSocket() {
      return upstream;
    },
    get closed() {
      return closed;
    },
    get abandoned() {
      return abandoned;
    },
    wake() {
      for (const p of pumps) p.wake();
      connectWaiter.wake();
    },
    close: () => finish('flush'),
    reset: () => finish('reset'),
    destroy: () => finish('destroy'),
    abandonClient() {
      if (closed) return;
      abandoned = true;
      closed = true;
      for (const p of pumps) p.stop();
      connectWaiter.wake();
      client.destroy();
      // The server side stays open: not read (its data would have nowhere to go), never ended.
      upstream?.pause();
      if (!upstream) settle();
    },
  };

  client.on('error', (err: NodeJS.ErrnoException) => {
    if (abandoned) return;
    // A client's reset reaches the server as a reset, as it would without the proxy.
    finish(err.code === 'ECONNRESET' ? 'reset' : 'destroy');
  });
  client.on('close', () => {
    if (abandoned) return settle();
    finish('destroy');
  });

  // The server is dialled only once upstream data may flow: during a partition a new connection hangs
  // and the server never sees it, as with a SYN lost on the way.
  client.pause();
  void (async () => {
    while (!closed && blocked(env.current().toxics, 'upstream')) await connectWaiter.wait();
    if (closed) return;
    const socket = connect({ host: env.upstream.host, port: env.upstream.port, allowHalfOpen: true });
    upstream = socket;
    socket.setNoDelay(true);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (abandoned) return;
      finish(err.code === 'ECONNRESET' ? 'reset' : 'destroy');
    });
    socket.on('close', () => {
      if (abandoned) {
        closed = true;
        return settle();
      }
      finish('destroy');
    });
    socket.once('connect', () => {
      if (closed) return;
      const done = () => {
        if (pumps.every((p) => p.finished)) finish('destroy');
      };
      pumps.push(createPump('upstream', client, socket, env, link, done), createPump('downstream', socket, client, env, link, done));
      client.resume();
    });
  })();

  return link;
}

function blocked(toxics: readonly ActiveToxic[], dir: Direction): boolean {
  return toxics.some(({ toxic: t }) => (t.type === 'timeout' && covers(t.stream, dir)) || (t.type === 'half_open' && t.mode === 'one_way' && t.stream === dir));
}

interface Pump {
  wake(): void;
  stop(): void;
  readonly finished: boolean;
}

interface Chunk {
  buf: Buffer;
  arrivedAt: number;
  /** When this chunk may leave under the latency toxics of `generation`. */
  releaseAt: number;
  generation: number;
}

function createPump(dir: Direction, source: Socket, sink: Socket, env: LinkEnv, link: Link, onFinished: () => void): Pump {
  const queue: Chunk[] = [];
  let queued = 0;
  let sourceEnded = false;
  let stopped = false;
  let finished = false;
  const waiter = createWaiter();
  /** Bytes counted per `limit_data` toxic (by toxic id) on this direction of this connection. */
  const limitCounts = new Map<number, number>();
  /** Bandwidth and slicer pacing: nothing leaves before this time while the toxics of `pacedGeneration` are on. */
  let nextSendAt = 0;
  let pacedGeneration = -1;

  source.setNoDelay?.(true);
  source.on('data', (buf: Buffer) => {
    if (stopped) return;
    queue.push({ buf, arrivedAt: performance.now(), releaseAt: 0, generation: -1 });
    queued += buf.length;
    if (queued > HIGH_WATER) source.pause();
    waiter.wake();
  });
  source.on('end', () => {
    sourceEnded = true;
    waiter.wake();
  });

  const run = async () => {
    while (!stopped && !link.closed) {
      const head = queue[0];
      if (!head) {
        if (sourceEnded) {
          // The source half-closed (FIN): pass it on once everything before it was delivered.
          sink.end();
          finished = true;
          onFinished();
          return;
        }
        await waiter.wait();
        continue;
      }
      const { generation, toxics } = env.current();
      if (blocked(toxics, dir)) {
        await waiter.wait();
        continue;
      }
      if (head.generation !== generation) {
        head.generation = generation;
        head.releaseAt = head.arrivedAt + latencyOf(toxics, dir);
      }
      const paced = pacedGeneration === generation ? nextSendAt : 0;
      // Never early: a chunk leaves only once its release time has passed (a timer may fire a fraction of a
      // millisecond early, so it is rounded up and the time checked again).
      const wait = Math.max(head.releaseAt, paced) - performance.now();
      if (wait > 0) {
        await waiter.wait(Math.ceil(wait));
        continue;
      }
      let size = head.buf.length;
      let pauseMs = 0;
      let closeAfter = false;
      for (const { id, toxic: t } of toxics) {
        if (t.type === 'slicer' && covers(t.stream, dir)) {
          const variation = t.size_variation > 0 ? Math.floor((Math.random() * 2 - 1) * t.size_variation) : 0;
          size = Math.min(size, Math.max(1, t.average_size + variation));
          pauseMs = Math.max(pauseMs, t.delay / 1000);
        } else if (t.type === 'bandwidth' && covers(t.stream, dir)) {
          const bytesPerMs = t.rate; // KB/s with 1 KB = 1000 bytes
          size = Math.min(size, Math.max(1, bytesPerMs * 100));
          pauseMs = Math.max(pauseMs, size / bytesPerMs);
        } else if (t.type === 'limit_data' && covers(t.stream, dir)) {
          const left = t.bytes - (limitCounts.get(id) ?? 0);
          if (left <= size) {
            size = Math.max(0, left);
            closeAfter = true;
          }
        }
      }
      const piece = head.buf.subarray(0, size);
      for (const { id, toxic: t } of toxics) {
        if (t.type === 'limit_data' && covers(t.stream, dir)) limitCounts.set(id, (limitCounts.get(id) ?? 0) + size);
      }
      if (size >= head.buf.length) queue.shift();
      else head.buf = head.buf.subarray(size);
      queued -= size;
      if (queued <= LOW_WATER && source.isPaused() && !stopped) source.resume();
      if (size > 0 && !sink.destroyed && !sink.write(piece)) await drained(sink);
      if (closeAfter) {
        link.close();
        return;
      }
      // New data wakes the pump early; the pause is kept by time, not by this wait.
      if (pauseMs > 0) {
        nextSendAt = performance.now() + pauseMs;
        pacedGeneration = generation;
      }
    }
  };
  void run();

  return {
    wake: () => waiter.wake(),
    stop() {
      stopped = true;
      waiter.wake();
    },
    get finished() {
      return finished;
    },
  };
}

/** Sum of the latency toxics on `dir`, each `latency` +- `jitter` drawn uniformly (never below 0). */
function latencyOf(toxics: readonly ActiveToxic[], dir: Direction): number {
  let total = 0;
  for (const { toxic: t } of toxics) {
    if (t.type !== 'latency' || !covers(t.stream, dir)) continue;
    total += Math.max(0, t.latency + (t.jitter > 0 ? (Math.random() * 2 - 1) * t.jitter : 0));
  }
  return total;
}

function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** One pending wait at a time, ended by its timer or by `wake()`; a woken wait leaves no timer behind. */
interface Waiter {
  wait(ms?: number): Promise<void>;
  wake(): void;
}

function createWaiter(): Waiter {
  let resolve: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const wake = () => {
    clearTimeout(timer);
    timer = undefined;
    const r = resolve;
    resolve = undefined;
    r?.();
  };
  return {
    wait(ms?: number) {
      wake();
      return new Promise<void>((r) => {
        resolve = r;
        if (ms !== undefined) timer = setTimeout(wake, ms);
      });
    },
    wake,
  };
}
