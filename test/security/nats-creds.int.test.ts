/**
 * A `.creds` file (user JWT + nkey seed), as decentralised-auth NATS deployments (operator mode) hand
 * out: `?creds=<file>` on the NATS URL and `--nats-creds <file>` reach nats.js's credentials
 * authenticator. The test makes an operator, a system account, a JetStream-enabled account and a user
 * for the run (@nats-io/jwt, @nats-io/nkeys), runs a managed nats-server 2.9 with them preloaded
 * (`resolver: MEMORY`), and uses the JetStream store and the CLI as that user.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeAccount, encodeOperator, encodeUser, fmtCreds } from '@nats-io/jwt';
import { createAccount, createOperator, createUser } from '@nats-io/nkeys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/core/event-store.ts';
import { findNatsServer } from '../../src/infra/managed-nats.ts';
import { freePort, startManagedProcess } from '../../src/infra/managed-process.ts';
import { createOwnedDir } from '../../src/infra/owned-dir.ts';
import type { ServerHandle } from '../../src/infra/server-handle.ts';
import { createStore } from '../../src/store/index.ts';
import { uniqueName } from '../support/servers.ts';

const run = promisify(execFile);
let server: ServerHandle;
let credsFile: string;
let otherCredsFile: string;

beforeAll(async () => {
  const bin = findNatsServer();
  if (!bin) throw new Error('nats-server not found: apt-get install nats-server');
  const operator = createOperator();
  const system = createAccount();
  const domain = createAccount();
  const stranger = createAccount(); // signed by nobody the server trusts
  const operatorJwt = await encodeOperator('eventbench-test', operator, { system_account: system.getPublicKey() });
  const systemJwt = await encodeAccount('SYS', system, {}, { signer: operator });
  const domainJwt = await encodeAccount('DOMAIN', domain, { limits: { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 } }, { signer: operator });
  const user = createUser();
  const outsider = createUser();
  const dir = createOwnedDir('eventbench-creds-test-');
  credsFile = join(dir.path, 'domain-user.creds');
  otherCredsFile = join(dir.path, 'outsider.creds');
  writeFileSync(credsFile, fmtCreds(await encodeUser('domain_user', user, domain), user), { mode: 0o600 });
  writeFileSync(otherCredsFile, fmtCreds(await encodeUser('outsider', outsider, stranger), outsider), { mode: 0o600 });
  const config = join(dir.path, 'server.conf');
  writeFileSync(
    config,
    [
      `operator: ${operatorJwt}`,
      `system_account: ${system.getPublicKey()}`,
      'resolver: MEMORY',
      `resolver_preload: {\n  ${system.getPublicKey()}: ${systemJwt}\n  ${domain.getPublicKey()}: ${domainJwt}\n}`,
    ].join('\n'),
  );
  const port = await freePort();
  const monitorPort = await freePort();
  const version = /v?(\d+\.\d+\.\d+)/.exec((await run(bin, ['--version'])).stdout)?.[1] ?? 'unknown';
  server = await startManagedProcess({
    kind: 'nats',
    source: bin,
    version,
    url: `nats://127.0.0.1:${port}`,
    port,
    dir,
    dataDir: join(dir.path, 'jetstream'),
    logFile: join(dir.path, 'server.log'),
    command: bin,
    args: ['-c', config, '-js', '-sd', join(dir.path, 'jetstream'), '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort)],
    stopSignal: 'SIGTERM',
    probe: async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${monitorPort}/healthz?js-enabled=true`, { signal: AbortSignal.timeout(1_000) });
        await res.body?.cancel();
        return res.ok;
      } catch {
        return false;
      }
    },
  });
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe('NATS credentials files (operator mode)', () => {
  it('?creds= on the URL: the JetStream store appends and reads as the creds user', async () => {
    const store = await createStore('jetstream', { namespace: uniqueName('creds'), natsUrl: `${server.url}?creds=${encodeURIComponent(credsFile)}` });
    try {
      await store.appendToStream('order-1', [{ id: 'c1', type: 'order.placed', data: { n: 1 } }], { expectedVersion: 'no_stream' });
      expect((await store.readStream('order-1')).map((e) => e.id)).toEqual(['c1']);
    } finally {
      await store.close();
    }
  });

  it('without creds, or with a user of an account the operator did not sign, the server refuses', async () => {
    for (const natsUrl of [server.url, `${server.url}?creds=${encodeURIComponent(otherCredsFile)}`]) {
      await expect(createStore('jetstream', { namespace: uniqueName('creds'), natsUrl })).rejects.toBeInstanceOf(StoreUnavailableError);
    }
  });

  it('--nats-creds on the CLI: a load run against the external server appends as the creds user', async () => {
    const { stdout } = await run(
      process.execPath,
      ['bin/eventbench.js', 'load', '--backend', 'jetstream', '--nats-url', server.url, '--nats-creds', credsFile, '--rate', '50/s', '--duration', '1s', '--namespace', uniqueName('credscli'), '--json'],
      { timeout: 60_000 },
    );
    const [jet] = (JSON.parse(stdout) as { backends: { backend: string; error: unknown; throughput: { appendsPerSec: number }; latency: { count: number } }[] }).backends;
    expect(jet).toMatchObject({ backend: 'jetstream', error: null });
    expect(jet!.latency.count).toBeGreaterThanOrEqual(40); // 50/s for 1 s, every append acknowledged
  }, 90_000);
});
