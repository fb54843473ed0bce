/**
 * A subscription outlives a server outage that hits it in the middle of a retry: the failed delivery
 * cannot be logged (server gone), the batch is given back or left to expire, and once the server is back
 * the subscription carries on. Its own managed server (not the shared one from global setup): this test
 * kills it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ServerHandle } from '../../src/infra/index.ts';
import { startManagedPostgres } from '../../src/infra/managed-postgres.ts';
import { createPostgresStore, type PostgresStore } from '../../src/store/postgres/index.ts';
import { waitFor } from '../contract/event-store-contract.ts';
import { uniqueName } from '../support/servers.ts';

let server: ServerHandle;
let store: PostgresStore;

beforeAll(async () => {
  server = await startManagedPostgres();
  store = await createPostgresStore({ pgUrl: server.url, schema: uniqueName('pgo'), pollIntervalMs: 100, connectTimeoutMs: 1_000 });
  await store.init();
}, 60_000);

afterAll(async () => {
  await store?.close();
  await server?.stop();
});

it('a handler failing while the server goes down and comes back: the subscription keeps going and delivers', async () => {
  await store.appendToStream('outage-1', [{ id: 'o1', type: 'outage.tested', data: {} }], { expectedVersion: 'no_stream' });
  let failing = true;
  const attempts: number[] = [];
  let delivered = false;
  const sub = await store.subscribe(
    'outage',
    (_e, ctx) => {
      attempts.push(ctx.attempt);
      if (failing) throw new Error('not yet');
      delivered = true;
    },
    { backoffMs: [300], maxDeliver: 1000, ackWaitMs: 2_000 },
  );
  try {
    // Logged, so that the kill below hits the retry, not the first failure's own log write.
    await waitFor('a first failed delivery, logged', async () => {
      const { rows } = await store.pool.query(`SELECT count(*)::int AS n FROM "${store.schema}".event_log WHERE outcome = 'failed'`);
      return attempts.length >= 1 && rows[0].n >= 1;
    });
    // The failure of the next delivery cannot be logged: the server is gone.
    await server.kill();
    await waitFor('a delivery while the server is down', () => attempts.length >= 2, 10_000);
    await server.restart();
    failing = false;
    await waitFor('delivered once the server is back', () => delivered, 20_000);
    await waitFor('acknowledged', async () => (await sub.lag()) === 0, 10_000);
  } finally {
    await sub.close();
  }
  expect(delivered).toBe(true);
}, 60_000);
