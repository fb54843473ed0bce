/**
 * Event schema versions and upcasters (src/core/upcasting.ts) on the memory store: an invoice type whose
 * amount changed shape twice mid-run; readStream, readAll, subscriptions and dead letters hand out the
 * current shape for events of every stored version, the stored events stay as written, and a chain with a
 * gap or a step twice is refused.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, type RecordedEvent } from '../../src/core/event-store.ts';
import { SCHEMA_VERSION_KEY, createUpcasterChain, schemaVersionOf, stampSchemaVersion, withUpcasting, type Upcaster } from '../../src/core/upcasting.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import { waitFor } from '../contract/event-store-contract.ts';

// v1: { cents }, v2: { amount: { value, currency } }, v3: v2 + { vat }.
const steps: Upcaster<never, unknown>[] = [
  { type: 'invoice.paid', from: 2, upcast: (d: { amount: { value: number; currency: string } }) => ({ ...d, vat: Math.round(d.amount.value * 0.21 * 100) / 100 }) },
  { type: 'invoice.paid', from: 1, upcast: (d: { cents: number }) => ({ amount: { value: d.cents / 100, currency: 'EUR' } }) },
];
const chain = createUpcasterChain(steps);
const V3 = { amount: { value: 12.5, currency: 'EUR' }, vat: 2.63 };

describe('upcasting', () => {
  it('reads events of every stored schema version at the current one; the store keeps what was written', async () => {
    const raw = await createMemoryStore();
    const store = withUpcasting(raw, chain);
    await store.init();
    expect(chain.current('invoice.paid')).toBe(3);
    expect(chain.current('invoice.issued'), 'a type without upcasters is at version 1').toBe(1);
    // The schema evolves mid-run: v1 writers, then v2, then v3 (stamped by the writer).
    await store.appendToStream('invoice-1', [{ id: 'a', type: 'invoice.paid', data: { cents: 1250 } }]);
    await store.appendToStream('invoice-1', [{ id: 'b', type: 'invoice.paid', data: { amount: { value: 12.5, currency: 'EUR' } }, metadata: { [SCHEMA_VERSION_KEY]: 2 } }]);
    await store.appendToStream('invoice-1', [stampSchemaVersion(chain, { id: 'c', type: 'invoice.paid', data: V3, metadata: { source: 'v3' } })]);
    await store.appendToStream('invoice-1', [{ id: 'd', type: 'invoice.issued', data: { cents: 5 } }]);

    const read = await store.readStream('invoice-1');
    expect(read.slice(0, 3).map((e) => e.data)).toEqual([V3, V3, V3]);
    expect(read.slice(0, 3).map(schemaVersionOf)).toEqual([3, 3, 3]);
    expect(read[2]!.metadata).toEqual({ source: 'v3', [SCHEMA_VERSION_KEY]: 3 });
    expect(read[3]!.data, 'other types untouched').toEqual({ cents: 5 });
    expect(await store.readAll({ category: 'invoice' })).toEqual(read);
    // Stored as written.
    expect((await raw.readStream('invoice-1')).map((e) => e.data)).toEqual([{ cents: 1250 }, { amount: { value: 12.5, currency: 'EUR' } }, V3, { cents: 5 }]);

    const seen: RecordedEvent[] = [];
    const sub = await store.subscribe('upcast', (e) => void seen.push(e), { category: 'invoice' });
    await waitFor('4 delivered', () => seen.length === 4);
    expect(seen.map((e) => e.data)).toEqual(read.map((e) => e.data));
    await sub.close();

    // Dead letters carry the event as the handler saw it.
    const poisoned = await store.subscribe('poison', () => {
      throw new Error('no');
    }, { category: 'invoice', maxDeliver: 1, backoffMs: [1] });
    await waitFor('dead letters', async () => (await store.readDeadLetters('poison')).length === 4);
    expect((await store.readDeadLetters('poison'))[0]!.event.data).toEqual(V3);
    await poisoned.close();
    await store.close();
  });

  it('returns the same object for an event at the current version (no copy on the hot path)', () => {
    const e = { id: 'x', type: 'invoice.paid', data: V3, metadata: { [SCHEMA_VERSION_KEY]: 3 } } as unknown as RecordedEvent;
    expect(chain.upcast(e)).toBe(e);
  });

  it('refuses a chain with a gap, a step twice, or a malformed step', () => {
    const step = (from: number): Upcaster<never, unknown> => ({ type: 't.x', from, upcast: (d) => d });
    expect(() => createUpcasterChain([step(1), step(3)])).toThrow(/no upcaster from version 2/);
    expect(() => createUpcasterChain([step(1), step(1)])).toThrow(/two upcasters from version 1/);
    expect(() => createUpcasterChain([step(2)])).toThrow(ConfigError);
    expect(() => createUpcasterChain([{ type: 't.x', from: 0, upcast: (d) => d }])).toThrow(/integer >= 1/);
  });
});
