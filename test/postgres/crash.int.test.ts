/**
 * A consumer process killed with SIGKILL in the middle of a batch. What the adapter guarantees (see
 * src/store/postgres/subscription.ts): a batch's acknowledgement and its `success` rows in event_log are
 * one statement, so the first batch (acknowledged before the kill) is not redelivered; the second batch's
 * claim expires after ack wait and a new consumer gets the whole range again, so nothing is lost; events of
 * that batch the dead process had already handled run again (at-least-once) but event_log holds exactly
 * one `success` row per event (an acknowledgement counts only under the claim's current lease).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NewEvent } from '../../src/core/event-store.ts';
import { createPostgresStore, type PostgresStore } from '../../src/store/postgres/index.ts';
import { waitFor } from '../contract/event-store-contract.ts';
import { testPgUrl, uniqueName } from '../support/servers.ts';
import { dropSchema, withClient } from './helpers.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/pg-crash-subscriber.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const schema = uniqueName('pgk');
let store: PostgresStore;
let child: ChildProcess | undefined;

beforeAll(async () => {
  store = await createPostgresStore({ pgUrl: testPgUrl(), schema, pollIntervalMs: 100 });
  await store.init();
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await store?.close();
  await dropSchema(schema);
});

it('a subscriber SIGKILLed mid-batch: the next one resumes at the checkpoint, nothing lost, one success row per event', async () => {
  const ids = Array.from({ length: 40 }, (_, i) => `k${i + 1}`);
  for (let i = 0; i < ids.length; i += 10) {
    const events: NewEvent[] = ids.slice(i, i + 10).map((id) => ({ id, type: 'crash.tested', data: { id } }));
    await store.appendToStream(`crash-${i / 10}`, events, { expectedVersion: 'no_stream' });
  }

  // Batches of 10: k1..k10 are acknowledged, then the process hangs on k15 (k11..k14 handled, not acked).
  child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, testPgUrl(), schema, 'crashy', '10', '1000', 'k15'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const handledByChild: string[] = [];
  let stuck = false;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const [what, id] = line.split(' ');
    if (what === 'handled') handledByChild.push(id!);
    if (what === 'stuck') stuck = true;
  });
  await waitFor('child stuck in the middle of its second batch', () => stuck, 30_000);
  // The first batch's acknowledgement is pipelined with the next claim: wait until it is committed.
  const successRows = () =>
    withClient(async (c) => (await c.query(`SELECT event_id FROM "${schema}".event_log WHERE subscription = 'crashy' AND outcome = 'success'`)).rows.map((r) => r.event_id as string));
  await waitFor('first batch acknowledged', async () => (await successRows()).length === 10, 10_000);
  const exited = new Promise((resolve) => child!.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  expect(handledByChild).toEqual(ids.slice(0, 14));

  const handledAfter: string[] = [];
  const sub = await store.subscribe('crashy', (e) => void handledAfter.push(e.id), { batchSize: 10, ackWaitMs: 1000 });
  try {
    await waitFor('the rest delivered after the dead claim expired', () => handledAfter.length >= 30, 20_000);
    await waitFor('all acknowledged', async () => (await sub.lag()) === 0, 10_000);
  } finally {
    await sub.close();
  }
  // Resumed at the checkpoint: nothing of the acknowledged first batch again, everything after it.
  expect([...handledAfter].sort()).toEqual(ids.slice(10).sort());
  // The dead batch comes back whole and in order once its claim expires (new events may come first).
  const redelivered = handledAfter.filter((id) => ids.slice(10, 20).includes(id));
  expect(redelivered).toEqual(ids.slice(10, 20));

  const log = await withClient(
    async (c) =>
      (
        await c.query<{ event_id: string; n: number }>(
          `SELECT event_id, count(*)::int AS n FROM "${schema}".event_log WHERE subscription = 'crashy' AND outcome = 'success' GROUP BY event_id`,
        )
      ).rows,
  );
  expect(log.map((r) => r.event_id).sort()).toEqual([...ids].sort());
  expect(log.filter((r) => r.n !== 1)).toEqual([]);
});

it('a batch redelivered after ack wait while its first consumer was still busy: both finish, one success row per event', async () => {
  const ids = ['w1', 'w2', 'w3'];
  await store.appendToStream('slowpoke-1', ids.map((id) => ({ id, type: 'crash.tested', data: {} })), { expectedVersion: 'no_stream' });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const slow: string[] = [];
  const fast: string[] = [];
  let held = false;
  const a = await store.subscribe(
    'slowpoke',
    async (e) => {
      if (e.id === 'w1') {
        held = true;
        await gate; // outlives the 300 ms ack wait
      }
      slow.push(e.id);
    },
    { ackWaitMs: 300, category: 'slowpoke' },
  );
  // (lag() would not do: it counts events not yet claimed as well.)
  await waitFor('first consumer holds the batch', () => held);
  const b = await store.subscribe('slowpoke', (e) => void fast.push(e.id), { ackWaitMs: 300, category: 'slowpoke' });
  try {
    await waitFor('second consumer got the expired batch', () => fast.length === 3, 10_000);
    await waitFor('acknowledged by the second consumer', async () => (await b.lag()) === 0);
    release();
    await waitFor('first consumer finished too', () => slow.length === 3, 10_000);
  } finally {
    await a.close();
    await b.close();
  }
  const rows = await withClient(
    async (c) =>
      (await c.query(`SELECT event_id, count(*)::int AS n FROM "${schema}".event_log WHERE subscription = 'slowpoke' AND outcome = 'success' GROUP BY 1 ORDER BY 1`))
        .rows,
  );
  expect(rows).toEqual(ids.map((id) => ({ event_id: id, n: 1 })));
});

it('a consumer whose batch was handed out again cannot give part of it back: its done prefix is logged once, by the new holder', async () => {
  const ids = ['s1', 's2', 's3'];
  await store.appendToStream('stale-1', ids.map((id) => ({ id, type: 'crash.tested', data: {} })), { expectedVersion: 'no_stream' });
  let releaseA!: () => void;
  const gateA = new Promise<void>((resolve) => (releaseA = resolve));
  let releaseB!: () => void;
  const gateB = new Promise<void>((resolve) => (releaseB = resolve));
  const seenA: string[] = [];
  const seenB: string[] = [];
  // A handles s1, then hangs on s2 past the ack wait: the batch is handed out to B.
  const a = await store.subscribe(
    'stale',
    async (e) => {
      seenA.push(e.id);
      if (e.id === 's2') await gateA;
    },
    { ackWaitMs: 300, closeTimeoutMs: 100, category: 'stale' },
  );
  let b: Awaited<ReturnType<typeof store.subscribe>> | undefined;
  try {
    await waitFor('A is stuck on s2', () => seenA.includes('s2'));
    b = await store.subscribe(
      'stale',
      async (e) => {
        seenB.push(e.id);
        if (e.id === 's1') await gateB;
      },
      { ackWaitMs: 10_000, category: 'stale' },
    );
    await waitFor('B holds the redelivered batch', () => seenB.includes('s1'), 10_000);
    // A gives up (close timeout) and tries to give back its done prefix (s1) under a lease B now holds.
    await a.close();
    releaseB();
    await waitFor('B acknowledged the batch', async () => (await b!.lag()) === 0, 10_000);
  } finally {
    releaseA();
    releaseB();
    await a.close();
    await b?.close();
  }
  const rows = await withClient(
    async (c) =>
      (await c.query(`SELECT event_id, count(*)::int AS n FROM "${schema}".event_log WHERE subscription = 'stale' AND outcome = 'success' GROUP BY 1 ORDER BY 1`))
        .rows,
  );
  expect(rows).toEqual(ids.map((id) => ({ event_id: id, n: 1 })));
});
