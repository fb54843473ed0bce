/**
 * event_log (the audit trail of docs/case-processing.md §The PostgreSQL side) is a view: failures and
 * dead letters are rows of their own, successes are logged one range per acknowledgement (sql/002). The
 * view must give back exactly what a table with one row per outcome would hold: attempts of events that
 * needed several deliveries, no success for a dead-lettered event, nothing of another category that falls
 * inside a range, one row per success.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPostgresStore, type PostgresStore } from '../../src/store/postgres/index.ts';
import { waitFor } from '../contract/event-store-contract.ts';
import { testPgUrl, uniqueName } from '../support/servers.ts';
import { dropSchema, withClient } from './helpers.ts';

const schema = uniqueName('pgl');
let store: PostgresStore;

beforeAll(async () => {
  store = await createPostgresStore({ pgUrl: testPgUrl(), schema, pollIntervalMs: 100 });
  await store.init();
});

afterAll(async () => {
  await store?.close();
  await dropSchema(schema);
});

it('event_log shows every outcome once: retried successes with their attempts, dead letters without a success, other categories left out', async () => {
  // Interleaved with another category, so that the audited ranges span events that are not the subscription's.
  for (let i = 1; i <= 9; i++) {
    await store.appendToStream('audited-1', [{ id: `a${i}`, type: 'audit.tested', data: { i } }], { expectedVersion: i === 1 ? 'no_stream' : i - 1 });
    await store.appendToStream('other-1', [{ id: `o${i}`, type: 'audit.tested', data: { i } }], { expectedVersion: i === 1 ? 'no_stream' : i - 1 });
  }
  const calls = new Map<string, number>();
  const sub = await store.subscribe(
    'audit',
    (e) => {
      const n = (calls.get(e.id) ?? 0) + 1;
      calls.set(e.id, n);
      if (e.id === 'a2' && n === 1) throw new Error('first delivery of a2 fails');
      if (e.id === 'a5' && n < 3) throw new Error(`delivery ${n} of a5 fails`);
      if (e.id === 'a7') throw new Error('a7 always fails');
    },
    // Pages of 2: acknowledgements cover several pages and end inside a claim.
    { category: 'audited', batchSize: 2, maxDeliver: 3, backoffMs: [10] },
  );
  try {
    await waitFor('all acknowledged', async () => (await sub.lag()) === 0, 20_000);
  } finally {
    await sub.close();
  }

  const log = await withClient(
    async (c) =>
      (
        await c.query<{ event_id: string; outcome: string; attempts: number; error: string | null }>(
          `SELECT event_id, outcome, attempts, error FROM "${schema}".event_log WHERE subscription = 'audit' ORDER BY position, attempts, outcome`,
        )
      ).rows,
  );
  const success = (id: string, attempts = 1) => ({ event_id: id, outcome: 'success', attempts, error: null });
  const failed = (id: string, attempts: number, error: string) => ({ event_id: id, outcome: 'failed', attempts, error });
  expect(log).toEqual([
    success('a1'),
    failed('a2', 1, 'first delivery of a2 fails'),
    success('a2', 2),
    success('a3'),
    success('a4'),
    failed('a5', 1, 'delivery 1 of a5 fails'),
    failed('a5', 2, 'delivery 2 of a5 fails'),
    success('a5', 3),
    success('a6'),
    failed('a7', 1, 'a7 always fails'),
    failed('a7', 2, 'a7 always fails'),
    { event_id: 'a7', outcome: 'dead', attempts: 3, error: 'a7 always fails' },
    success('a8'),
    success('a9'),
  ]);

  // The idempotent consumer's question (docs/outbox.md §Idempotent consumers), by event id: handled by
  // this subscription?
  const outcomes = await withClient(
    async (c) => (await c.query(`SELECT event_id, outcome FROM "${schema}".event_log WHERE subscription = 'audit' AND event_id IN ('a3', 'o3') `)).rows,
  );
  expect(outcomes).toEqual([{ event_id: 'a3', outcome: 'success' }]);
});
