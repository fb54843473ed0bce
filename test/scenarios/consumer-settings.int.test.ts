/**
 * The run consumer's settings (`consumer: { name, maxAckPending }` in a scenario, `--consumer-name` /
 * `--max-ack-pending` as flags) reach the server: the uploads scenario's `file_processor` consumer is a
 * JetStream durable consumer with max ack pending 100, and what the run records is read back from the
 * server's consumer info, not copied from the request. On PostgreSQL the bound is the subscriber's own.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/core/event-store.ts';
import { createNoopMetrics } from '../../src/core/metrics.ts';
import { loadBenchScenario, scenarioFlags } from '../../src/runners/bench/scenario-catalog.ts';
import { systemClock } from '../../src/runners/load/clock.ts';
import { RunConsumer } from '../../src/runners/load/consumer.ts';
import { createStore } from '../../src/store/index.ts';
import { workloads } from '../../src/workloads/index.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';

const opened: EventStore[] = [];
afterAll(async () => {
  for (const s of opened) await s.close();
});

describe('run consumer settings', () => {
  it('the uploads scenario runs the file_processor consumer with max ack pending 100', () => {
    expect(scenarioFlags(loadBenchScenario('uploads'), false)).toMatchObject({ workload: 'file-uploads', consumer: true, consumerName: 'file_processor', maxAckPending: '100' });
    expect(scenarioFlags(loadBenchScenario('uploads'), true)).toMatchObject({ consumerName: 'file_processor', maxAckPending: '100' });
  });

  it('on JetStream: a durable consumer with that name and max_ack_pending, read back from the server', async () => {
    const namespace = uniqueName('cons');
    const store = await createStore('jetstream', { natsUrl: testNatsUrl(), namespace });
    opened.push(store);
    const workload = workloads['file-uploads'];
    const consumer = new RunConsumer(store, workload, createNoopMetrics(), systemClock);
    await consumer.start('load_default', { name: 'file_processor', maxAckPending: 100 });
    const nc = await connect({ servers: testNatsUrl() });
    try {
      const jsm = await jetstreamManager(nc);
      const streams: string[] = [];
      for await (const si of jsm.streams.list()) if (si.config.name.startsWith(`${namespace}-`)) streams.push(si.config.name);
      const infos = await Promise.all(streams.map((s) => jsm.consumers.info(s, 'file_processor').catch(() => null)));
      const info = infos.find((i) => i !== null)!;
      expect(info.config.durable_name).toBe('file_processor');
      expect(info.config.max_ack_pending).toBe(100);
      expect(consumer.settings).toEqual({ name: 'file_processor', maxAckPending: 100, ackWaitMs: Math.round((info.config.ack_wait ?? 0) / 1e6), maxDeliver: info.config.max_deliver, source: 'server' });

      // The run's consumer is still deleted when the run ends, whatever its name.
      await consumer.stop();
      expect(await jsm.consumers.info(info.stream_name, 'file_processor').then(() => 'exists', () => 'gone')).toBe('gone');
    } finally {
      await nc.close();
    }
  });

  it('without settings: load_<run id> and 256; on PostgreSQL the bound is the subscriber\'s own', async () => {
    const js = await createStore('jetstream', { natsUrl: testNatsUrl(), namespace: uniqueName('cons') });
    opened.push(js);
    const c1 = new RunConsumer(js, workloads['file-uploads'], createNoopMetrics(), systemClock);
    await c1.start('load_r1');
    expect(c1.settings).toMatchObject({ name: 'load_r1', maxAckPending: 256, source: 'server' });
    await c1.stop();

    const pg = await createStore('postgres', { pgUrl: testPgUrl(), namespace: uniqueName('cons') });
    opened.push(pg);
    await pg.init();
    const c2 = new RunConsumer(pg, workloads['file-uploads'], createNoopMetrics(), systemClock);
    await c2.start('load_r2', { name: 'file_processor', maxAckPending: 100 });
    expect(c2.settings).toEqual({ name: 'file_processor', maxAckPending: 100, ackWaitMs: null, maxDeliver: 3, source: 'client' });
    await c2.stop();
  });
});
