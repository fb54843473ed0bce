/**
 * Dead letters on JetStream: a handler that always fails is delivered exactly maxDeliver times, with the
 * configured backoff between deliveries (nak with delay), then the event is in the dead-letter stream
 * with its delivery count and the handler's error; a last delivery that never gets a verdict (the handler
 * hangs, or the process dies) is dead-lettered from the server's MAX_DELIVERIES advisory.
 */
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/core/event-store.ts';
import { createJetStreamStore } from '../../src/store/jetstream/store.ts';
import { jetStreamNames } from '../../src/store/jetstream/naming.ts';
import { waitFor } from '../contract/event-store-contract.ts';
import { testNatsUrl, uniqueName } from '../support/servers.ts';
import { deleteStreams } from './helpers.ts';

const namespace = uniqueName('jsdlq');
const stores: EventStore[] = [];

async function open(): Promise<EventStore> {
  const store = await createJetStreamStore({ natsUrl: testNatsUrl(), namespace });
  await store.init();
  stores.push(store);
  return store;
}

afterAll(async () => {
  await Promise.allSettled(stores.map((s) => s.close()));
  await deleteStreams(testNatsUrl(), `${namespace}-`);
});

describe('JetStream dead letters', () => {
  it('always-failing handler: exactly maxDeliver deliveries, backoff between them, then the dead-letter stream', async () => {
    const store = await open();
    const category = uniqueName('pay');
    const name = uniqueName('billing');
    const maxDeliver = 4;
    const backoffMs = [200, 400, 800];
    await store.appendToStream(`${category}-inv1`, [{ id: 'evt-poison', type: 'billing.invoice.issued', data: { amount: 15000 } }]);

    const deliveries: { attempt: number; at: number }[] = [];
    const sub = await store.subscribe(
      name,
      (_e, ctx) => {
        deliveries.push({ attempt: ctx.attempt, at: performance.now() });
        throw new Error(`payment service refused (attempt ${ctx.attempt})`);
      },
      { category, maxDeliver, backoffMs, ackWaitMs: 5000, closeTimeoutMs: 500 },
    );
    await waitFor('the dead letter', async () => (await store.readDeadLetters(name)).length > 0, 15_000);
    await waitFor('nothing pending on the consumer', async () => (await sub.lag()) === 0, 5_000);
    // Nothing more may come: wait one ack wait's worth past the longest backoff before counting.
    await new Promise((resolve) => setTimeout(resolve, 1200));

    expect(deliveries.map((d) => d.attempt)).toEqual([1, 2, 3, 4]);
    const gaps = deliveries.slice(1).map((d, i) => d.at - deliveries[i]!.at);
    gaps.forEach((gap, i) => {
      expect(gap, `gap before delivery ${i + 2}`).toBeGreaterThanOrEqual(backoffMs[i]! * 0.9);
      expect(gap, `gap before delivery ${i + 2}`).toBeLessThan(backoffMs[i]! + 1500);
    });

    const letters = await store.readDeadLetters(name);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      subscription: name,
      deliveries: maxDeliver,
      reason: 'payment service refused (attempt 4)',
      event: { id: 'evt-poison', stream: `${category}-inv1`, version: 1, data: { amount: 15000 } },
    });

    // The record really is in the JetStream dead-letter stream (not only in the adapter's view of it).
    const names = jetStreamNames(namespace);
    const nc = await connect({ servers: testNatsUrl() });
    try {
      const jsm = await jetstreamManager(nc);
      const raw = await jsm.streams.getMessage(names.deadLetterStream, { last_by_subj: names.deadLetterSubject(name) });
      expect(raw?.json<{ deliveries: number }>().deliveries).toBe(maxDeliver);
      const info = await jsm.consumers.info(names.categoryStream(category), name);
      expect(info.config.max_deliver).toBe(maxDeliver);
      expect(info.num_ack_pending + info.num_pending).toBe(0);
    } finally {
      await nc.close();
    }
    await sub.close();
  });

  it('a last delivery that never gets a verdict is dead-lettered from the MAX_DELIVERIES advisory', async () => {
    const store = await open();
    const category = uniqueName('hang');
    const name = uniqueName('stuck');
    await store.appendToStream(`${category}-1`, [{ id: 'evt-hang', type: 'case.intake', data: {} }]);
    const attempts: number[] = [];
    const sub = await store.subscribe(
      name,
      async (_e, ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) throw new Error('first attempt fails');
        await new Promise<never>(() => {}); // the last delivery hangs: no ack, no nak
      },
      { category, maxDeliver: 2, backoffMs: [100], ackWaitMs: 600, closeTimeoutMs: 100 },
    );
    await waitFor('the advisory dead letter', async () => (await store.readDeadLetters(name)).length > 0, 15_000);
    const [letter] = await store.readDeadLetters(name);
    expect(letter).toMatchObject({ subscription: name, deliveries: 2, event: { id: 'evt-hang' } });
    expect(letter!.reason).toMatch(/no acknowledgement within ack wait/);
    expect(attempts).toEqual([1, 2]);
    await sub.close();
  });
});
