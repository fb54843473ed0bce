/**
 * The managed PostgreSQL primary with a synchronous standby: the standby receives the primary's WAL, and a
 * commit waits for it: with the standby stopped, a commit blocks until the standby is back.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManagedPostgresWithStandby, standbyStates, STANDBY_NAME, type PostgresStandbyPair } from '../../src/infra/managed-postgres-standby.ts';
import { waitFor } from '../../src/infra/process-registry.ts';
import { uniqueName } from '../support/servers.ts';

let pair: PostgresStandbyPair;

beforeAll(async () => {
  pair = await startManagedPostgresWithStandby();
}, 60_000);

afterAll(async () => {
  await pair?.stop();
}, 30_000);

async function client(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  return c;
}

describe('managed PostgreSQL with a synchronous standby', () => {
  it('streams to the standby, which the primary counts as synchronous, and the standby has the rows', async () => {
    const states = await standbyStates(pair.url);
    expect(states).toEqual([expect.objectContaining({ name: STANDBY_NAME, state: 'streaming', syncState: 'sync' })]);
    const table = uniqueName('wal');
    const primary = await client(pair.primary.url);
    const standby = await client(pair.standby.url);
    try {
      await primary.query(`create table ${table} (n int)`);
      await primary.query(`insert into ${table} select generate_series(1, 100)`);
      // remote_apply is not asked for (synchronous_commit=on waits for the flush), so replay may trail a little.
      expect(await waitFor(async () => (await standby.query(`select count(*)::int as n from ${table}`).catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n === 100, 10_000, 50)).toBe(true);
      expect((await standby.query('select pg_is_in_recovery() as r')).rows[0].r).toBe(true);
    } finally {
      await primary.end();
      await standby.end();
    }
  });

  it('a commit blocks while the standby is down and completes once it is back', async () => {
    const table = uniqueName('sync');
    const primary = await client(pair.primary.url);
    try {
      await primary.query(`create table ${table} (n int)`);
      await pair.standby.kill();
      const started = Date.now();
      let committedAt: number | undefined;
      const commit = primary.query(`insert into ${table} values (1)`).then(() => (committedAt = Date.now()));
      // Bounded: the commit must still be waiting after 1.5 s with no standby.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(committedAt).toBeUndefined();
      await pair.standby.restart();
      await commit;
      expect(committedAt! - started).toBeGreaterThanOrEqual(1_500);
      expect(await waitFor(async () => (await standbyStates(pair.url)).some((s) => s.syncState === 'sync' && s.state === 'streaming'), 20_000, 100)).toBe(true);
    } finally {
      await primary.end();
    }
  }, 40_000);

  it('pg_promote() makes the standby a primary that takes writes', async () => {
    await pair.promote();
    const promoted = await client(pair.standby.url);
    try {
      expect((await promoted.query('select pg_is_in_recovery() as r')).rows[0].r).toBe(false);
      const table = uniqueName('promoted');
      await promoted.query(`create table ${table} (n int)`);
      await promoted.query(`insert into ${table} values (1)`);
    } finally {
      await promoted.end();
    }
  }, 40_000);
});
