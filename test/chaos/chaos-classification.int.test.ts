/**
 * What a client is told when its append ends in a fault after the server may already have stored it: the
 * adapters must say "outcome unknown" (the checker's `info`), never "nothing written" (`fail`), or the
 * chaos verdict shows it as `failedButStored`.
 *
 * PostgreSQL: `pg_terminate_backend` of a session whose commit is already durable locally. The one place
 * PostgreSQL terminates a backend after its commit record is flushed is the wait for a synchronous
 * standby (SyncRepWaitForLSN: "The transaction has already committed locally"); a standby that never
 * comes (`synchronous_standby_names = 'ghost'`, on a server of this test's own) holds the append there.
 * There PostgreSQL stops writing to the client before it ends the session (whereToSendOutput = DestNone),
 * so the client sees a lost connection, not SQLSTATE 57P01: a 57P01 ErrorResponse only reaches a client
 * whose statement was cut off before its commit (nothing written), which is what StoreUnavailableError says.
 *
 * JetStream: a publish whose message the server stored, whose acknowledgement never arrived, and whose
 * connection was then reset. nats.js keeps the request across the reconnect and it times out (or, if
 * the connection closes for good, fails with RequestError "connection closed"); ClosedConnectionError and
 * ConnectionError come only from a publish on an already closed connection or from connecting, when
 * nothing was sent.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutcomeUnknownError, StoreUnavailableError } from '../../src/core/event-store.ts';
import { createFaultProxy, proxiedUrl } from '../../src/infra/fault-proxy.ts';
import { terminateBackends } from '../../src/infra/fault-proxy/terminate-backends.ts';
import { startManagedPostgres } from '../../src/infra/managed-postgres.ts';
import type { ServerHandle } from '../../src/infra/server-handle.ts';
import { waitFor } from '../../src/infra/process-registry.ts';
import { classifyAppendError } from '../../src/runners/chaos/clients.ts';
import { createStore } from '../../src/store/index.ts';
import { testNatsUrl, uniqueName } from '../support/servers.ts';
import { deleteStreams } from '../jetstream/helpers.ts';

/** Whether a commit now waits for the synchronous standby: a probe insert into `sync_probe` waits (then is cancelled) or not. */
async function commitWaitsForStandby(url: string, admin: pg.Client): Promise<boolean> {
  const probe = new pg.Client({ connectionString: url });
  await probe.connect();
  try {
    const pid = (await probe.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    let settled = false;
    // A transaction that wrote WAL commits with a wait for the standby (one that only took an xid does not).
    const done = probe.query('INSERT INTO sync_probe VALUES (1)').finally(() => (settled = true));
    const inSyncRep = async () => (await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'SyncRep'", [pid])).rowCount === 1;
    await waitFor(async () => settled || (await inSyncRep()), 5_000, 10);
    const waits = !settled && (await inSyncRep());
    // Cancelling the wait leaves the probe's commit committed locally (with a warning).
    if (waits) await admin.query('SELECT pg_cancel_backend($1)', [pid]);
    await done.catch(() => {});
    return waits;
  } finally {
    await probe.end().catch(() => {});
  }
}

describe('postgres: pg_terminate_backend after a local commit', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startManagedPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('is an unknown outcome (info) for the client, and the event is stored', async () => {
    const app = uniqueName('app');
    const namespace = uniqueName('cls');
    const store = await createStore('postgres', { pgUrl: `${server.url}?application_name=${app}`, namespace });
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      await admin.query('CREATE TABLE sync_probe (x int)');
      await admin.query("ALTER SYSTEM SET synchronous_standby_names = 'ghost'");
      await admin.query('SELECT pg_reload_conf()');
      expect(await waitFor(async () => (await admin.query('SHOW synchronous_standby_names')).rows[0].synchronous_standby_names === 'ghost', 5_000)).toBe(true);
      // A commit waits for a standby only once the checkpointer has loaded the setting too (it tells the
      // backends that a synchronous standby is defined), which can come after SHOW says 'ghost': under a
      // loaded full test run the append then committed without waiting. Probe until a commit waits.
      expect(await waitFor(() => commitWaitsForStandby(server.url, admin), 10_000, 50)).toBe(true);

      const outcome = store.appendToStream('acct-1', [{ id: 'e1', type: 'chaos.written', data: {} }], { expectedVersion: 'no_stream' }).then(
        () => undefined,
        (err: unknown) => err,
      );
      // The commit is local and the backend waits for the standby.
      const waiting = async () => (await admin.query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event = 'SyncRep'", [app])).rowCount === 1;
      expect(await waitFor(waiting, 10_000)).toBe(true);
      expect(await terminateBackends(server.url, { applicationName: app })).toHaveLength(1);

      const err = await outcome;
      expect(err).toBeInstanceOf(OutcomeUnknownError);
      expect(err).not.toBeInstanceOf(StoreUnavailableError);
      expect(classifyAppendError(err).type).toBe('info');
      const { rows } = await admin.query(`SELECT event_id FROM "${namespace}".events`);
      expect(rows).toEqual([{ event_id: 'e1' }]);
    } finally {
      await admin.query('ALTER SYSTEM RESET synchronous_standby_names').catch(() => {});
      await admin.query('SELECT pg_reload_conf()').catch(() => {});
      await admin.end();
      await store.close();
    }
  }, 60_000);
});

describe('jetstream: connection reset while a stored publish waits for its acknowledgement', () => {
  it('is an unknown outcome (info) for the client, and the event is stored', async () => {
    const namespace = uniqueName('cls');
    const upstream = new URL(testNatsUrl());
    const proxy = await createFaultProxy({ upstream: { host: upstream.hostname, port: Number(upstream.port) } });
    const store = await createStore('jetstream', { natsUrl: proxiedUrl(testNatsUrl(), proxy), namespace, settings: { publishTimeoutMs: 2_000 } });
    const direct = await createStore('jetstream', { natsUrl: testNatsUrl(), namespace });
    try {
      await store.appendToStream('acct-1', [{ id: 'e1', type: 'chaos.written', data: {} }], { expectedVersion: 'no_stream' });
      await proxy.add({ type: 'timeout', stream: 'downstream' }); // the server's answers are held
      const outcome = store.appendToStream('acct-1', [{ id: 'e2', type: 'chaos.written', data: {} }], { expectedVersion: 1 }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(await waitFor(async () => (await direct.readStream('acct-1')).some((e) => e.id === 'e2'), 10_000)).toBe(true);
      await proxy.setToxics([{ type: 'reset_peer' }]);
      await proxy.heal();
      const err = await outcome;
      expect(err).toBeInstanceOf(OutcomeUnknownError);
      expect(classifyAppendError(err).type).toBe('info');
    } finally {
      await store.close();
      await direct.close();
      await proxy.close();
      await deleteStreams(testNatsUrl(), `${namespace}-`);
    }
  }, 30_000);
});
