/**
 * The security a managed nats-server runs with (docs/security.md restates what the designs configure):
 *
 * - `accounts`: accounts DOMAIN (JetStream; users `domain_user` by password and one by nkey), QUERY
 *   (`query_user`: reads DOMAIN's streams through service imports, may publish nothing else) and SYS (the
 *   system account, user `system`). Passwords and the nkey are made for the run.
 * - `token`: one token for the whole server (nats-server refuses a token next to users or accounts).
 * - `tls`: certificates made for the run (src/infra/security/certs.ts); `allow_non_tls: false`, so a client
 *   that does not speak TLS is refused.
 * - `accounts+tls`, `token+tls`: both.
 *
 * The harness connects as `domain_user` (or with the token): the URL of the managed server carries the
 * credentials and the CA (src/core/nats-client-url.ts) and is redacted wherever it is printed or stored.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createUser } from '@nats-io/nkeys';
import { makeRunCertificates, type RunCertificates } from './certs.ts';
import { newSecret } from './secrets.ts';
import { NATS_SECURITY_MODES, type NatsSecurityMode } from './modes.ts';

export { NATS_SECURITY_MODES, type NatsSecurityMode };

/**
 * What QUERY may ask of DOMAIN's JetStream: stream info, message get (direct and through the API),
 * consumers (create, next, ack). Nothing that writes to a stream, creates or deletes one. nats-server 2.9
 * has no read-only JetStream permission as such; these service exports (DOMAIN) and imports (QUERY), with
 * a publish allow-list on the QUERY user that names the same subjects, are its closest equivalent.
 */
export const QUERY_READ_SUBJECTS = [
  '$JS.API.INFO',
  '$JS.API.STREAM.INFO.*',
  '$JS.API.STREAM.MSG.GET.*',
  '$JS.API.DIRECT.GET.>',
  '$JS.API.CONSUMER.CREATE.>',
  '$JS.API.CONSUMER.INFO.>',
  '$JS.API.CONSUMER.MSG.NEXT.>',
  '$JS.ACK.>',
] as const;

export interface NatsUserSecret {
  user: string;
  password: string;
}

/** The users of an `accounts` server: for the harness (domain) and for tests that check each one. */
export interface NatsAccountUsers {
  domain: NatsUserSecret;
  /** A DOMAIN user authenticated by nkey: its public key is in the config, its seed in `seedFile` (mode 600). */
  nkey: { publicKey: string; seedFile: string };
  query: NatsUserSecret;
  system: NatsUserSecret;
}

export interface NatsSecurity {
  mode: NatsSecurityMode;
  /** The config file text: accounts / authorization / tls blocks (ports and the store dir come as flags). */
  configText: string;
  users?: NatsAccountUsers;
  token?: string;
  tls?: RunCertificates;
  /** The harness's URL for a server listening on 127.0.0.1:port (credentials and CA included). */
  harnessUrl(port: number): string;
}

/** Makes the run's secrets, keys and certificates in `dir` (the server's owned temp dir) and the config that uses them. */
export function prepareNatsSecurity(mode: NatsSecurityMode, dir: string): NatsSecurity {
  const withTls = mode.endsWith('tls');
  const tls = withTls ? makeRunCertificates(dir) : undefined;
  const parts: string[] = [];
  let users: NatsAccountUsers | undefined;
  let token: string | undefined;
  if (mode.startsWith('accounts')) {
    const kp = createUser();
    const seedFile = join(dir, 'domain-nkey.nk');
    writeFileSync(seedFile, new TextDecoder().decode(kp.getSeed()), { mode: 0o600 });
    users = {
      domain: { user: 'domain_user', password: newSecret() },
      nkey: { publicKey: kp.getPublicKey(), seedFile },
      query: { user: 'query_user', password: newSecret() },
      system: { user: 'system', password: newSecret() },
    };
    parts.push(accountsConfig(users));
  } else if (mode.startsWith('token')) {
    token = newSecret();
    parts.push(`authorization {\n  token: ${JSON.stringify(token)}\n}`);
  }
  if (tls) {
    // verify: false: clients prove who they are by password, token or nkey, not by a client certificate.
    parts.push(
      `tls {\n  cert_file: ${JSON.stringify(tls.certFile)}\n  key_file: ${JSON.stringify(tls.keyFile)}\n  ca_file: ${JSON.stringify(tls.caFile)}\n  verify: false\n  timeout: 2\n}`,
      'allow_non_tls: false',
    );
  }
  const configText = `${parts.join('\n')}\n`;
  return {
    mode,
    configText,
    ...(users ? { users } : {}),
    ...(token ? { token } : {}),
    ...(tls ? { tls } : {}),
    harnessUrl(port) {
      const auth = users ? `${users.domain.user}:${users.domain.password}@` : token ? `${token}@` : '';
      return `${tls ? 'tls' : 'nats'}://${auth}127.0.0.1:${port}${tls ? `?tlsca=${encodeURIComponent(tls.caFile)}` : ''}`;
    },
  };
}

function accountsConfig(users: NatsAccountUsers): string {
  const q = (s: string) => JSON.stringify(s);
  const list = (xs: readonly string[]) => `[${xs.map(q).join(', ')}]`;
  const exports = QUERY_READ_SUBJECTS.map(
    // A pull request is answered by several messages (the batch), so its export streams responses.
    (s) => `      { service: ${q(s)}, accounts: [QUERY]${s.startsWith('$JS.API.CONSUMER.MSG.NEXT') ? ', response_type: stream' : ''} }`,
  ).join('\n');
  const imports = QUERY_READ_SUBJECTS.map((s) => `      { service: { account: DOMAIN, subject: ${q(s)} } }`).join('\n');
  return `accounts {
  DOMAIN {
    jetstream: enabled
    users: [
      { user: ${q(users.domain.user)}, password: ${q(users.domain.password)} }
      { nkey: ${q(users.nkey.publicKey)} }
    ]
    exports: [
${exports}
    ]
  }
  QUERY {
    users: [
      { user: ${q(users.query.user)}, password: ${q(users.query.password)}, permissions: { publish: { allow: ${list([...QUERY_READ_SUBJECTS])} }, subscribe: { allow: [">"] } } }
    ]
    imports: [
${imports}
    ]
  }
  SYS {
    users: [
      { user: ${q(users.system.user)}, password: ${q(users.system.password)} }
    ]
  }
}
system_account: SYS`;
}
