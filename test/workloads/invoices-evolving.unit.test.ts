/**
 * The `invoices-evolving` workload: the first `legacyEvents` events are written at schema version 1 and the
 * rest at the current version (stamped in metadata.schemaVersion), each valid against its own version's
 * schema; the upcasters turn every version-1 event into a valid current one; a reader's check (readerView)
 * refuses an event that was not upcast. The current schema is the last of the versions (one definition).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, type RecordedEvent } from '../../src/core/event-store.ts';
import { SCHEMA_VERSION_KEY, schemaVersionOf } from '../../src/core/upcasting.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import { eventDataSchemas, eventSchemaVersions, readerView, upcastersOf } from '../../src/workloads/event-schemas.ts';
import { workloads } from '../../src/workloads/index.ts';
import {
  createEvolvingPayments,
  DEFAULT_LEGACY_EVENTS,
  INVOICES_EVOLVING_VERSIONS,
  PAYMENT_RECEIVED,
  PaymentReceivedV3Schema,
} from '../../src/workloads/invoices-evolving.ts';

const recorded = (e: ReturnType<ReturnType<typeof createEvolvingPayments>['next']>['events'][number], i: number): RecordedEvent =>
  ({ ...e, stream: 'payment-x', version: i + 1, position: i + 1, timestamp: e.timestamp!, correlationId: e.correlationId!, aggregateId: e.aggregateId!, aggregateType: e.aggregateType!, metadata: e.metadata ?? {} }) as RecordedEvent;

describe('invoices-evolving', () => {
  const w = workloads['invoices-evolving'];

  it('is registered and writes version 1 for the first part of the run, the current version after', () => {
    expect(w.name).toBe('invoices-evolving');
    const gen = w.create({ seed: 3 });
    const versions = Array.from({ length: DEFAULT_LEGACY_EVENTS + 50 }, () => schemaVersionOf(gen.next().events[0]!));
    expect(versions.slice(0, DEFAULT_LEGACY_EVENTS).every((v) => v === 1)).toBe(true);
    expect(versions.slice(DEFAULT_LEGACY_EVENTS).every((v) => v === 3)).toBe(true);
    const few = createEvolvingPayments({ seed: 3, legacyEvents: 2 });
    expect([1, 2, 3, 4].map(() => few.next().events[0]!.metadata![SCHEMA_VERSION_KEY])).toEqual([1, 1, 3, 3]);
  });

  it('every event validates against the schema of its version; upcast, against the current one', () => {
    const chain = upcastersOf('invoices-evolving')!;
    expect(chain.current(PAYMENT_RECEIVED)).toBe(INVOICES_EVOLVING_VERSIONS[PAYMENT_RECEIVED].length);
    const gen = createEvolvingPayments({ seed: 9, legacyEvents: 300 });
    for (let i = 0; i < 600; i++) {
      const e = gen.next().events[0]!;
      w.validate(e);
      const up = chain.upcast(recorded(e, i));
      expect(schemaVersionOf(up)).toBe(3);
      expect(PaymentReceivedV3Schema.safeParse(up.data).success, JSON.stringify(up.data)).toBe(true);
      if (schemaVersionOf(e) === 1) {
        const d = e.data as { cents: number };
        expect((up.data as { amount: { value: number; currency: string } }).amount).toEqual({ value: d.cents / 100, currency: 'EUR' });
      }
    }
  });

  it('a version-1 shape stamped as current, or a current shape stamped 1, is refused naming the field', () => {
    const gen = createEvolvingPayments({ seed: 1, legacyEvents: 1 });
    const v1 = gen.next().events[0]!;
    const v3 = gen.next().events[0]!;
    expect(() => w.validate({ ...v1, metadata: { [SCHEMA_VERSION_KEY]: 3 } })).toThrow(/billing\.payment\.received v3: data/);
    expect(() => w.validate({ ...v3, metadata: { [SCHEMA_VERSION_KEY]: 1 } })).toThrow(ConfigError);
    expect(() => w.validate({ ...v3, metadata: { [SCHEMA_VERSION_KEY]: 7 } })).toThrow(/unknown schema version 7/);
  });

  it('a reader (readerView) accepts the current version only and gets a store that upcasts', async () => {
    const store = await createMemoryStore({ namespace: `evolving_${process.pid}` });
    await store.init();
    const gen = createEvolvingPayments({ seed: 2, legacyEvents: 5 });
    for (let i = 0; i < 10; i++) {
      const a = gen.next();
      await store.appendToStream(a.stream, a.events, { expectedVersion: a.expectedVersion });
    }
    const reader = readerView(w, store);
    const raw = await store.readAll({ category: 'payment' });
    expect(raw.map(schemaVersionOf).sort()).toEqual([1, 1, 1, 1, 1, 3, 3, 3, 3, 3]);
    expect(() => reader.workload.validate(raw.find((e) => schemaVersionOf(e) === 1)!)).toThrow(/schema version 1 where readers expect the current 3/);
    const seen = await reader.store.readAll({ category: 'payment' });
    for (const e of seen) reader.workload.validate(e);
    expect(seen.map(schemaVersionOf)).toEqual(Array(10).fill(3));
    // Any other workload passes through unchanged.
    const plain = readerView(workloads.invoices, store);
    expect(plain.store).toBe(store);
    expect(plain.workload).toBe(workloads.invoices);
    await store.close();
  });

  it('the exported current schema is the last version, and every version is listed', () => {
    expect(eventDataSchemas().get(PAYMENT_RECEIVED)).toBe(PaymentReceivedV3Schema);
    expect(eventSchemaVersions().get(PAYMENT_RECEIVED)).toEqual(INVOICES_EVOLVING_VERSIONS[PAYMENT_RECEIVED]);
  });
});
