/**
 * The logical-decoding relay (docs/hybrid.md §Relay modes) on a PostgreSQL of its own with wal_level=logical:
 * events committed before the relay started (drained from the outbox) and after (decoded from the slot)
 * reach the consumer once each, in commit order per stream; the slot exists while the relay runs and is
 * dropped when it stops; on a server without logical decoding the mode is refused with one clear line.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConfigError, type RecordedEvent } from '../../src/core/event-store.ts';
import { LOGICAL_DECODING_SETTINGS, startManagedPostgres } from '../../src/infra/managed-postgres.ts';
import type { ServerHandle } from '../../src/infra/server-handle.ts';
import { hybridDescriptor } from '../../src/store/hybrid/descriptor.ts';
import { createHybridStore, type HybridStore } from '../../src/store/hybrid/index.ts';
import { slotName } from '../../src/store/hybrid/logical-relay.ts';
import { waitFor } from '../contract/event-store-contract.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';
import { deleteStreams } from '../jetstream/helpers.ts';

let server: ServerHandle;
const ns = uniqueName('hyl');

beforeAll(async () => {
  server = await startManagedPostgres({ settings: LOGICAL_DECODING_SETTINGS });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await deleteStreams(testNatsUrl(), `${ns}-`);
});

async function slots(): Promise<{ slot_name: string; active: boolean }[]> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    return (await client.query('SELECT slot_name, active FROM pg_replication_slots')).rows;
  } finally {
    await client.end();
  }
}

const open = async (url: string, relay: 'logical' | 'none'): Promise<HybridStore> =>
  createHybridStore({ pgUrl: url, natsUrl: testNatsUrl(), namespace: ns, settings: hybridDescriptor.parseSettings({ relay }) });

it('relays what was committed before it started and what is committed after, once each; creates and drops its slot', async () => {
  // Before any relay: only the outbox knows these.
  const writer = await open(server.url, 'none');
  await writer.init();
  for (let i = 0; i < 5; i++) await writer.appendToStream(`early-${i}`, [{ id: `e${i}`, type: 'cdc.tested', data: { i } }]);

  const store = await open(server.url, 'logical');
  const seen: RecordedEvent[] = [];
  try {
    await store.init();
    const sub = await store.subscribe(uniqueName('cdc'), (e) => void seen.push(e), { ackWaitMs: 2_000 });
    await waitFor('the slot active', async () => (await slots()).some((s) => s.slot_name === slotName(ns) && s.active), 15_000);
    // After: single appends, a multi-event transaction, and concurrent writers on several streams.
    await store.appendToStream('late-a', [{ id: 'l1', type: 'cdc.tested', data: {} }]);
    await store.appendToStream('late-a', [2, 3, 4].map((n) => ({ id: `l${n}`, type: 'cdc.tested', data: { n } })), { expectedVersion: 1 });
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; i < 10; i++) await writer.appendToStream(`late-w${w}`, [{ id: `w${w}_${i}`, type: 'cdc.tested', data: { w, i } }]);
      }),
    );
    const expected = 5 + 4 + 80;
    await waitFor('every event delivered', () => new Set(seen.map((e) => e.id)).size === expected, 20_000);
    await waitFor('outbox marked published', async () => (await store.relayLag()).pending === 0, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toHaveLength(expected);
    // Delivered envelopes equal what the store reads back, position included.
    const byId = new Map((await store.readAll()).map((e) => [e.id, e]));
    for (const e of seen) expect(e).toEqual(byId.get(e.id));
    // Per stream in version order (commit order of one stream's appends).
    for (const stream of new Set(seen.map((e) => e.stream))) {
      const versions = seen.filter((e) => e.stream === stream).map((e) => e.version);
      expect(versions, stream).toEqual(versions.map((_, i) => i + 1));
    }
    expect(store.relayedCount()).toBeGreaterThanOrEqual(84);
    await sub.close();
  } finally {
    await store.close();
    await writer.close();
  }
  expect((await slots()).map((s) => s.slot_name), 'the slot is dropped when the relay stops').not.toContain(slotName(ns));
}, 60_000);

it('refuses the logical relay on a server without wal_level=logical, in one line', async () => {
  const store = await open(testPgUrl(), 'logical');
  try {
    const err = await store.init().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toMatch(/needs wal_level=logical .*or use relay "poll"/);
  } finally {
    await store.close();
  }
});
