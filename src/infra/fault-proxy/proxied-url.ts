/**
 * Rewrites a store URL so its connections go through a fault proxy: same user, password, database and
 * query, the proxy's host and port. Refuses a URL that does not point at the proxy's upstream, so a
 * fault can never silently miss the connections it was meant for.
 *
 * NATS: a client learns other servers from the INFO `connect_urls` of a cluster and may reconnect to
 * them directly, around the proxy; a single server announces none, but a client behind a proxy must
 * still be told not to (nats.js `ignoreClusterUpdates: true`).
 */
import { ConfigError } from '../../core/event-store.ts';

const DEFAULT_PORTS: Record<string, number> = { 'postgres:': 5432, 'postgresql:': 5432, 'nats:': 4222 };

export function proxiedUrl(url: string, proxy: { host: string; port: number; upstream: { host: string; port: number } }): string {
  if (url.includes(',')) throw new ConfigError(`${redact(url)}: one server per URL behind a fault proxy (a proxy has one upstream)`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`${redact(url)}: not a URL (expected postgres://... or nats://...)`);
  }
  const defaultPort = DEFAULT_PORTS[u.protocol];
  if (defaultPort === undefined) throw new ConfigError(`${redact(url)}: a fault proxy rewrites postgres:// and nats:// URLs only`);
  const port = u.port ? Number(u.port) : defaultPort;
  const sameHost = sameLoopback(u.hostname, proxy.upstream.host);
  if (port !== proxy.upstream.port || !sameHost) {
    throw new ConfigError(`${redact(url)} points at ${u.hostname}:${port}, but the fault proxy forwards to ${proxy.upstream.host}:${proxy.upstream.port}`);
  }
  u.hostname = proxy.host.includes(':') ? `[${proxy.host}]` : proxy.host;
  u.port = String(proxy.port);
  return u.toString();
}

/** `localhost`, 127.0.0.1 and ::1 all reach this machine; anything else must match exactly. */
function sameLoopback(a: string, b: string): boolean {
  const norm = (h: string) => {
    const x = h.replace(/^\[|\]$/g, '').toLowerCase();
    return x === 'localhost' || x === '::1' || x === '127.0.0.1' ? 'loopback' : x;
  };
  return norm(a) === norm(b);
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
