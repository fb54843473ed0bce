/**
 * JetStream-specific behaviour beyond the shared contract: the subject mapping as stored on the server,
 * the version cache being only a hint (the server judges, also against a stale hint), partial multi-event
 * appends reported precisely, and errors translated at the boundary (connection refused, JetStream
 * disabled, publish timeout on a paused server).
 */
import { spawn } from 'node:child_process';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CapabilityError,
  OutcomeUnknownError,
  PartialAppendError,
  StoreUnavailableError,
  VersionConflictError,
  type EventStore,
} from '../../src/core/event-store.ts';
import { findNatsServer, startManagedNats } from '../../src/infra/managed-nats.ts';
import { freePort } from '../../src/infra/managed-process.ts';
import { createJetStreamStore } from '../../src/store/jetstream/store.ts';
import { HEADERS, VERSION_HEADER } from '../../src/store/jetstream/publish-headers.ts';
import { jetStreamNames } from '../../src/store/jetstream/naming.ts';
import { waitFor } from '../contract/event-store-contract.ts';
import { testNatsUrl, uniqueName } from '../support/servers.ts';
import { deleteStreams } from './helpers.ts';

const namespace = uniqueName('jsstore');
const names = jetStreamNames(namespace);
const stores: EventStore[] = [];
let nc: Awaited<ReturnType<typeof connect>>;
let jsm: JetStreamManager;

async function open(settings: Record<string, unknown> = {}, ns = namespace, natsUrl = testNatsUrl()): Promise<EventStore> {
  const store = await createJetStreamStore({ natsUrl, namespace: ns, settings });
  stores.push(store);
  return store;
}

const ev = (id: string) => ({ id, type: 'case.intake', data: { id } });

beforeAll(async () => {
  nc = await connect({ servers: testNatsUrl() });
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await Promise.allSettled(stores.map((s) => s.close()));
  await nc?.close();
  await deleteStreams(testNatsUrl(), `${namespace}-`);
});

describe('JetStream adapter', () => {
  it('maps <category>-<id> to subject <ns>.<category>.<id> in stream <ns>-<category>, msg id = event id, version header', async () => {
    const store = await open();
    const category = uniqueName('map');
    const r = await store.appendToStream(`${category}-42`, [ev('m1'), ev('m2')], { expectedVersion: 'no_stream' });
    const info = await jsm.streams.info(names.categoryStream(category));
    expect(info.config.subjects).toEqual([`${namespace}.${category}.*`]);
    expect(info.config.duplicate_window).toBe(120_000 * 1e6);
    const stored = await jsm.streams.getMessage(names.categoryStream(category), { seq: r.positions[1]! });
    expect(stored?.subject).toBe(`${namespace}.${category}.42`);
    expect(stored?.header?.get(HEADERS.msgId)).toBe('m2');
    expect(stored?.header?.get(VERSION_HEADER)).toBe('2');
    expect(stored?.json<{ version: number; aggregateId: string }>()).toMatchObject({ version: 2, aggregateId: '42' });
  });

  it('ids nats.js would trim or refuse in a header get its own headers, and its verdict', async () => {
    const store = await open();
    const category = uniqueName('ids');
    const s = `${category}-1`;
    // A line break would end the header: refused, nothing stored.
    await expect(store.appendToStream(s, [ev('bad\r\nid')])).rejects.toThrow();
    expect(await store.streamVersion(s)).toBe(0);
    // Surrounding blanks are trimmed from the msg id by nats.js; a retry is still recognised.
    const r = await store.appendToStream(s, [ev(' padded ')]);
    expect(await store.appendToStream(s, [ev(' padded ')])).toEqual({ streamVersion: 1, positions: r.positions, duplicate: true });
    const stored = await jsm.streams.getMessage(names.categoryStream(category), { seq: r.positions[0]! });
    expect(stored?.header?.get(HEADERS.msgId)).toBe('padded');
    expect(stored?.json<{ id: string }>().id).toBe(' padded ');
  });

  it('the version cache is only a hint: another process moving the stream, or a purge, is judged by the server', async () => {
    const [a, b] = [await open(), await open()];
    const s = `${uniqueName('hint')}-1`;
    await a.appendToStream(s, [ev('h1')]); // a remembers (version 1, seq x)
    await b.appendToStream(s, [ev('h2')], { expectedVersion: 1 });
    await b.appendToStream(s, [ev('h3')], { expectedVersion: 2 });
    // a's hint says 1; the stream is at 3: expecting 1 conflicts with the actual version, expecting 3 works.
    const err = await a.appendToStream(s, [ev('h4')], { expectedVersion: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VersionConflictError);
    expect(err).toMatchObject({ expected: 1, actual: 3 });
    expect((await a.appendToStream(s, [ev('h4')], { expectedVersion: 3 })).streamVersion).toBe(4);

    // A hint with the right version and a wrong sequence: purge the subject and let b rebuild it to version 4.
    const { category } = { category: s.slice(0, s.indexOf('-')) };
    await jsm.streams.purge(names.categoryStream(category), { filter: names.subject(category, '1') });
    for (let v = 0; v < 4; v++) await b.appendToStream(s, [ev(`p${v}`)], { expectedVersion: v });
    // a still holds (version 4, old seq): the server answers 10071, a re-reads and appends at the right place.
    const r = await a.appendToStream(s, [ev('h5')], { expectedVersion: 4 });
    expect(r.streamVersion).toBe(5);
    expect((await b.readStream(s)).map((e) => `${e.id}@${e.version}`)).toEqual(['p0@1', 'p1@2', 'p2@3', 'p3@4', 'h5@5']);
  });

  it('a multi-event append stopped half-way reports exactly what was stored (PartialAppendError)', async () => {
    // A stream that holds 2 messages and refuses more (discard new): the chain's second event is refused.
    const ns = uniqueName('jspart');
    const store = await open({ maxMsgs: 2, discard: 'new' }, ns);
    const s = `${uniqueName('part')}-1`;
    await store.appendToStream(s, [ev('q1')]);
    const err = await store.appendToStream(s, [ev('q2'), ev('q3'), ev('q4')], { expectedVersion: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartialAppendError);
    const partial = err as PartialAppendError;
    expect(partial).toMatchObject({ appended: 1, total: 3 });
    const events = await store.readStream(s);
    expect(events.map((e) => e.id)).toEqual(['q1', 'q2']);
    expect(partial.positions).toEqual([events[1]!.position]);
    expect(String((partial.cause as Error).message)).toMatch(/maximum messages/);
    // requireAtomic refuses up front on 2.9, nothing written.
    const refused = await store.appendToStream(`${uniqueName('part')}-2`, [ev('z1'), ev('z2')], { requireAtomic: true }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CapabilityError);
    expect((refused as CapabilityError).capability).toBe('atomicMultiAppend');
    await store.close();
    await deleteStreams(testNatsUrl(), `${ns}-`);
  });

  it('connection refused and a server without JetStream are StoreUnavailableError', async () => {
    const port = await freePort();
    await expect(createJetStreamStore({ natsUrl: `nats://127.0.0.1:${port}`, namespace })).rejects.toBeInstanceOf(StoreUnavailableError);

    const bin = findNatsServer()!;
    const plainPort = await freePort();
    const plain = spawn(bin, ['-a', '127.0.0.1', '-p', String(plainPort)], { stdio: 'ignore' });
    try {
      let err: unknown;
      await waitFor('a plain nats-server (no JetStream) to answer', async () => {
        err = await createJetStreamStore({ natsUrl: `nats://127.0.0.1:${plainPort}`, namespace }).then(
          async (s) => {
            await s.close();
            return undefined;
          },
          (e: unknown) => e,
        );
        return !(err instanceof StoreUnavailableError && /cannot connect/.test((err as Error).message));
      });
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as Error).message).toMatch(/JetStream|jetstream/);
    } finally {
      plain.kill('SIGKILL');
    }
  });

  it('a publish that times out on a paused server is OutcomeUnknownError; the retry with the same id is a duplicate', async () => {
    const server = await startManagedNats();
    try {
      const store = await open({ publishTimeoutMs: 500 }, uniqueName('jspause'), server.url);
      const s = `${uniqueName('pause')}-1`;
      await store.appendToStream(s, [ev('u1')]);
      await server.pause();
      const err = await store.appendToStream(s, [ev('u2')], { expectedVersion: 1 }).catch((e: unknown) => e);
      await server.resume();
      expect(err).toBeInstanceOf(OutcomeUnknownError);
      // The request was on the wire: the resumed server stored it. A retry with the same id is safe.
      const retry = await store.appendToStream(s, [ev('u2')], { expectedVersion: 1 });
      expect(retry.duplicate).toBe(true);
      expect(retry.streamVersion).toBe(2);
      await store.close();
    } finally {
      await server.stop();
    }
  });
});
