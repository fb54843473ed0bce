/**
 * Where a cursor read ends on one server (cursor.ts): at the message it was asked to reach, or early when
 * the stream leader holds nothing more up to it (messages removed meanwhile), at once and without an
 * error: the leader check that keeps a lagging replica from ending a read short (issue 18,
 * test/topology/lagging-replica.int.test.ts) costs a single server neither an error nor the idle wait.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCursor, readOnce } from '../../src/store/jetstream/cursor.ts';
import { testNatsUrl, uniqueName } from '../support/servers.ts';
import { deleteStreams } from './helpers.ts';

const prefix = uniqueName('cur');
let nc: NatsConnection;

beforeAll(async () => {
  nc = await connect({ servers: testNatsUrl() });
});

afterAll(async () => {
  await nc?.close();
  await deleteStreams(testNatsUrl(), prefix);
});

async function streamOf(count: number): Promise<{ stream: string; filter: string }> {
  const stream = `${prefix}_${uniqueName('s')}`;
  const filter = `${stream}.>`;
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [filter] });
  const js = jetstream(nc);
  for (let n = 0; n < count; n++) await js.publish(`${stream}.${n % 2 ? 'a' : 'b'}`, `m${n}`);
  return { stream, filter };
}

describe('a cursor read on a single server', () => {
  it('reads up to stopSeq and leaves the cursor at the next sequence', async () => {
    const { stream, filter } = await streamOf(10);
    const cursor = await openCursor({ js: jetstream(nc), jsm: await jetstreamManager(nc) }, stream, filter, 1, 100);
    try {
      const seqs: number[] = [];
      await cursor.read(6, 5_000, (m: JsMsg) => seqs.push(m.seq) > 0);
      expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);
      expect(cursor.nextSeq).toBe(7);
      expect(cursor.dead).toBe(false);
    } finally {
      await cursor.close();
    }
  });

  it('closes a cursor that was never read (its generator never started)', async () => {
    const { stream, filter } = await streamOf(3);
    const cursor = await openCursor({ js: jetstream(nc), jsm: await jetstreamManager(nc) }, stream, filter, 1, 100);
    const outcome = await Promise.race([cursor.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still closing after 15 s'), 15_000).unref())]);
    expect(outcome).toBe('closed');
    expect(cursor.dead).toBe(true);
  }, 30_000);

  it('ends at once, without an error, when the message at stopSeq was removed before the read reached it', async () => {
    const { stream, filter } = await streamOf(10);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.deleteMessage(stream, 10);
    await jsm.streams.deleteMessage(stream, 9);
    const seqs: number[] = [];
    const started = Date.now();
    // idleMs of 30 s: ending by the idle guard instead of the leader's answer would take that long.
    await readOnce({ js: jetstream(nc), jsm }, { jsStream: stream, filter }, { startSeq: 1, stopSeq: 10, buffer: 100, idleMs: 30_000 }, (m) => seqs.push(m.seq) > 0);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 40_000);
});
