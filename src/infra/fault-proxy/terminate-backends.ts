/**
 * PostgreSQL backend termination as a fault: `pg_terminate_backend` of the harness's own client sessions,
 * what a DBA's kill, a pooler's recycle or an idle-session timeout does to a client. In infra because it
 * speaks to the server with the driver (runners never load one). Here, next to the fault proxy, because
 * one way to tell the harness's sessions from others' is the proxy's server-side ports.
 */
import pg from 'pg';
import { ConfigError } from '../../core/event-store.ts';

/** Which sessions are the harness's own: by the application_name its URLs set, or by client port (through a proxy). */
export type SessionSelector = { applicationName: string } | { clientPorts: number[] };

/**
 * `pg_terminate_backend` of the harness's own client sessions on the server at `adminUrl`; never the
 * calling session, never a session that does not match. Resolves to the PIDs terminated.
 */
export async function terminateBackends(adminUrl: string, selector: SessionSelector): Promise<number[]> {
  if ('applicationName' in selector && !selector.applicationName) throw new ConfigError('terminateBackends: an empty application_name would match sessions that are not ours');
  if ('clientPorts' in selector && selector.clientPorts.length === 0) return [];
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'eventbench-nemesis', connectionTimeoutMillis: 5_000, query_timeout: 10_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    const where =
      'applicationName' in selector
        ? { sql: 'application_name = $1', params: [selector.applicationName] }
        : { sql: "client_port = any($1::int[]) and client_addr in ('127.0.0.1', '::1')", params: [selector.clientPorts] };
    const { rows } = await client.query<{ pid: number; terminated: boolean }>(
      `select pid, pg_terminate_backend(pid) as terminated from pg_stat_activity
        where backend_type = 'client backend' and pid <> pg_backend_pid() and ${where.sql}`,
      where.params,
    );
    return rows.filter((r) => r.terminated).map((r) => r.pid);
  } finally {
    await client.end().catch(() => {});
  }
}
