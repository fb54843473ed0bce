/**
 * The checker on real servers (PostgreSQL and JetStream, one suite run per backend): writers and a
 * consumer run against the store, then data is changed behind the harness's back (an SQL DELETE / INSERT
 * in the test's schema, a JetStream message delete / raw publish) and the checker must report exactly
 * that, with the ids; a clean run must report zero everywhere.
 */
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, describe, expect, it } from 'vitest';
import { OutcomeUnknownError, type EventStore, type RecordedEvent } from '../../src/core/event-store.ts';
import { createChecker } from '../../src/runners/chaos/checker.ts';
import { runWriters, startConsumer } from '../../src/runners/chaos/clients.ts';
import { createHistoryWriter, type HistoryWriter } from '../../src/runners/chaos/history.ts';
import { readBack } from '../../src/runners/chaos/read-back.ts';
import { COUNT_NAMES, countOf, type CountName, type Verdict } from '../../src/runners/chaos/verdict.ts';
import { createStore } from '../../src/store/index.ts';
import { jetStreamNames } from '../../src/store/jetstream/naming.ts';
import { deleteStreams } from '../jetstream/helpers.ts';
import { dropSchema, withClient } from '../postgres/helpers.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';

const CATEGORY = 'acct';

interface Target {
  name: 'postgres' | 'jetstream';
  open(namespace: string): Promise<EventStore>;
  /** Removes stored events without the store knowing. */
  deleteBehindBack(namespace: string, events: RecordedEvent[]): Promise<void>;
  /** Stores `event` a second time (a new position) without the store knowing. */
  storeAgainBehindBack(namespace: string, event: RecordedEvent): Promise<void>;
  cleanup(namespace: string): Promise<void>;
}

const targets: Target[] = [
  {
    name: 'postgres',
    open: (namespace) => createStore('postgres', { pgUrl: testPgUrl(), namespace, settings: { poolSize: 4 } }),
    deleteBehindBack: (schema, events) =>
      withClient(async (c) => {
        const r = await c.query(`DELETE FROM "${schema}".events WHERE event_id = ANY($1)`, [events.map((e) => e.id)]);
        expect(r.rowCount).toBe(events.length);
      }),
    storeAgainBehindBack: (schema, event) =>
      withClient(async (c) => {
        // The store keeps event ids unique by a constraint: going around the store means dropping it.
        await c.query(`ALTER TABLE "${schema}".events DROP CONSTRAINT events_event_id_key`);
        const r = await c.query(
          `INSERT INTO "${schema}".events (stream_id, category, version, event_id, type, data, metadata, "timestamp", correlation_id, aggregate_id, aggregate_type)
           SELECT stream_id, category, (SELECT max(version) + 1 FROM "${schema}".events WHERE stream_id = $2), event_id, type, data, metadata, "timestamp", correlation_id, aggregate_id, aggregate_type
           FROM "${schema}".events WHERE event_id = $1`,
          [event.id, event.stream],
        );
        expect(r.rowCount).toBe(1);
      }),
    cleanup: (schema) => dropSchema(schema),
  },
  {
    name: 'jetstream',
    open: (namespace) => createStore('jetstream', { natsUrl: testNatsUrl(), namespace }),
    deleteBehindBack: async (namespace, events) => {
      const nc = await connect({ servers: testNatsUrl() });
      try {
        const jsm = await jetstreamManager(nc);
        for (const e of events) expect(await jsm.streams.deleteMessage(jetStreamNames(namespace).categoryStream(CATEGORY), e.position)).toBe(true);
      } finally {
        await nc.close();
      }
    },
    storeAgainBehindBack: async (namespace, event) => {
      const nc = await connect({ servers: testNatsUrl() });
      try {
        const names = jetStreamNames(namespace);
        const jsm = await jetstreamManager(nc);
        const stored = await jsm.streams.getMessage(names.categoryStream(CATEGORY), { seq: event.position });
        // The stored bytes again, without Nats-Msg-Id: nothing deduplicates it.
        await jetstream(nc).publish(stored!.subject, stored!.data);
      } finally {
        await nc.close();
      }
    },
    cleanup: (namespace) => deleteStreams(testNatsUrl(), `${namespace}-`).then(() => undefined),
  },
];

function expectOnly(verdict: Verdict, expected: Partial<Record<CountName, number>>): void {
  const actual = Object.fromEntries(COUNT_NAMES.map((n) => [n, countOf(verdict, n)]));
  expect(actual).toEqual(Object.fromEntries(COUNT_NAMES.map((n) => [n, expected[n] ?? 0])));
}

/** A store whose appends lose their answer: `landed` ones are written first, the others never sent. */
function losingAnswers(inner: EventStore, lose: (call: number) => 'landed' | 'not-sent' | undefined): EventStore {
  let call = 0;
  const appendToStream: EventStore['appendToStream'] = async (stream, events, options) => {
    const mode = lose(++call);
    if (mode === 'not-sent') throw new OutcomeUnknownError(stream, 'connection lost (test: request never sent)');
    const result = await inner.appendToStream(stream, events, options);
    if (mode === 'landed') throw new OutcomeUnknownError(stream, 'connection lost (test: answer dropped after commit)');
    return result;
  };
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'appendToStream') return appendToStream;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe.each(targets)('chaos checker on $name', (target) => {
  const namespaces: string[] = [];
  afterAll(async () => {
    for (const ns of namespaces) await target.cleanup(ns);
  });

  /** A store in a new namespace, a history feeding a checker, closed by the test's `finally`. */
  async function setup(): Promise<{ store: EventStore; history: HistoryWriter; checker: ReturnType<typeof createChecker>; namespace: string; runId: string }> {
    const namespace = uniqueName('chk');
    namespaces.push(namespace);
    const store = await target.open(namespace);
    const checker = createChecker();
    return { store, history: createHistoryWriter({ sinks: [checker] }), checker, namespace, runId: uniqueName('r') };
  }

  it('a clean run with racing writers and a consumer reports zero everywhere', async () => {
    const { store, history, checker, runId } = await setup();
    try {
      const consumer = await startConsumer({ store, history, subscription: 'chaos', category: CATEGORY, process: 'c0', subscriptionOptions: { ackWaitMs: 2000 } });
      const summary = await runWriters({ store, history, writers: 3, category: CATEGORY, runId, streams: { mode: 'shared', count: 2 }, maxAppends: 15 });
      expect(summary.info).toBe(0);
      expect(summary.fail).toBeGreaterThan(0); // the races were real: version conflicts
      expect(await consumer.drain({ timeoutMs: 20_000 })).toBe(true);
      await consumer.close();
      const v = await checker.check(readBack(store, { categories: checker.categories(), pageSize: 8 }));
      expectOnly(v, {});
      expect(v).toMatchObject({ attempted: 45, acked: summary.ok, read: summary.ok, effects: summary.ok });
    } finally {
      await store.close();
    }
  });

  it('acknowledged events deleted behind its back are lost, with their ids, as prefix / middle / postfix', async () => {
    const { store, history, checker, namespace, runId } = await setup();
    try {
      const summary = await runWriters({ store, history, writers: 2, category: CATEGORY, runId, streams: { mode: 'own', perWriter: 1 }, maxAppends: 10 });
      expect(summary.ok).toBe(20);
      const written = await store.readStream(`${CATEGORY}-${runId}_w0_0`);
      expect(written.map((e) => e.id)).toEqual(Array.from({ length: 10 }, (_, i) => `${runId}-0-${i}`));
      const gone = [written[0]!, written[4]!, written[9]!];
      await target.deleteBehindBack(namespace, gone);
      const v = await checker.check(readBack(store, { categories: checker.categories(), pageSize: 4 }));
      expect(v.lost.ids).toEqual(gone.map((e) => e.id));
      expect(v.lostPrefix.ids).toEqual([gone[0]!.id]);
      expect(v.lostMiddle.ids).toEqual([gone[1]!.id]);
      expect(v.lostPostfix.ids).toEqual([gone[2]!.id]);
      expect(v.versionGaps.gaps).toEqual([
        { stream: `${CATEGORY}-${runId}_w0_0`, after: 0, next: 2 },
        { stream: `${CATEGORY}-${runId}_w0_0`, after: 4, next: 6 },
      ]);
      expectOnly(v, { lost: 3, lostPrefix: 1, lostMiddle: 1, lostPostfix: 1, versionGaps: 2 });
      expect(v.acked).toBe(20);
      expect(v.read).toBe(17);
    } finally {
      await store.close();
    }
  });

  it('an event stored a second time behind its back is a duplicate', async () => {
    const { store, history, checker, namespace, runId } = await setup();
    try {
      await runWriters({ store, history, writers: 1, category: CATEGORY, runId, streams: { mode: 'own', perWriter: 1 }, maxAppends: 5 });
      const [, second] = await store.readStream(`${CATEGORY}-${runId}_w0_0`);
      await target.storeAgainBehindBack(namespace, second!);
      const v = await checker.check(readBack(store, { categories: checker.categories() }));
      expect(v.duplicates.ids).toEqual([second!.id]);
      expect(v.read).toBe(6);
      // The copy is read at another place in its stream: PostgreSQL gave it version 6, JetStream kept version 2.
      if (target.name === 'postgres') {
        expect(v.wrongVersions.events).toEqual([{ id: second!.id, stream: second!.stream, acknowledged: 2, read: 6 }]);
        expectOnly(v, { duplicates: 1, wrongVersions: 1 });
      } else {
        expect(v.orderViolations.violations).toMatchObject([{ id: second!.id, previous: 5, version: 2 }]);
        expectOnly(v, { duplicates: 1, orderViolations: 1 });
      }
    } finally {
      await store.close();
    }
  });

  it('an unknown-outcome write that landed is recovered, one that did not land is unknown, neither is lost', async () => {
    const { store, history, checker, runId } = await setup();
    try {
      const lossy = losingAnswers(store, (call) => (call === 2 ? 'landed' : call === 3 ? 'not-sent' : undefined));
      const summary = await runWriters({ store: lossy, history, writers: 1, category: CATEGORY, runId, streams: { mode: 'own', perWriter: 2 }, maxAppends: 4 });
      expect(summary).toEqual({ ok: 2, fail: 0, info: 2, unsettled: 0 });
      const v = await checker.check(readBack(store, { categories: checker.categories() }));
      // Process 0 wrote `-0-0` and `-0-1` (info: retired), process 1 `-1-0` (info: retired), process 2 `-2-0`.
      expect(v.recovered.ids).toEqual([`${runId}-0-1`]);
      expect(v.unknown.ids).toEqual([`${runId}-1-0`]);
      expectOnly(v, { recovered: 1, unknown: 1 });
      expect(v).toMatchObject({ attempted: 4, acked: 2, read: 3 });
    } finally {
      await store.close();
    }
  });

  it('an effect applied again after its consumer stopped mid-handler is a duplicate effect', async () => {
    const { store, history, checker, runId } = await setup();
    try {
      await runWriters({ store, history, writers: 1, category: CATEGORY, runId, streams: { mode: 'own', perWriter: 1 }, maxAppends: 3 });
      const target3 = `${runId}-0-2`;
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let reached = false;
      const options = { ackWaitMs: 1000, closeTimeoutMs: 100, maxInFlight: 1, batchSize: 1 };
      const first = await startConsumer({
        store,
        history,
        subscription: 'chaos',
        category: CATEGORY,
        process: 'c0',
        subscriptionOptions: options,
        effect: async (e) => {
          if (e.id !== target3) return;
          reached = true;
          await held; // the effect is applied only after the consumer was stopped: it is never acknowledged
        },
      });
      await expect.poll(() => reached, { timeout: 15_000 }).toBe(true);
      await first.close();
      release();
      const second = await startConsumer({ store, history, subscription: 'chaos', category: CATEGORY, process: 'c1', subscriptionOptions: options });
      expect(await second.drain({ timeoutMs: 20_000 })).toBe(true);
      await second.close();
      const v = await checker.check(readBack(store, { categories: checker.categories() }));
      expect(v.duplicateEffects.ids).toEqual([target3]);
      expectOnly(v, { duplicateEffects: 1 });
    } finally {
      await store.close();
    }
  });
});
