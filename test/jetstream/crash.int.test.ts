/**
 * A subscriber process really dies (SIGKILL) in the middle of a batch: every event it did not
 * acknowledge is redelivered to the next subscriber of the same name (after the ack wait), and none it
 * acknowledged is handled again. The durable consumer, not the process, holds the checkpoint.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, describe, expect, it } from 'vitest';
import { createJetStreamStore } from '../../src/store/jetstream/store.ts';
import { jetStreamNames } from '../../src/store/jetstream/naming.ts';
import { waitFor } from '../contract/event-store-contract.ts';
import { testNatsUrl, uniqueName } from '../support/servers.ts';
import { deleteStreams } from './helpers.ts';

const SUBSCRIBER = fileURLToPath(new URL('./fixtures/subscriber.ts', import.meta.url));
const namespace = uniqueName('jscrash');

afterAll(async () => {
  await deleteStreams(testNatsUrl(), `${namespace}-`);
});

describe('JetStream subscriber killed mid-batch', () => {
  it('SIGKILL while handling: unacknowledged events go to the next subscriber, acknowledged ones do not', async () => {
    const store = await createJetStreamStore({ natsUrl: testNatsUrl(), namespace });
    const category = uniqueName('kill');
    const name = uniqueName('worker');
    const ids = Array.from({ length: 10 }, (_, i) => `k${i + 1}`);
    const positions: number[] = [];
    for (const id of ids) positions.push(...(await store.appendToStream(`${category}-${Number(id.slice(1)) % 3}`, [{ id, type: 'case.intake', data: {} }])).positions);

    const child = spawn(process.execPath, ['--import', 'tsx', SUBSCRIBER, testNatsUrl(), namespace, category, name, '4', '1000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acked: string[] = [];
    let hung: string | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [what, id] = line.split(' ');
      if (what === 'acked') acked.push(id!);
      if (what === 'hang') hung = id;
    });
    const nc = await connect({ servers: testNatsUrl() });
    try {
      await waitFor('the child to hang in its 5th handler', () => hung !== undefined, 30_000);
      // Its four acks have reached the server (the consumer's ack floor), then it dies without warning.
      const jsm = await jetstreamManager(nc);
      const names = jetStreamNames(namespace);
      await waitFor('4 acks on the server', async () => (await jsm.consumers.info(names.categoryStream(category), name)).ack_floor.stream_seq >= positions[3]!);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));

      const redelivered: string[] = [];
      const sub = await store.subscribe(name, (e) => void redelivered.push(e.id), { category, ackWaitMs: 1000 });
      await waitFor('all unacknowledged events redelivered', () => ids.slice(4).every((id) => redelivered.includes(id)), 15_000);
      await waitFor('lag 0', async () => (await sub.lag()) === 0);
      expect(acked).toEqual(ids.slice(0, 4));
      expect(hung).toBe('k5');
      expect(redelivered.filter((id) => acked.includes(id))).toEqual([]);
      expect(new Set(redelivered)).toEqual(new Set(ids.slice(4)));
      await sub.close();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await nc.close();
      await store.close();
    }
  });
});
