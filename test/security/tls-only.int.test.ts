/**
 * TLS without accounts or roles (docs/security.md): `--nats-security tls` refuses a client that does not
 * speak TLS and accepts the harness over TLS; `--pg-security tls` accepts only TLS connections
 * (`hostssl`), verified against the run's CA.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManagedNats, type NatsServerHandle } from '../../src/infra/managed-nats.ts';
import { startManagedPostgres, type PostgresServerHandle } from '../../src/infra/managed-postgres.ts';
import { connectNats } from '../../src/store/jetstream/connection.ts';
import { testNatsUrl } from '../support/servers.ts';
import { plainConnectAndPing } from './plain-nats.ts';

let nats: NatsServerHandle;
let postgres: PostgresServerHandle;
beforeAll(async () => {
  [nats, postgres] = await Promise.all([startManagedNats({ security: 'tls' }), startManagedPostgres({ security: 'tls' })]);
}, 120_000);
afterAll(async () => {
  await Promise.allSettled([nats?.stop(), postgres?.stop()]);
});

async function sslOf(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.query<{ ssl: boolean }>('select ssl from pg_stat_ssl where pid = pg_backend_pid()')).rows[0]!.ssl;
  } finally {
    await client.end().catch(() => {});
  }
}

describe('TLS-only managed servers', () => {
  it('nats-server: a plain client gets no PONG, the harness connects over TLS', async () => {
    expect(nats.url).toMatch(/^tls:\/\/127\.0\.0\.1:\d+\?tlsca=/);
    // The same client against the test suite's server without TLS gets its PONG: the probe itself works.
    expect(await plainConnectAndPing(Number(new URL(testNatsUrl()).port))).toMatch(/PONG/);
    const said = await plainConnectAndPing(nats.port);
    expect(said).toMatch(/"tls_required":true/);
    expect(said).not.toMatch(/PONG/);
    const nc = await connectNats(nats.url, 'tls-only-test');
    try {
      expect((await (await jetstreamManager(nc)).getAccountInfo()).streams).toBeGreaterThanOrEqual(0);
    } finally {
      await nc.close();
    }
  });

  it('PostgreSQL: TLS connections only, as postgres', async () => {
    expect(postgres.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres\?sslmode=verify-full&sslrootcert=/);
    expect(await sslOf(postgres.url)).toBe(true);
    const plain = new URL(postgres.url);
    plain.search = '?sslmode=disable';
    await expect(sslOf(plain.toString())).rejects.toThrow(/no pg_hba.conf entry.*no encryption/);
  });
});
