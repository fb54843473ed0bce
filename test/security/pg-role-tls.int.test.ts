/**
 * A managed PostgreSQL with `--pg-security role+tls` (docs/security.md): the harness's role is no
 * superuser and may not create roles, its connections are TLS (pg_stat_ssl) verified against the run's
 * CA, a plain connection and a wrong password are refused, and the EventStore contract passes unchanged
 * as that role over TLS: nothing the PostgreSQL adapter does needs a superuser.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManagedPostgres, type PostgresServerHandle } from '../../src/infra/managed-postgres.ts';
import { createPostgresStore, POSTGRES_CAPABILITIES } from '../../src/store/postgres/index.ts';
import { runEventStoreContract } from '../contract/event-store-contract.ts';
import { uniqueName } from '../support/servers.ts';

let server: PostgresServerHandle;
beforeAll(async () => {
  server = await startManagedPostgres({ security: 'role+tls' });
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The same URL with other credentials or TLS settings. */
function variant(change: (u: URL) => void): string {
  const u = new URL(server.url);
  change(u);
  return u.toString();
}

describe('managed PostgreSQL, security role+tls', () => {
  it('connects the harness as a role that is not a superuser and cannot create roles or databases', async () => {
    const security = server.security!;
    expect(security.role?.user).toBe('eventbench');
    expect(server.url).toContain('eventbench:');
    const [me] = await query<{ user: string; rolsuper: boolean; rolcreaterole: boolean; rolcreatedb: boolean; rolreplication: boolean; owner: string }>(
      server.url,
      `select current_user as user, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication,
              pg_get_userbyid(d.datdba) as owner
         from pg_roles r, pg_database d where r.rolname = current_user and d.datname = current_database()`,
    );
    expect(me).toEqual({ user: 'eventbench', rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false, owner: 'eventbench' });
    await expect(query(server.url, 'create role intruder')).rejects.toThrow(/permission denied/);
  });

  it('encrypts the connection (pg_stat_ssl) and verifies the server against the run CA', async () => {
    expect(server.url).toMatch(/sslmode=verify-full/);
    const [row] = await query<{ ssl: boolean; version: string }>(server.url, 'select ssl, version from pg_stat_ssl where pid = pg_backend_pid()');
    expect(row?.ssl).toBe(true);
    expect(row?.version).toMatch(/^TLS/);
  });

  it('refuses a connection without TLS and a wrong password', async () => {
    const plain = variant((u) => {
      u.searchParams.delete('sslrootcert');
      u.searchParams.set('sslmode', 'disable');
    });
    await expect(query(plain, 'select 1')).rejects.toThrow(/no pg_hba.conf entry|no encryption/);
    const wrong = variant((u) => (u.password = 'not-the-password'));
    await expect(query(wrong, 'select 1')).rejects.toThrow(/password authentication failed/);
  });

  it('refuses a server certificate the run CA did not sign', async () => {
    // No sslrootcert: the system CAs, which never signed this run's certificate.
    const untrusted = variant((u) => u.searchParams.delete('sslrootcert'));
    await expect(query(untrusted, 'select 1')).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });
});

const schema = uniqueName('pgsec');
runEventStoreContract(
  'postgres as a non-superuser role over TLS',
  { open: () => createPostgresStore({ pgUrl: server.url, schema, poolSize: 4 }) },
  POSTGRES_CAPABILITIES,
);
