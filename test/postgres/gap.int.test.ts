/**
 * The sequence-gap problem: two concurrent writers where the LOWER global position commits AFTER the
 * higher one. A naive `position > checkpoint` poller sees the higher one first, moves its checkpoint past
 * the lower one and never sees it. The adapter's subscription (transaction_id < snapshot xmin, walked in
 * (transaction_id, position) order) delivers both.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NewEvent, RecordedEvent } from '../../src/core/event-store.ts';
import { appendOnClient, createPostgresStore, POSTGRES_MAX_EVENT_BYTES, type PostgresStore } from '../../src/store/postgres/index.ts';
import { waitFor } from '../contract/event-store-contract.ts';
import { testPgUrl, uniqueName } from '../support/servers.ts';
import { dropSchema } from './helpers.ts';

const schema = uniqueName('pgg');
let store: PostgresStore;

beforeAll(async () => {
  store = await createPostgresStore({ pgUrl: testPgUrl(), schema, pollIntervalMs: 50 });
  await store.init();
});

afterAll(async () => {
  await store?.close();
  await dropSchema(schema);
});

const ev = (id: string): NewEvent => ({ id, type: 'gap.tested', data: { id } });

/** What many hand-written pollers do: `WHERE position > checkpoint ORDER BY position`, checkpoint = last seen. */
function naivePoller(client: pg.Client) {
  let checkpoint = 0;
  const seen: string[] = [];
  return {
    seen,
    async poll(): Promise<void> {
      const { rows } = await client.query<{ position: string; event_id: string }>(
        `SELECT position, event_id FROM "${schema}".events WHERE category = 'gap' AND position > $1 ORDER BY position`,
        [checkpoint],
      );
      for (const r of rows) {
        seen.push(r.event_id);
        checkpoint = Number(r.position);
      }
    },
  };
}

it('delivers an event whose lower position commits after a higher one; a naive position poller misses it', async () => {
  const delivered: RecordedEvent[] = [];
  const sub = await store.subscribe('gap-reader', (e) => void delivered.push(e), { category: 'gap' });
  const slow = new pg.Client({ connectionString: testPgUrl() });
  const reader = new pg.Client({ connectionString: testPgUrl() });
  await slow.connect();
  await reader.connect();
  try {
    const naive = naivePoller(reader);
    // Writer 1 takes the lower position inside a transaction it keeps open (the adapter's own append statement).
    await slow.query('BEGIN');
    const low = await appendOnClient(slow, { schema, maxEventBytes: POSTGRES_MAX_EVENT_BYTES, outbox: true }, 'gap-low', [ev('low')], 'no_stream');
    // Writer 2 takes a higher position and commits first.
    const high = await store.appendToStream('gap-high', [ev('high')], { expectedVersion: 'no_stream' });
    expect(low.positions[0]!).toBeLessThan(high.positions[0]!);

    await naive.poll();
    expect(naive.seen).toEqual(['high']);
    // While writer 1 is open the subscription must not move past it. Absence cannot be awaited: give it
    // several poll rounds (50 ms each, plus the NOTIFY of writer 2's commit) to go wrong.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(delivered.map((e) => e.id)).toEqual([]);

    await slow.query('COMMIT');
    await naive.poll();
    // The naive poller's checkpoint is already past 'low': it is lost for good.
    expect(naive.seen).toEqual(['high']);

    await waitFor('subscription delivers both events', () => delivered.length >= 2, 10_000);
    expect(delivered.map((e) => e.id)).toEqual(['low', 'high']);
    expect(delivered.map((e) => e.position)).toEqual([low.positions[0], high.positions[0]]);
  } finally {
    await slow.end();
    await reader.end();
    await sub.close();
  }
});
