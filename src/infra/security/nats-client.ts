/**
 * nats.js options from a NATS URL with credentials and TLS parameters (src/core/nats-client-url.ts), for
 * the connections src/infra opens (the URL check, the environment capture). The JetStream adapter has the
 * same mapping in src/store/jetstream/connection.ts: the layer rules let neither import the other.
 */
import { readFileSync } from 'node:fs';
import { credsAuthenticator, nkeyAuthenticator, type ConnectionOptions } from '@nats-io/transport-node';
import { ConfigError } from '../../core/event-store.ts';
import { parseNatsClientUrl } from '../../core/nats-client-url.ts';

export type NatsAuthOptions = Pick<ConnectionOptions, 'servers' | 'user' | 'pass' | 'token' | 'authenticator' | 'tls'>;

/** Servers as `host:port`, user/password, token, nkey seed or creds file, TLS with the given CA; a file that cannot be read is a `ConfigError`. */
export function natsClientOptions(natsUrl: string): NatsAuthOptions {
  let target;
  try {
    target = parseNatsClientUrl(natsUrl);
  } catch (err) {
    throw new ConfigError(`--nats-url: ${(err as Error).message}`, { cause: err });
  }
  const read = (file: string, what: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`--nats-${what} / ?${what}=: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    }
  };
  return {
    servers: target.servers,
    ...(target.user !== undefined ? { user: target.user, pass: target.pass } : {}),
    ...(target.token !== undefined ? { token: target.token } : {}),
    ...(target.nkeyFile ? { authenticator: nkeyAuthenticator(new TextEncoder().encode(read(target.nkeyFile, 'nkey').trim())) } : {}),
    ...(target.credsFile ? { authenticator: credsAuthenticator(new TextEncoder().encode(read(target.credsFile, 'creds'))) } : {}),
    ...(target.tls ? { tls: target.tlsCaFile ? { caFile: target.tlsCaFile } : {} } : {}),
  };
}
