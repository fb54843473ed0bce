/**
 * A read served by a replica that lags the stream leader never ends short (issue 18). nats-server 2.9 puts
 * an ordered consumer of an R3 stream on any of its replicas, which serves it from its own store and says
 * `pending: 0` at its own last message. Here that replica is cut off from the others (its routes refused),
 * so it lags for certain while the leader and the third node go on acknowledging: the read waits for the
 * replica and returns every message up to the leader's last sequence once the cut heals, or throws
 * `StoreUnavailableError` if it does not heal within the read's idle bound. Before the fix (cursor.ts
 * stopped at `pending: 0`) both reads returned the replica's 20 messages of 30 and no error. And while a
 * stream has no leader its replicas answer stream info with their own state: readAll refuses it.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/core/event-store.ts';
import { startManagedNatsCluster, type NatsClusterHandle } from '../../src/infra/managed-nats-cluster.ts';
import { waitFor } from '../../src/infra/process-registry.ts';
import { storeModule } from '../../src/store/index.ts';
import { leaderNextSeq, openCursor, type Cursor } from '../../src/store/jetstream/cursor.ts';
import { uniqueName } from '../support/servers.ts';

let cluster: NatsClusterHandle;
const connections: NatsConnection[] = [];
const cursors: Cursor[] = [];

beforeAll(async () => {
  cluster = await startManagedNatsCluster({ faultProxies: true });
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(cursors.map((c) => c.close()));
  await Promise.allSettled(connections.map((nc) => nc.close()));
  await cluster?.stop();
}, 60_000);

async function connectTo(url: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  connections.push(nc);
  return nc;
}

/** The last sequence node `i` holds of `stream` (its own store, from its monitoring endpoint). */
async function lastSeqOn(i: number, stream: string): Promise<number> {
  const jsz = (await (await fetch(`${cluster.nodes[i]!.monitorUrl}/jsz?accounts=true&streams=true`)).json()) as {
    account_details?: { stream_detail?: { name: string; state?: { last_seq?: number } }[] }[];
  };
  return jsz.account_details?.flatMap((a) => a.stream_detail ?? []).find((s) => s.name === stream)?.state?.last_seq ?? 0;
}

/**
 * The cluster can place an R3 stream again: after a cut healed by the test before, the meta leader counts
 * the node offline until it hears from it again (seconds after its routes are back).
 */
async function settled(): Promise<boolean> {
  const jsm = await jetstreamManager(await connectTo(cluster.nodes[0]!.url), { timeout: 2_000, checkAPI: false });
  return waitFor(async () => {
    const probe = uniqueName('probe');
    try {
      await jsm.streams.add({ name: probe, subjects: [`${probe}.>`], num_replicas: 3 });
    } catch {
      return false;
    }
    // Placement works; the probe goes with the cluster if its delete does not answer in time.
    await jsm.streams.delete(probe).catch(() => false);
    return true;
  }, 60_000, 500);
}

/** The node hosting the one consumer of `stream`, once there is one. */
async function consumerNode(jsm: JetStreamManager, stream: string): Promise<number | undefined> {
  let node: number | undefined;
  await waitFor(async () => {
    for await (const ci of jsm.consumers.list(stream)) node = cluster.nodeOf(ci.cluster?.leader);
    return node !== undefined;
  }, 10_000, 50);
  return node;
}

interface Lagging {
  stream: string;
  cursor: Cursor;
  /** Publishes through the leader's side of the cut. */
  publish(count: number): Promise<void>;
  /** Cuts the cursor's replica off from the other two nodes; resolves to the undo. */
  cut(): Promise<() => Promise<void>>;
}

/**
 * An R3 stream of 20 messages and a cursor from sequence 1 whose ordered consumer lives on a follower `f`
 * (placement is the server's: re-opened until it lands there), read by a client connected to `f` itself,
 * so that cutting `f`'s routes leaves the read's consumer and client talking while `f` misses what the
 * leader acknowledges next. The leader is asked (`jsm`) through node `a`, which stays with the majority.
 */
async function laggingCursor(): Promise<Lagging> {
  expect(await settled()).toBe(true);
  const stream = uniqueName('lag');
  const filter = `${stream}.>`;
  const admin = await connectTo(cluster.nodes[0]!.url);
  const jsm = await jetstreamManager(admin);
  const js = jetstream(admin);
  await jsm.streams.add({ name: stream, subjects: [filter], num_replicas: 3 });
  const publish = async (count: number) => {
    for (let n = 0; n < count; n++) await js.publish(`${stream}.x`, `m${n}`);
  };
  await publish(20);
  const leader = cluster.nodeOf((await jsm.streams.info(stream)).cluster?.leader);
  expect(leader).toBeTypeOf('number');
  // A follower other than node 0, so the admin connection stays on the majority side of the cut.
  const f = [1, 2].find((i) => i !== leader)!;
  expect(await waitFor(async () => (await lastSeqOn(f, stream)) === 20, 20_000, 50)).toBe(true);
  const reader = await connectTo(cluster.nodes[f]!.url);
  const clients = { js: jetstream(reader), jsm };
  for (let attempt = 0; attempt < 30; attempt++) {
    const cursor = await openCursor(clients, stream, filter, 1, 1000);
    cursors.push(cursor);
    if ((await consumerNode(jsm, stream)) === f) {
      return { stream, cursor, publish, cut: () => cluster.partition(f) };
    }
    await cursor.close();
    for await (const ci of jsm.consumers.list(stream)) await jsm.consumers.delete(stream, ci.name).catch(() => false);
  }
  throw new Error(`no ordered consumer of ${stream} landed on node ${f} in 30 attempts`);
}

describe('a read served by a lagging replica (R3, nats-server 2.9 consumer placement)', () => {
  it('the leader answers STREAM.MSG.GET with next_by_subj: the next message on a filter from a sequence', async () => {
    const stream = uniqueName('next');
    const nc = await connectTo(cluster.url);
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], num_replicas: 3 });
    for (const s of ['a', 'b', 'a', 'b']) await js.publish(`${stream}.${s}`, s);
    expect(await leaderNextSeq(jsm, stream, `${stream}.>`, 2)).toBe(2);
    expect(await leaderNextSeq(jsm, stream, `${stream}.a`, 2)).toBe(3);
    expect(await leaderNextSeq(jsm, stream, `${stream}.b`, 5)).toBeUndefined();
  });

  it('waits for the replica and returns every message the leader holds once the replica catches up', async () => {
    const lag = await laggingCursor();
    const heal = await lag.cut();
    let healed = false;
    try {
      await lag.publish(10);
      const seqs: number[] = [];
      const read = lag.cursor.read(30, 30_000, (m: JsMsg) => {
        seqs.push(m.seq);
        return true;
      });
      // The replica has delivered what it holds (20) and the read is still waiting for the rest.
      expect(await waitFor(() => seqs.length === 20, 10_000, 20)).toBe(true);
      const early = await Promise.race([read.then(() => 'returned'), new Promise((r) => setTimeout(() => r('waiting'), 500))]);
      expect(early).toBe('waiting');
      await heal();
      healed = true;
      await read;
      expect(seqs).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    } finally {
      if (!healed) await heal();
    }
  }, 90_000);

  it('throws StoreUnavailableError when the replica does not catch up within the idle bound', async () => {
    const lag = await laggingCursor();
    const heal = await lag.cut();
    try {
      await lag.publish(10);
      const seqs: number[] = [];
      const read = lag.cursor.read(30, 1_000, (m: JsMsg) => {
        seqs.push(m.seq);
        return true;
      });
      await expect(read).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(read).rejects.toThrow(/stopped at sequence 20.*leader holds messages up to 30/);
      expect(seqs).toHaveLength(20);
      expect(lag.cursor.dead).toBe(true);
    } finally {
      await heal();
    }
  }, 90_000);

  // Last: it kills two nodes (restarted at its end).
  it('readAll refuses the stream info a replica gives while the stream has no leader (its own, maybe stale, state)', async () => {
    expect(await settled()).toBe(true);
    const namespace = uniqueName('noleader');
    const stream = `${namespace}-orders`;
    const store = await storeModule('jetstream').create({ natsUrl: cluster.nodes[0]!.url, namespace, settings: { replicas: 3, publishTimeoutMs: 2_000 } });
    try {
      const append = (n: number) => store.appendToStream(`orders-${n % 2}`, [{ id: `${namespace}-${n}`, type: 'placed', data: { n } }]);
      // init and the first append create R3 streams: retried while the meta leader, after the cuts of the
      // tests before, still counts a node offline now and then.
      expect(await waitFor(() => store.init().then(() => append(0)).then(() => true, () => false), 60_000, 500)).toBe(true);
      for (let n = 1; n < 10; n++) await append(n);
      const jsm = await jetstreamManager(await connectTo(cluster.nodes[0]!.url), { timeout: 1_000, checkAPI: false });
      await Promise.all([cluster.nodes[1]!.kill(), cluster.nodes[2]!.kill()]);
      try {
        // Node 0 notices that its stream has lost its leader and then answers stream info itself.
        const leaderless = await waitFor(async () => {
          const si = await jsm.streams.info(stream).catch(() => undefined);
          return si?.cluster !== undefined && !si.cluster.leader;
        }, 40_000, 250);
        expect(leaderless).toBe(true);
        await expect(store.readAll({ category: 'orders' })).rejects.toThrow(StoreUnavailableError);
        await expect(store.readAll({ category: 'orders' })).rejects.toThrow(/has no leader/);
      } finally {
        await Promise.all([cluster.nodes[1]!.restart(), cluster.nodes[2]!.restart()]);
      }
    } finally {
      await store.close();
    }
  }, 120_000);
});
