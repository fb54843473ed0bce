/**
 * Hybrid end-to-end latency runs from the append's intended send time, as on every other backend (the
 * coordinated-omission-free figure): the run's consumer reads the intended time the writer put in the
 * event's metadata, carried through PostgreSQL, the outbox, the relay and JetStream. Events whose intended
 * time lies 3 s in the past (a writer that fell behind) count those 3 s; measured from the commit they
 * would count a few milliseconds.
 */
import { afterAll, expect, it } from 'vitest';
import { createNoopMetrics } from '../../src/core/metrics.ts';
import { hybridDescriptor } from '../../src/store/hybrid/descriptor.ts';
import { createHybridStore, type HybridStore } from '../../src/store/hybrid/index.ts';
import { summarize } from '../../src/report/histogram.ts';
import { systemClock } from '../../src/runners/load/clock.ts';
import { RunConsumer } from '../../src/runners/load/consumer.ts';
import { INTENDED_AT_KEY } from '../../src/runners/load/executor.ts';
import { workloads } from '../../src/workloads/index.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';
import { dropNamespace } from './helpers.ts';

const ns = uniqueName('hye2e');
let store: HybridStore | undefined;
afterAll(async () => {
  await store?.close();
  await dropNamespace(ns);
});

it('counts end-to-end latency from the intended send time, not from the PostgreSQL commit', async () => {
  store = await createHybridStore({ pgUrl: testPgUrl(), natsUrl: testNatsUrl(), namespace: ns, settings: hybridDescriptor.parseSettings({ relay: 'poll' }) });
  await store.init();
  const workload = workloads.synthetic;
  const consumer = new RunConsumer(store, workload, createNoopMetrics(), systemClock);
  await consumer.start('e2e_intended');
  try {
    const start = systemClock.now();
    consumer.measureWindow(start - 60_000, start + 60_000);
    const behindMs = 3_000;
    const n = 20;
    for (let i = 0; i < n; i++) {
      const intended = systemClock.now() - behindMs;
      await store.appendToStream(`${workload.category}-e2e${i % 4}`, [{ id: `${ns}-${i}`, type: 'synthetic.recorded', data: { i }, metadata: { [INTENDED_AT_KEY]: intended } }]);
    }
    expect(await consumer.drain(n, 30_000)).toBe(true);
    const e2e = summarize(consumer.endToEnd);
    expect(e2e.count).toBe(n);
    // HdrHistogram keeps 3 significant digits: 3,000 ms reads back within ~0.1 %.
    expect(consumer.endToEnd.minNonZeroValue / 1000).toBeGreaterThanOrEqual(behindMs * 0.999);
    expect(e2e.p50).toBeGreaterThanOrEqual(behindMs * 0.999);
  } finally {
    await consumer.stop();
  }
}, 60_000);
