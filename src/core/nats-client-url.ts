/**
 * A NATS URL that carries how to authenticate, so that one string (`--nats-url`, `NATS_URL`, a managed
 * server's `url`) reaches every client the harness opens, in this process and in the child processes it
 * starts (docs/security.md):
 *
 *   nats://user:password@host:port       user and password
 *   nats://token@host:port               a token (a user part without a password, as the nats CLI reads it)
 *   tls://host:port?tlsca=/path/ca.pem   TLS, trusting that CA (`tls://` alone: the system's CAs)
 *   nats://host:port?nkey=/path/user.nk  an nkey seed file; `?creds=/path/user.creds` a credentials file
 *
 * Several servers are separated by commas; what the first one carries applies to all (nats.js has one
 * authentication per connection). The parameter names are the nats CLI's flags (`--tlsca`, `--nkey`,
 * `--creds`). This file only reads the string: the store adapter and src/infra map it to nats.js options
 * (the layer rules keep drivers out of src/core).
 */

/** What a NATS URL says about the servers and how to reach them. Secrets are here in clear: never print this. */
export interface NatsClientTarget {
  /** `host:port` per server, without scheme, credentials or parameters (what nats.js takes). */
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
  /** Path of a file holding an nkey seed (`SU...`). */
  nkeyFile?: string;
  /** Path of a `.creds` file (JWT + seed). */
  credsFile?: string;
  /** Path of the PEM CA that signed the server's certificate. */
  tlsCaFile?: string;
  /** `tls://` or `?tlsca=`: the connection must be TLS. */
  tls: boolean;
}

/** The query parameters a NATS URL may carry. */
export const NATS_URL_PARAMS = ['tlsca', 'nkey', 'creds'] as const;

/** Parses one URL or a comma-separated list; throws `Error` with a message free of secrets on a bad entry. */
export function parseNatsClientUrl(urls: string): NatsClientTarget {
  const target: NatsClientTarget = { servers: [], tls: false };
  urls
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .forEach((entry, index) => {
      const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(entry);
      const u = new URL(hasScheme ? entry : `nats://${entry}`);
      target.servers.push(`${u.hostname}:${u.port || '4222'}`);
      if (index > 0) return;
      if (u.protocol === 'tls:') target.tls = true;
      const user = decodeURIComponent(u.username);
      const pass = decodeURIComponent(u.password);
      if (user && pass) Object.assign(target, { user, pass });
      else if (user) target.token = user;
      for (const key of u.searchParams.keys()) {
        if (!(NATS_URL_PARAMS as readonly string[]).includes(key)) throw new Error(`unknown NATS URL parameter "${key}" (allowed: ${NATS_URL_PARAMS.join(', ')})`);
      }
      const tlsca = u.searchParams.get('tlsca');
      const nkey = u.searchParams.get('nkey');
      const creds = u.searchParams.get('creds');
      if (tlsca) Object.assign(target, { tlsCaFile: tlsca, tls: true });
      if (nkey) target.nkeyFile = nkey;
      if (creds) target.credsFile = creds;
    });
  return target;
}

/** Adds `?name=value` parameters (CLI flags such as `--nats-tlsca`) to every URL of a list that lacks them. */
export function withNatsUrlParams(urls: string, params: Partial<Record<(typeof NATS_URL_PARAMS)[number], string>>): string {
  const given = Object.entries(params).filter((e): e is [string, string] => Boolean(e[1]));
  if (given.length === 0) return urls;
  return urls
    .split(',')
    .map((s) => s.trim())
    .map((entry) => {
      const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(entry);
      const u = new URL(hasScheme ? entry : `nats://${entry}`);
      for (const [k, v] of given) if (!u.searchParams.has(k)) u.searchParams.set(k, v);
      return u.toString().replace(/\/\?/, '?').replace(/\/$/, '');
    })
    .join(',');
}
