/** The adapter's NATS connection and what it tells about the server (its version decides capabilities). */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { StoreUnavailableError } from '../../core/event-store.ts';
import { natsAuthOptions } from '../nats-auth.ts';

export { natsAuthOptions } from '../nats-auth.ts';

/** Parses `2.9.10` / `2.12.0-beta.1` into a comparable triple. */
export function parseServerVersion(v: string | undefined): [number, number, number] {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
}

export function serverAtLeast(v: string | undefined, major: number, minor: number): boolean {
  const [a, b] = parseServerVersion(v);
  return a > major || (a === major && b >= minor);
}

export async function connectNats(natsUrl: string | undefined, name: string): Promise<NatsConnection> {
  const servers = natsUrl ?? 'nats://127.0.0.1:4222';
  // A cluster's nodes come as one comma-separated URL (--nats-url, NATS_URL); nats.js wants a list.
  const auth = natsAuthOptions(servers);
  try {
    return await connect({
      ...auth,
      name,
      // Keep trying through restarts and partitions (the chaos scenarios); requests time out meanwhile.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      // nats.js otherwise builds two Error objects (stack traces) per request for debugging context:
      // 29 % of the client's CPU in a pipelined publish profile here (bench/jetstream-append.ts). Our
      // errors are translated at the boundary and keep the driver error as `cause` anyway.
      noAsyncTraces: true,
      // Connect only to the URLs given: a cluster's INFO `connect_urls` would otherwise let the client
      // reconnect around a chaos fault proxy (src/infra/fault-proxy.ts) to a node it must not reach.
      ignoreClusterUpdates: true,
    });
  } catch (err) {
    // The servers as host:port: the URL itself may carry a password or token.
    throw new StoreUnavailableError(`cannot connect to NATS at ${[auth.servers ?? []].flat().join(',')}: ${(err as Error).message}`, { cause: err });
  }
}
