/**
 * The relay under faults (docs/hybrid.md §Delivered once):
 * - a relay process SIGKILLed after publishing a batch and before marking it published: its rows stay
 *   unpublished, the next relay publishes them again, JetStream recognises the ids, and the consumer gets
 *   every event once;
 * - several relays in parallel on one outbox: every row published by exactly one of them;
 * - JetStream down (SIGKILL) for 5 s during a load: appends go on (PostgreSQL), the outbox grows, it drains
 *   after the server is back, every acknowledged append is stored in JetStream once and reaches the
 *   consumer. A consumer acknowledgement the killed server had not yet persisted is lost with it, so an
 *   event handled just before the kill can be handled again after the restart (at-least-once delivery, on
 *   any JetStream consumer): the test tells those apart and requires every other event handled once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, afterEach, expect, it } from 'vitest';
import type { EventStore, NewEvent, Subscription } from '../../src/core/event-store.ts';
import { hybridDescriptor } from '../../src/store/hybrid/descriptor.ts';
import { createHybridStore, type HybridStore } from '../../src/store/hybrid/index.ts';
import { startManagedNats } from '../../src/infra/managed-nats.ts';
import type { ServerHandle } from '../../src/infra/server-handle.ts';
import { waitFor } from '../contract/event-store-contract.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';
import { dropNamespace } from './helpers.ts';

const CHILD = fileURLToPath(new URL('./fixtures/relay-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const owned: { stores: EventStore[]; subs: Subscription[]; children: ChildProcess[]; servers: ServerHandle[]; namespaces: string[] } = {
  stores: [],
  subs: [],
  children: [],
  servers: [],
  namespaces: [],
};

afterEach(async () => {
  for (const c of owned.children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.allSettled(owned.subs.splice(0).map((s) => s.close()));
  await Promise.allSettled(owned.stores.splice(0).map((s) => s.close()));
  await Promise.allSettled(owned.servers.splice(0).map((s) => s.stop()));
});

afterAll(async () => {
  await Promise.allSettled(owned.namespaces.map((ns) => dropNamespace(ns)));
});

async function open(namespace: string, settings: Record<string, unknown>, natsUrl = testNatsUrl()): Promise<HybridStore> {
  const store = await createHybridStore({ pgUrl: testPgUrl(), natsUrl, namespace, settings: hybridDescriptor.parseSettings(settings) });
  owned.stores.push(store);
  await store.init();
  return store;
}

/** Subscribes and counts deliveries per event id. */
async function counter(store: EventStore, category: string): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  owned.subs.push(await store.subscribe(uniqueName('count'), (e) => void seen.set(e.id, (seen.get(e.id) ?? 0) + 1), { category, ackWaitMs: 2_000 }));
  return seen;
}

async function streamMessages(natsUrl: string, jsStream: string): Promise<number> {
  const nc = await connect({ servers: natsUrl });
  try {
    return (await (await jetstreamManager(nc)).streams.info(jsStream)).state.messages;
  } finally {
    await nc.close();
  }
}

const events = (prefix: string, n: number): NewEvent[] => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, type: 'relay.tested', data: { i } }));

it('a relay SIGKILLed between publishing and marking: the next relay republishes, JetStream deduplicates, the consumer gets each event once', async () => {
  const ns = uniqueName('hyk');
  owned.namespaces.push(ns);
  // This store appends and consumes but runs no relay: the child is the only relay until it dies.
  const store = await open(ns, { relay: 'none' });
  const category = 'crash';
  const written = events('k', 30);
  for (let i = 0; i < written.length; i += 10) await store.appendToStream(`${category}-${i}`, written.slice(i, i + 10));
  const seen = await counter(store, category);

  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, testPgUrl(), testNatsUrl(), ns, '20'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  owned.children.push(child);
  let publishedByChild: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('published ')) publishedByChild = line.slice('published '.length).split(',');
  });
  await waitFor('the child relay to publish its batch', () => publishedByChild.length > 0, 30_000);
  expect(publishedByChild).toEqual(written.slice(0, 20).map((e) => e.id));
  await waitFor('the 20 published events delivered', () => publishedByChild.every((id) => seen.has(id)), 10_000);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  // Its transaction died with it: the rows are unpublished again.
  await waitFor('the dead relay\'s rows unpublished', async () => (await store.relayLag()).pending === 30, 10_000);

  const relay = await open(ns, { relay: 'poll', relayPollIntervalMs: 100 });
  await waitFor('every event delivered', () => written.every((e) => seen.has(e.id)), 15_000);
  await waitFor('outbox drained', async () => (await relay.relayLag()).pending === 0, 10_000);
  expect(relay.relayedCount(), 'the new relay published all 30 rows again, 20 of them a second time').toBe(30);
  expect(await streamMessages(testNatsUrl(), `${ns}-_outbox`), 'JetStream stored each event once').toBe(30);
  await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate would arrive within this
  expect([...seen.values()].every((n) => n === 1), `deliveries per id: ${JSON.stringify([...seen])}`).toBe(true);
  expect(seen.size).toBe(30);
}, 60_000);

it('several relays in parallel: every row published by exactly one of them, every event delivered once', async () => {
  const ns = uniqueName('hyp');
  owned.namespaces.push(ns);
  const relays = [await open(ns, { relayBatchSize: 10 }), await open(ns, { relayBatchSize: 10 }), await open(ns, { relayBatchSize: 10 })];
  const category = 'par';
  const seen = await counter(relays[0]!, category);
  const written: string[] = [];
  await Promise.all(
    Array.from({ length: 12 }, async (_, w) => {
      for (let i = 0; i < 25; i++) {
        const id = `p${w}_${i}`;
        await relays[(w + i) % 3]!.appendToStream(`${category}-${w}`, [{ id, type: 'relay.tested', data: { w, i } }]);
        written.push(id);
      }
    }),
  );
  await waitFor('every event delivered', () => written.every((id) => seen.has(id)), 20_000);
  await waitFor('outbox drained', async () => (await relays[0]!.relayLag()).pending === 0, 10_000);
  const counts = relays.map((r) => r.relayedCount());
  expect(counts.reduce((a, b) => a + b, 0), `published per relay ${counts.join(' + ')}: no row twice`).toBe(written.length);
  expect(counts.filter((n) => n > 0).length, 'more than one relay took part').toBeGreaterThan(1);
  expect(await streamMessages(testNatsUrl(), `${ns}-_outbox`)).toBe(written.length);
  expect([...seen.values()].every((n) => n === 1)).toBe(true);
}, 60_000);

it('JetStream down for 5 s during a load: the outbox grows, drains after recovery, every acknowledged append stored once and delivered', async () => {
  const ns = uniqueName('hyo');
  owned.namespaces.push(ns);
  const nats = await startManagedNats();
  owned.servers.push(nats);
  const store = await open(ns, { relayPollIntervalMs: 200, publishTimeoutMs: 1_000 }, nats.url);
  const category = 'outage';
  const seen = await counter(store, category);

  const acked: string[] = [];
  let stop = false;
  let n = 0;
  // About 100 appends/s for the whole run, each awaited: PostgreSQL keeps acknowledging while NATS is down.
  const writer = (async () => {
    while (!stop && n < 5_000) {
      const id = `o${n++}`;
      await store.appendToStream(`${category}-${n % 7}`, [{ id, type: 'relay.tested', data: { n } }]);
      acked.push(id);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();

  await waitFor('traffic flowing end to end', () => seen.size >= 50, 10_000);
  await nats.kill();
  const downAt = Date.now();
  const handledBeforeKill = new Set(seen.keys());
  let peak = 0;
  while (Date.now() - downAt < 5_000) {
    peak = Math.max(peak, (await store.relayLag()).pending);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const grown = await store.relayLag();
  expect(grown.pending, 'the outbox grew while JetStream was down').toBeGreaterThan(100);
  expect(grown.oldestAgeSeconds).toBeGreaterThan(3);
  await nats.restart();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  stop = true;
  await writer;

  await waitFor('outbox drained after recovery', async () => (await store.relayLag()).pending === 0, 30_000);
  await waitFor('every acknowledged append delivered', () => acked.every((id) => seen.has(id)), 30_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(await streamMessages(nats.url, `${ns}-_outbox`), 'JetStream stored each acknowledged append once').toBe(acked.length);
  expect(seen.size).toBe(acked.length);
  const twice = [...seen].filter(([, count]) => count > 1).map(([id]) => id);
  expect(twice.filter((id) => !handledBeforeKill.has(id)), 'handled twice, other than acks lost in the kill').toEqual([]);
  expect(twice.length, `ids handled again after the restart: ${twice.join(', ')}`).toBeLessThan(handledBeforeKill.size);
  expect(peak).toBeGreaterThan(100);
}, 90_000);
