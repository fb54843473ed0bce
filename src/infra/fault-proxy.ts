/**
 * An in-process TCP fault proxy (toxiproxy's model on `node:net`): one per server, in front of it on a
 * loopback port; clients connect to the proxy instead of the server, and toxics (src/infra/fault-proxy/
 * toxics.ts) toggled at runtime inject latency, partitions, resets, refusals, bandwidth limits, slicing,
 * data limits and half-open connections. This kernel has no netem, so `tc` is no option; a proxy also
 * touches only eventbench's own connections, which is what makes faults against an external server safe.
 * Only loopback, both sides. Every socket and timer is owned by the proxy and gone after `close()`.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { ConfigError } from '../core/event-store.ts';
import { createLink, type ActiveToxic, type Link } from './fault-proxy/link.ts';
import { ToxicSchema, type Toxic, type ToxicInput } from './fault-proxy/toxics.ts';

export { ToxicSchema, type Toxic, type ToxicInput, type ToxicType } from './fault-proxy/toxics.ts';
export { proxiedUrl } from './fault-proxy/proxied-url.ts';

export interface FaultProxyOptions {
  /** The server: a loopback address. */
  upstream: { host: string; port: number };
  /** Where the proxy listens; default 127.0.0.1 on a free port. */
  listen?: { host?: string; port?: number };
}

/** One connection through the proxy, as each end sees it. */
export interface ProxyConnection {
  /** The client's port (its side of the connection to the proxy). */
  clientPort: number;
  /** The port the server sees the connection coming from (`client_port` in pg_stat_activity); undefined until dialled. */
  serverSidePort: number | undefined;
  /** A `half_open` `client_closed` toxic took its client side; the server side is still open. */
  abandoned: boolean;
}

export interface FaultProxy extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  /** `tcp://host:port` of the proxy; use `proxiedUrl()` to turn a store URL into one through the proxy. */
  readonly url: string;
  readonly upstream: { host: string; port: number };
  /** Adds a toxic (validated); acts at once on open connections and on new ones. Resolves to its name. */
  add(toxic: ToxicInput, name?: string): Promise<string>;
  /** Removes one toxic; resolves false if no toxic has that name. */
  remove(name: string): Promise<boolean>;
  /** Replaces every toxic by these, in one step (no moment without the old or the new ones). */
  setToxics(toxics: ToxicInput[]): Promise<string[]>;
  /** The toxics on now. */
  toxics(): { name: string; toxic: Toxic }[];
  /** Removes every toxic: data flows again, held data is delivered, refused connections are accepted. */
  heal(): Promise<void>;
  connections(): ProxyConnection[];
  /**
   * Points new connections at another loopback server (a promoted standby after a failover); open
   * connections stay with the server they reached. `upstream` shows the new one.
   */
  retarget(upstream: { host: string; port: number }): void;
  /** Heals, stops listening, destroys every connection. Idempotent. */
  close(): Promise<void>;
}

/** 127.0.0.0/8, ::1 and `localhost`: the only addresses eventbench sends traffic to. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export async function createFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = { host: options.upstream.host, port: options.upstream.port };
  if (!isLoopbackHost(upstream.host)) throw new ConfigError(`fault proxy upstream ${upstream.host}: only loopback servers (127.0.0.1, ::1, localhost) can be put behind the fault proxy`);
  if (!Number.isInteger(upstream.port) || upstream.port < 1 || upstream.port > 65_535) throw new ConfigError(`fault proxy upstream port ${upstream.port}: expected 1-65535`);
  const host = options.listen?.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) throw new ConfigError(`fault proxy listen address ${host}: only loopback (127.0.0.1, ::1, localhost)`);

  const links = new Set<Link>();
  const active: ActiveToxic[] = [];
  /** Per toxic id: timers it started (timeout closes, resets) and connections it orphaned. */
  const effects = new Map<number, { timers: Set<NodeJS.Timeout>; orphans: Set<Link> }>();
  let generation = 0;
  let nextId = 1;
  let closing: Promise<void> | undefined;
  let server: Server | undefined;
  /** A listen after a `refuse` in progress: concurrent heals share it instead of racing for the port. */
  let reopening: Promise<void> | undefined;

  const env = {
    upstream,
    current: () => ({ generation, toxics: active }),
    onClosed: (link: Link) => links.delete(link),
  };

  const listen = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const srv = createServer({ allowHalfOpen: true, pauseOnConnect: true }, accept);
      srv.once('error', reject);
      srv.listen({ host, port, exclusive: true }, () => {
        srv.off('error', reject);
        srv.on('error', () => {}); // after listening, accept errors (EMFILE) only cost that connection
        resolve(srv);
      });
    });

  function accept(socket: Socket): void {
    if (closing) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const link = createLink(socket, env);
    links.add(link);
    // Toxics that act on each connection they meet also act on connections opened while they are on.
    for (const t of active) meet(t, link);
  }

  /** What a toxic does to a connection when it first meets it (at `add`, or when the connection opens). */
  function meet(t: ActiveToxic, link: Link): void {
    const fx = effects.get(t.id)!;
    const later = (ms: number, what: () => void) => {
      if (ms === 0) return what();
      const timer = setTimeout(() => {
        fx.timers.delete(timer);
        what();
      }, ms);
      fx.timers.add(timer);
    };
    const { toxic } = t;
    if (toxic.type === 'reset_peer') later(toxic.timeout, () => link.reset());
    else if (toxic.type === 'timeout' && toxic.timeout > 0) later(toxic.timeout, () => link.close());
  }

  function startToxic(toxic: Toxic, name: string): ActiveToxic {
    const t: ActiveToxic = { id: nextId++, name, toxic };
    active.push(t);
    effects.set(t.id, { timers: new Set(), orphans: new Set() });
    for (const link of [...links]) {
      if (link.closed) continue;
      if (toxic.type === 'half_open' && toxic.mode === 'client_closed') {
        link.abandonClient();
        effects.get(t.id)!.orphans.add(link);
      } else {
        meet(t, link);
      }
    }
    return t;
  }

  function stopToxic(t: ActiveToxic): void {
    const i = active.indexOf(t);
    if (i >= 0) active.splice(i, 1);
    const fx = effects.get(t.id);
    effects.delete(t.id);
    if (!fx) return;
    for (const timer of fx.timers) clearTimeout(timer);
    for (const link of fx.orphans) link.destroy();
  }

  /** After any change: wake every pump, and open or close the listener for `refuse`. */
  async function changed(): Promise<void> {
    generation++;
    for (const link of links) link.wake();
    const refuse = active.some((t) => t.toxic.type === 'refuse');
    if (refuse && server) {
      // Closing the listening socket makes the kernel answer new connections with RST: ECONNREFUSED.
      // Open connections are not the listener's: they go on.
      server.close();
      server = undefined;
    } else if (!refuse && !server && !closing) {
      reopening ??= relisten(port).then(
        (srv) => {
          reopening = undefined;
          // close() may have run, or a refuse come back, while we waited for the port.
          if (closing || active.some((t) => t.toxic.type === 'refuse')) srv.close();
          else server = srv;
        },
        (err: unknown) => {
          reopening = undefined;
          throw err;
        },
      );
      await reopening;
    }
  }

  /** Listens on the same port again; another process may have taken it meanwhile (it is ephemeral). */
  async function relisten(p: number): Promise<Server> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 40; attempt++) {
      try {
        return await listen(p);
      } catch (err) {
        lastError = err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`fault proxy: cannot listen on ${host}:${p} again after a refuse: ${(lastError as Error).message}`, { cause: lastError });
  }

  const uniqueName = (type: string) => {
    for (let n = 1; ; n++) if (!active.some((t) => t.name === `${type}_${n}`)) return `${type}_${n}`;
  };
  const parse = (input: ToxicInput): Toxic => {
    const r = ToxicSchema.safeParse(input);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new ConfigError(`toxic ${JSON.stringify(input)}: ${issue.path.join('.') || 'type'}: ${issue.message}`);
    }
    return r.data;
  };
  const assertOpen = () => {
    if (closing) throw new Error('fault proxy is closed');
  };

  server = await listen(options.listen?.port ?? 0);
  const port = (server.address() as { port: number }).port;

  const proxy: FaultProxy = {
    host,
    port,
    url: `tcp://${host.includes(':') ? `[${host}]` : host}:${port}`,
    upstream,
    async add(input, name) {
      assertOpen();
      const toxic = parse(input);
      const n = name ?? uniqueName(toxic.type);
      if (active.some((t) => t.name === n)) throw new ConfigError(`fault proxy: a toxic named ${n} is on already`);
      startToxic(toxic, n);
      await changed();
      return n;
    },
    async remove(name) {
      const t = active.find((x) => x.name === name);
      if (!t) return false;
      stopToxic(t);
      await changed();
      return true;
    },
    async setToxics(inputs) {
      assertOpen();
      const parsed = inputs.map(parse);
      for (const t of [...active]) stopToxic(t);
      const names = parsed.map((toxic) => startToxic(toxic, uniqueName(toxic.type)).name);
      await changed();
      return names;
    },
    toxics: () => active.map((t) => ({ name: t.name, toxic: t.toxic })),
    async heal() {
      for (const t of [...active]) stopToxic(t);
      await changed();
    },
    connections: () =>
      [...links].map((l) => ({ clientPort: l.client.remotePort ?? 0, serverSidePort: l.upstreamSocket?.localPort, abandoned: l.abandoned })),
    retarget(next) {
      if (!isLoopbackHost(next.host)) throw new ConfigError(`fault proxy upstream ${next.host}: only loopback servers (127.0.0.1, ::1, localhost) can be put behind the fault proxy`);
      if (!Number.isInteger(next.port) || next.port < 1 || next.port > 65_535) throw new ConfigError(`fault proxy upstream port ${next.port}: expected 1-65535`);
      // In place: every link dials `env.upstream` when it opens, so new connections go to the new server.
      upstream.host = next.host;
      upstream.port = next.port;
    },
    close() {
      closing ??= (async () => {
        for (const t of [...active]) stopToxic(t);
        generation++;
        const srv = server;
        server = undefined;
        for (const link of [...links]) link.destroy();
        links.clear();
        await reopening?.catch(() => {}); // it sees `closing` and closes what it opened
        if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return proxy.close();
    },
  };
  return proxy;
}
