/**
 * Certificates made for one run: a CA and a server certificate for 127.0.0.1 / localhost, signed by it,
 * with Debian's `openssl` CLI (P-256 keys, valid 2 days). They live in the managed server's owned temp
 * directory and go with it. Clients trust the CA (`?tlsca=` on a NATS URL, `sslrootcert=` on a
 * PostgreSQL URL) and check the server's name against the certificate (verify-full).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../core/event-store.ts';

export interface RunCertificates {
  /** PEM of the run's CA: what clients trust. */
  caFile: string;
  /** The server's certificate (SAN IP:127.0.0.1, DNS:localhost) and its private key (mode 600). */
  certFile: string;
  keyFile: string;
}

/** Writes the CA and server certificate into `<dir>/tls`; `owner` (PostgreSQL run as another user) gets the files. */
export function makeRunCertificates(dir: string, owner?: { uid: number; gid: number }): RunCertificates {
  const tlsDir = join(dir, 'tls');
  mkdirSync(tlsDir, { mode: 0o700 });
  const f = (name: string) => join(tlsDir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  try {
    openssl(['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=eventbench run CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    openssl(['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
    openssl(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('server.ext')]);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new ConfigError('openssl not found (needed for the run\'s TLS certificates): apt-get install openssl', { cause: err });
    throw new ConfigError(`openssl failed making the run's certificates: ${String(e.stderr ?? e.message).trim().split('\n').slice(-1)[0]}`, { cause: err });
  }
  for (const name of ['ca.key', 'server.key']) chmodSync(f(name), 0o600);
  chmodSync(f('ca.pem'), 0o644);
  chmodSync(f('server.pem'), 0o644);
  if (owner) {
    // PostgreSQL reads its key as its own user and refuses a key others may read.
    chmodSync(tlsDir, 0o755);
    for (const name of ['server.key', 'server.pem', 'ca.pem']) chownSync(f(name), owner.uid, owner.gid);
  }
  return { caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server.key') };
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}
