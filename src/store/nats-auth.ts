/**
 * nats.js connection options from a NATS URL with credentials and TLS parameters, shared by the jetstream
 * adapter, the raw-jetstream baseline (adapters do not import each other) and src/infra's own connections
 * (src/infra/security/nats-client.ts), so all authenticate the same way and none ever prints the URL
 * itself: `natsServersForLog` is what an error message may name.
 */
import { readFileSync } from 'node:fs';
import { credsAuthenticator, nkeyAuthenticator, type ConnectionOptions } from '@nats-io/transport-node';
import { ConfigError } from '../core/event-store.ts';
import { parseNatsClientUrl } from '../core/nats-client-url.ts';

/**
 * nats.js options for a NATS URL with its credentials and TLS parameters (src/core/nats-client-url.ts):
 * servers as `host:port`, user/password, token, nkey seed or creds file, TLS with the given CA. Files
 * that cannot be read are a `ConfigError` naming the parameter, never its content.
 */
export function natsAuthOptions(natsUrl: string): Pick<ConnectionOptions, 'servers' | 'user' | 'pass' | 'token' | 'authenticator' | 'tls'> {
  let target;
  try {
    target = parseNatsClientUrl(natsUrl);
  } catch (err) {
    throw new ConfigError(`NATS URL: ${(err as Error).message}`, { cause: err });
  }
  const read = (file: string, what: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`NATS URL parameter ${what} (--nats-${what}): cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
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

/** The servers of a NATS URL as `host:port`, without credentials or parameters: safe in an error message. */
export function natsServersForLog(natsUrl: string): string {
  try {
    return parseNatsClientUrl(natsUrl).servers.join(',');
  } catch {
    return '(an unparseable NATS URL)';
  }
}
