/**
 * `SubscriptionOptions.concurrency` on every backend (one data-driven suite): above 1, a subscriber runs
 * handlers of different streams side by side (up to the limit), never two of one stream at once, and
 * one stream's events in version order; every event is handled; a failing event is retried; a subscriber
 * closed with handlers stuck gives its unacknowledged events to the next subscriber of the name. The
 * default (1) stays one handler at a time.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { EventStore, EventHandler, RecordedEvent, SubscriptionOptions } from '../../src/core/event-store.ts';
import { createStore, type BackendName } from '../../src/store/index.ts';
import { dropMemoryNamespace } from '../../src/store/memory/index.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';
import { deleteStreams } from '../jetstream/helpers.ts';
import { dropSchema } from '../postgres/helpers.ts';

const BACKENDS: { name: BackendName; cleanup: (ns: string) => Promise<unknown> }[] = [
  { name: 'memory', cleanup: async (ns) => dropMemoryNamespace(ns) },
  { name: 'postgres', cleanup: (ns) => dropSchema(ns) },
  { name: 'jetstream', cleanup: (ns) => deleteStreams(testNatsUrl(), `${ns}-`) },
];

const STREAMS = 8;
const PER_STREAM = 4;
const FAST: SubscriptionOptions = { ackWaitMs: 1000, backoffMs: [50], maxDeliver: 5, closeTimeoutMs: 200 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Appends PER_STREAM events to each of STREAMS streams, interleaved (positions alternate between streams). */
async function fill(store: EventStore, category: string): Promise<string[]> {
  const ids: string[] = [];
  for (let v = 1; v <= PER_STREAM; v++) {
    for (let s = 0; s < STREAMS; s++) {
      const id = `${category}-${s}-${v}`;
      ids.push(id);
      await store.appendToStream(`${category}-s${s}`, [{ id, type: 'thing.happened', data: { s, v } }], { expectedVersion: v - 1 === 0 ? 'no_stream' : v - 1 });
    }
  }
  return ids;
}

/** A handler that records overlap: how many ran at once, and whether two of one stream ever did. */
function overlapProbe(holdMs: number, inner?: (e: RecordedEvent) => void) {
  const running = new Map<string, number>();
  const order = new Map<string, number[]>();
  const handled: string[] = [];
  let now = 0;
  let max = 0;
  let sameStreamOverlap = 0;
  const handler: EventHandler = async (e) => {
    now++;
    max = Math.max(max, now);
    if ((running.get(e.stream) ?? 0) > 0) sameStreamOverlap++;
    running.set(e.stream, (running.get(e.stream) ?? 0) + 1);
    try {
      await sleep(holdMs);
      inner?.(e);
      order.set(e.stream, [...(order.get(e.stream) ?? []), e.version]);
      handled.push(e.id);
    } finally {
      now--;
      running.set(e.stream, running.get(e.stream)! - 1);
    }
  };
  return { handler, handled, order, max: () => max, sameStreamOverlap: () => sameStreamOverlap };
}

describe.each(BACKENDS)('subscription concurrency on $name', ({ name, cleanup }) => {
  const namespace = uniqueName('cc');
  const stores: EventStore[] = [];
  const open = async () => {
    const store = await createStore(name, { namespace, pgUrl: testPgUrl(), natsUrl: testNatsUrl() });
    stores.push(store);
    return store;
  };
  afterAll(async () => {
    await Promise.allSettled(stores.map((s) => s.close()));
    await cleanup(namespace);
  });

  it('runs streams side by side up to the limit, one stream at a time and in version order; the default runs one', async () => {
    const store = await open();
    const category = uniqueName('conc');
    const ids = await fill(store, category);

    const wide = overlapProbe(30);
    const sub = await store.subscribe(uniqueName('wide'), wide.handler, { ...FAST, category, concurrency: 4 });
    await waitFor('every event handled', () => wide.handled.length >= ids.length);
    await sub.close();
    expect(new Set(wide.handled)).toEqual(new Set(ids));
    expect(wide.handled).toHaveLength(ids.length);
    expect(wide.max()).toBeGreaterThan(1);
    expect(wide.max()).toBeLessThanOrEqual(4);
    expect(wide.sameStreamOverlap()).toBe(0);
    for (const versions of wide.order.values()) expect(versions).toEqual([1, 2, 3, 4]);

    const narrow = overlapProbe(5);
    const one = await store.subscribe(uniqueName('narrow'), narrow.handler, { ...FAST, category });
    await waitFor('every event handled', () => narrow.handled.length >= ids.length);
    await one.close();
    expect(narrow.max()).toBe(1);
  }, 30_000);

  it('retries a failing event while other streams go on; every event ends handled', async () => {
    const store = await open();
    const category = uniqueName('retry');
    const ids = await fill(store, category);
    const failOnce = new Set([`${category}-2-2`, `${category}-5-1`]);
    const attempts = new Map<string, number>();
    const probe = overlapProbe(5, (e) => {
      attempts.set(e.id, (attempts.get(e.id) ?? 0) + 1);
      if (failOnce.delete(e.id)) throw new Error(`fails once: ${e.id}`);
    });
    const sub = await store.subscribe(uniqueName('retry'), probe.handler, { ...FAST, category, concurrency: 4 });
    await waitFor('every event handled', () => new Set(probe.handled).size >= ids.length);
    await sub.close();
    expect(new Set(probe.handled)).toEqual(new Set(ids));
    expect(attempts.get(`${category}-2-2`)).toBe(2);
    expect(attempts.get(`${category}-5-1`)).toBe(2);
    expect(await store.readDeadLetters(uniqueName('none'))).toEqual([]);
  }, 30_000);

  it('a subscriber closed with handlers stuck leaves their events to the next subscriber of the name', async () => {
    const first = await open();
    const category = uniqueName('stuck');
    const subName = uniqueName('stuck');
    const ids = await fill(first, category);
    const done = new Set<string>();
    let stuck = 0;
    const sub1 = await first.subscribe(
      subName,
      async (e) => {
        // Streams 0-5 are handled; streams 6 and 7 hang (a consumer that dies mid-batch).
        if (e.stream.endsWith('-s6') || e.stream.endsWith('-s7')) {
          stuck++;
          await new Promise<never>(() => {});
        }
        done.add(e.id);
      },
      { ...FAST, category, concurrency: 4 },
    );
    await waitFor('two handlers stuck', () => stuck === 2);
    await sleep(300); // acknowledgements of the finished events reach the server
    await sub1.close();
    await first.close();

    const second = await open();
    const redelivered: string[] = [];
    const sub2 = await second.subscribe(subName, (e) => void redelivered.push(e.id), { ...FAST, category, concurrency: 4 });
    const stuckIds = ids.filter((id) => id.includes('-6-') || id.includes('-7-'));
    await waitFor('the stuck streams redelivered', () => stuckIds.every((id) => redelivered.includes(id)));
    await sleep(200);
    await sub2.close();
    // Nothing lost: every event handled by one or the other (at-least-once; some finished ones may come again).
    expect(ids.filter((id) => !done.has(id) && !redelivered.includes(id))).toEqual([]);
  }, 30_000);
});
