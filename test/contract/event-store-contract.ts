/**
 * The shared EventStore contract suite: every guarantee of src/core/event-store.ts and of
 * docs/design.md §The EventStore contract as one test, the same for every backend (see `contractCases`
 * for the list).
 *
 * Use from a backend's test file:
 *
 *     const schema = uniqueName('pgc');
 *     runEventStoreContract('postgres', {
 *       open: () => createPostgresStore({ pgUrl: testPgUrl(), schema }),
 *       cleanup: () => dropSchema(schema),
 *     }, POSTGRES_CAPABILITIES);
 *
 * `ContractTarget` rules:
 * - Every `open()` of one target returns a NEW store instance (its own connections) on the SAME isolated
 *   namespace (schema / stream prefix): two opened stores behave like two processes sharing one server.
 *   That is how the suite tests competing consumers and resuming after a crash.
 * - The suite calls `init()` on and closes every store it opens; `cleanup` (optional) runs once after the suite.
 * - `settings.idempotencyWindowMs` is passed only when `capabilities.idempotencyWindowMs` is a number:
 *   the returned store must deduplicate with that (small) window, e.g. a JetStream duplicate_window. It may
 *   use a namespace of its own for that.
 * - `capabilities` is what the backend declares; the suite checks `store.capabilities` equals it, turns
 *   each `false` into "refuses with CapabilityError" and each `true` into "works".
 *
 * Each test writes to categories and subscription names of its own (`uniqueName`) and passes the
 * category to `readAll` / `subscribe`, so the tests of one target never see each other's events.
 * Waits are conditions with bounded timeouts; ack waits and backoffs are small and passed as options
 * (ackWaitMs 1000, backoffMs [200, 400], closeTimeoutMs 300).
 *
 * The cases are exported as data (`contractCases`, `runContractCase`) so
 * test/contract-suite-not-vacuous.unit.test.ts can run them against deliberately broken backends and
 * assert that they fail, and against a store declaring a server's limits so the `false` branches run.
 */
import { describe, expect, it, afterAll } from 'vitest';
import {
  CapabilityError,
  ConfigError,
  DuplicateEventError,
  StoreUnavailableError,
  VersionConflictError,
  type AppendResult,
  type Capabilities,
  type DeliveryContext,
  type EventHandler,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
  type Subscription,
  type SubscriptionOptions,
} from '../../src/core/event-store.ts';
import { uniqueName } from '../support/servers.ts';

// ---------------------------------------------------------------------------------------------------
// The harness type
// ---------------------------------------------------------------------------------------------------

export interface ContractStoreSettings {
  /** Only when the declared `idempotencyWindowMs` is a number: the dedup window the store must use. */
  idempotencyWindowMs?: number;
}

export interface ContractTarget {
  /** A new store instance on the target's one isolated namespace (see the rules above). */
  open(settings?: ContractStoreSettings): Promise<EventStore>;
  /** Drops the namespace (schema, streams) after the suite. */
  cleanup?(): Promise<void>;
}

export interface ContractCase {
  name: string;
  /** Per-test timeout for `it()`, ms (default 30 s: real servers are slower than memory). */
  timeoutMs?: number;
  run(ctx: ContractContext): Promise<void>;
}

/** What a case gets: the declared capabilities and an `open()` whose stores and subscriptions are closed after the case. */
export class ContractContext {
  private readonly stores: EventStore[] = [];
  private readonly subscriptions: Subscription[] = [];

  constructor(
    readonly target: ContractTarget,
    readonly capabilities: Capabilities,
    /** Upper bound for every wait of a case (the not-vacuous test shortens it: a broken store never gets there). */
    readonly maxWaitMs = Infinity,
  ) {}

  /** `waitFor` bounded by both `timeoutMs` and the context's `maxWaitMs`. */
  waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
    return waitFor(what, check, Math.min(timeoutMs, this.maxWaitMs));
  }

  async open(settings?: ContractStoreSettings): Promise<EventStore> {
    const store = await this.target.open(settings);
    this.stores.push(store);
    await store.init();
    return store;
  }

  async subscribe(
    store: EventStore,
    name: string,
    handler: EventHandler,
    options: SubscriptionOptions,
  ): Promise<Subscription> {
    const sub = await store.subscribe(name, handler, { closeTimeoutMs: 300, ...options });
    this.subscriptions.push(sub);
    return sub;
  }

  /** Closes everything the case opened, also when it failed. */
  async dispose(): Promise<void> {
    await Promise.allSettled(this.subscriptions.map((s) => s.close()));
    await Promise.allSettled(this.stores.map((s) => s.close()));
  }
}

/** Runs one case with its own context (used by `it()` below and by the not-vacuous test). */
export async function runContractCase(
  c: ContractCase,
  target: ContractTarget,
  capabilities: Capabilities,
  options: { maxWaitMs?: number } = {},
): Promise<void> {
  const ctx = new ContractContext(target, capabilities, options.maxWaitMs);
  try {
    await c.run(ctx);
  } finally {
    await ctx.dispose();
  }
}

export function runEventStoreContract(name: string, target: ContractTarget, capabilities: Capabilities): void {
  describe(`EventStore contract: ${name}`, () => {
    afterAll(async () => {
      await target.cleanup?.();
    });
    for (const c of contractCases) {
      it(c.name, () => runContractCase(c, target, capabilities), c.timeoutMs ?? 30_000);
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

/** Small ack wait and backoff so failure paths run in well under a second per step, also on real servers. */
const FAST: SubscriptionOptions = { ackWaitMs: 1000, backoffMs: [200, 400], closeTimeoutMs: 300 };

function ev(id: string, data: unknown = { n: id }, extra: Partial<NewEvent> = {}): NewEvent {
  return { id, type: 'contract.tested', data, ...extra };
}

function ids(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
}

/** Polls `check` until it returns true; throws naming `what` after `timeoutMs`. Never sleeps blindly. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The error an async call threw (fails the test when it did not throw). */
async function caught(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw, it succeeded');
}

async function expectConfigError(what: string, fn: () => Promise<unknown>): Promise<ConfigError> {
  const err = await caught(fn);
  expect(err, `${what}: ${String(err)}`).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

/** Serialised size as prepareAppend counts it (data + metadata JSON + 256 bytes of envelope). */
function eventBytes(data: unknown, metadata: Record<string, unknown> = {}): number {
  return Buffer.byteLength(JSON.stringify(data)) + Buffer.byteLength(JSON.stringify(metadata)) + 256;
}

/** Distinct printable unicode, so a truncation or re-encoding anywhere changes the content. */
function bigText(bytes: number): string {
  const unit = 'Schuldhulp €42,50 — ünïcödé 😀 e\u0301 日本語 ';
  const unitBytes = Buffer.byteLength(unit);
  return unit.repeat(Math.floor(bytes / unitBytes)) + 'x'.repeat(bytes % unitBytes);
}

// ---------------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------------

export const contractCases: ContractCase[] = [
  {
    name: 'declares its capabilities and backend name',
    async run(ctx) {
      const store = await ctx.open();
      expect(store.backend).toMatch(/^[a-z][a-z0-9_-]*$/);
      expect(store.capabilities).toEqual(ctx.capabilities);
      await store.init(); // idempotent
    },
  },

  {
    name: 'of N concurrent appends with the same expected version exactly one wins, the others get VersionConflictError',
    async run(ctx) {
      const [a, b] = [await ctx.open(), await ctx.open()];
      const stores = [a, b];
      const n = 10;
      const category = uniqueName('occ');

      // A number as expected version, on an existing stream.
      const stream = `${category}-1`;
      await a.appendToStream(stream, [ev('seed')], { expectedVersion: 'no_stream' });
      const results = await Promise.allSettled(
        ids('racer', n).map((id, i) => stores[i % 2]!.appendToStream(stream, [ev(id)], { expectedVersion: 1 })),
      );
      const won = results.filter((r): r is PromiseFulfilledResult<AppendResult> => r.status === 'fulfilled');
      expect(won, 'exactly one concurrent append succeeds').toHaveLength(1);
      expect(won[0]!.value.streamVersion).toBe(2);
      for (const r of results) {
        if (r.status === 'fulfilled') continue;
        expect(r.reason).toBeInstanceOf(VersionConflictError);
        const conflict = r.reason as VersionConflictError;
        expect(conflict.stream).toBe(stream);
        expect(conflict.expected).toBe(1);
        expect(conflict.actual).toBe(2);
      }
      const stored = await b.readStream(stream);
      expect(stored.map((e) => e.version)).toEqual([1, 2]);
      const winner = results.findIndex((r) => r.status === 'fulfilled');
      expect(stored[1]!.id).toBe(`racer${winner + 1}`);

      // `no_stream` on a new stream: one creates it, the rest conflict with the actual version 1.
      const fresh = `${category}-2`;
      const creates = await Promise.allSettled(
        ids('creator', n).map((id, i) => stores[i % 2]!.appendToStream(fresh, [ev(id)], { expectedVersion: 'no_stream' })),
      );
      expect(creates.filter((r) => r.status === 'fulfilled'), 'exactly one no_stream append succeeds').toHaveLength(1);
      for (const r of creates) {
        if (r.status === 'rejected') {
          expect(r.reason).toBeInstanceOf(VersionConflictError);
          expect((r.reason as VersionConflictError).expected).toBe('no_stream');
          expect((r.reason as VersionConflictError).actual).toBe(1);
        }
      }
      expect(await a.streamVersion(fresh)).toBe(1);
    },
  },

  {
    name: 'expected version: number, no_stream, exists and any',
    async run(ctx) {
      const store = await ctx.open();
      const category = uniqueName('ev');
      const s = `${category}-1`;

      const exists = await caught(() => store.appendToStream(s, [ev('x0')], { expectedVersion: 'exists' }));
      expect(exists).toBeInstanceOf(VersionConflictError);
      expect((exists as VersionConflictError).actual).toBe(0);
      expect(await store.streamVersion(s), 'a refused append writes nothing').toBe(0);

      expect((await store.appendToStream(s, [ev('x1')], { expectedVersion: 0 })).streamVersion).toBe(1);
      const noStream = await caught(() => store.appendToStream(s, [ev('x2')], { expectedVersion: 'no_stream' }));
      expect(noStream).toBeInstanceOf(VersionConflictError);
      expect((noStream as VersionConflictError).actual).toBe(1);
      expect((await store.appendToStream(s, [ev('x2')], { expectedVersion: 'exists' })).streamVersion).toBe(2);
      expect((await store.appendToStream(s, [ev('x3')], { expectedVersion: 'any' })).streamVersion).toBe(3);
      expect((await store.appendToStream(s, [ev('x4')])).streamVersion, 'default is any').toBe(4);
      expect((await store.appendToStream(s, [ev('x5')], { expectedVersion: 4 })).streamVersion).toBe(5);

      for (const stale of [0, 3, 4, 6]) {
        const err = await caught(() => store.appendToStream(s, [ev(`stale${stale}`)], { expectedVersion: stale }));
        expect(err, `expected version ${stale} on a stream at 5`).toBeInstanceOf(VersionConflictError);
        expect((err as VersionConflictError).expected).toBe(stale);
        expect((err as VersionConflictError).actual).toBe(5);
      }
      expect((await store.readStream(s)).map((e) => e.id)).toEqual(['x1', 'x2', 'x3', 'x4', 'x5']);

      for (const bad of [-1, 1.5, 'latest', null]) {
        await expectConfigError(`expectedVersion ${String(bad)}`, () =>
          store.appendToStream(s, [ev(`bad${String(bad)}`)], { expectedVersion: bad as never }),
        );
      }
      expect(await store.streamVersion(s)).toBe(5);
    },
  },

  {
    name: 'versions are contiguous from 1 and results report the version and positions',
    async run(ctx) {
      const store = await ctx.open();
      const category = uniqueName('ver');
      const s = `${category}-abc_1-x`;
      expect(await store.readStream(s), 'an absent stream reads as []').toEqual([]);
      expect(await store.streamVersion(s)).toBe(0);

      const r1 = await store.appendToStream(s, [ev('v1')]);
      const r2 = await store.appendToStream(s, [ev('v2'), ev('v3'), ev('v4')]);
      const r3 = await store.appendToStream(s, [ev('v5'), ev('v6')], { expectedVersion: 4 });
      expect([r1.streamVersion, r2.streamVersion, r3.streamVersion]).toEqual([1, 4, 6]);
      expect([r1.duplicate, r2.duplicate, r3.duplicate]).toEqual([false, false, false]);
      const positions = [...r1.positions, ...r2.positions, ...r3.positions];
      expect(positions).toHaveLength(6);
      for (let i = 1; i < positions.length; i++) expect(positions[i]!).toBeGreaterThan(positions[i - 1]!);

      const read = await store.readStream(s);
      expect(read.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(read.map((e) => e.id)).toEqual(ids('v', 6));
      expect(read.map((e) => e.position)).toEqual(positions);
      for (const e of read) {
        expect(e.stream).toBe(s);
        expect(e.aggregateType, 'aggregateType defaults to the category').toBe(category);
        expect(e.aggregateId, 'aggregateId defaults to the id part').toBe('abc_1-x');
        expect(e.correlationId, 'correlationId defaults to the event id').toBe(e.id);
        expect(e.causationId).toBeUndefined();
      }
      expect(await store.streamVersion(s)).toBe(6);
    },
  },

  {
    name: 'reads back payload, metadata, timestamp and envelope exactly as written (unicode, nesting, numbers)',
    async run(ctx) {
      const [writer, reader] = [await ctx.open(), await ctx.open()];
      const s = `${uniqueName('rt')}-1`;
      const data = {
        text: 'Zoë café naïve — 日本語 — عربى — 😀👍🏽👨‍👩‍👧 — e\u0301 vs \u00e9 — "quotes" \\ back\\slash \n\t tab',
        emoji: '🏳️‍🌈🇳🇱',
        combining: 'a\u0300\u0301\u0302 Å (A\u030a) vs \u212b',
        numbers: [0, -1, 1.5, 0.1, 1e21, 123456789012345, Number.MAX_SAFE_INTEGER, -2.5e-7],
        flags: [true, false, null],
        empty: { string: '', array: [], object: {} },
        nested: { level1: { level2: { level3: { level4: ['deep', { k: 'v' }] } } } },
        amount: { value: 1234.56, currency: 'EUR' },
      };
      const metadata = { source: 'contract-suite', traceparent: '00-abc-def-01', tags: ['ü', '😀'], nested: { a: [1, { b: null }] } };
      const timestamp = '2026-01-02T03:04:05.123456+01:00'; // not canonical ISO: must come back unchanged
      const written: NewEvent[] = [
        {
          id: 'rt-1',
          type: 'billing.invoice.issued',
          data,
          metadata,
          timestamp,
          correlationId: 'corr-ü-1',
          causationId: 'cause-1',
          aggregateId: 'agg-1',
          aggregateType: 'invoice',
        },
        { id: 'rt-2', type: 'case.intake', data: 'a bare string 😀' },
        { id: 'rt-3', type: 'case.intake', data: [1, 'two', { three: 3 }] },
        { id: 'rt-4', type: 'case.intake', data: null },
        { id: 'rt-5', type: 'case.intake', data: 42.125 },
      ];
      const before = Date.now();
      await writer.appendToStream(s, written);
      // The store keeps what was written, not the caller's objects.
      data.nested.level1.level2.level3.level4.push('mutated after append');
      (metadata.tags as string[]).push('mutated');

      const read = await reader.readStream(s);
      expect(read).toHaveLength(5);
      const first = read[0]!;
      expect(first.data).toStrictEqual({
        ...data,
        nested: { level1: { level2: { level3: { level4: ['deep', { k: 'v' }] } } } },
      });
      expect(first.metadata).toStrictEqual({ ...metadata, tags: ['ü', '😀'] });
      expect((first.data as typeof data).text).toBe(
        'Zoë café naïve — 日本語 — عربى — 😀👍🏽👨‍👩‍👧 — e\u0301 vs \u00e9 — "quotes" \\ back\\slash \n\t tab',
      );
      expect((first.data as typeof data).combining).toBe('a\u0300\u0301\u0302 Å (A\u030a) vs \u212b');
      expect(first.timestamp).toBe(timestamp);
      expect(first).toMatchObject({
        id: 'rt-1',
        type: 'billing.invoice.issued',
        correlationId: 'corr-ü-1',
        causationId: 'cause-1',
        aggregateId: 'agg-1',
        aggregateType: 'invoice',
        version: 1,
        stream: s,
      });
      expect(read.slice(1).map((e) => e.data)).toStrictEqual(['a bare string 😀', [1, 'two', { three: 3 }], null, 42.125]);
      for (const e of read.slice(1)) {
        expect(e.metadata, 'metadata defaults to {}').toStrictEqual({});
        const t = Date.parse(e.timestamp);
        expect(Number.isFinite(t), `default timestamp ${e.timestamp} is a date`).toBe(true);
        expect(t).toBeGreaterThanOrEqual(before - 5000);
        expect(t).toBeLessThanOrEqual(Date.now() + 5000);
      }

      // A reader mutating what it read does not change the store.
      (read[2]!.data as unknown[]).push('mutated by reader');
      expect((await reader.readStream(s))[2]!.data).toStrictEqual([1, 'two', { three: 3 }]);
      // readAll gives the same envelopes as readStream.
      const all = await reader.readAll({ category: s.slice(0, s.indexOf('-')) });
      expect(all).toEqual(await reader.readStream(s));
    },
  },

  {
    name: 'reads back large bodies up to 1 MB exactly; refuses an oversize event with ConfigError',
    timeoutMs: 60_000,
    async run(ctx) {
      const store = await ctx.open();
      const category = uniqueName('big');
      const max = ctx.capabilities.maxEventBytes;
      let stored = 0;
      for (const size of [1024, 64 * 1024, 256 * 1024, 1024 * 1024 - 4096, 1024 * 1024]) {
        const data = { body: bigText(size), size };
        if (eventBytes(data) > max) continue; // larger than this backend declares: checked below instead
        const s = `${category}-${size}`;
        await store.appendToStream(s, [ev(`big${size}`, data)], { expectedVersion: 'no_stream' });
        const [back] = await store.readStream(s);
        expect(back?.data, `a ${size}-byte body comes back unchanged`).toStrictEqual(data);
        expect(Buffer.byteLength((back!.data as typeof data).body)).toBe(size);
        stored += 1;
      }
      expect(stored, 'at least bodies of 1 KiB and 64 KiB fit').toBeGreaterThanOrEqual(2);

      const s = `${category}-over`;
      const over = { body: 'x'.repeat(max) };
      const err = await expectConfigError('oversize event', () => store.appendToStream(s, [ev('over', over)]));
      expect(err.message).toMatch(/bytes|size|large|limit/i);
      expect(await store.streamVersion(s), 'nothing written').toBe(0);
      // A multi-event append with one oversize event writes none of them.
      await expectConfigError('oversize in a batch', () => store.appendToStream(s, [ev('small'), ev('over2', over)]));
      expect(await store.streamVersion(s)).toBe(0);
    },
  },

  {
    name: 'readStream: forward, backward, fromVersion, limit',
    async run(ctx) {
      const store = await ctx.open();
      const s = `${uniqueName('rs')}-1`;
      await store.appendToStream(s, ids('r', 10).map((id) => ev(id)));
      const versions = async (o: Parameters<EventStore['readStream']>[1]) => (await store.readStream(s, o)).map((e) => e.version);
      expect(await versions({})).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(await versions({ direction: 'forward', fromVersion: 4, limit: 3 })).toEqual([4, 5, 6]);
      expect(await versions({ fromVersion: 8 })).toEqual([8, 9, 10]);
      expect(await versions({ limit: 2 })).toEqual([1, 2]);
      expect(await versions({ fromVersion: 11 })).toEqual([]);
      expect(await versions({ direction: 'backward' })).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      expect(await versions({ direction: 'backward', fromVersion: 5, limit: 2 })).toEqual([5, 4]);
      expect(await versions({ direction: 'backward', limit: 3 })).toEqual([10, 9, 8]);
      expect(await versions({ direction: 'backward', fromVersion: 1 })).toEqual([1]);
    },
  },

  {
    name: 'readAll: every event exactly once by strictly increasing position, paging with fromPosition',
    async run(ctx) {
      const [a, b] = [await ctx.open(), await ctx.open()];
      const category = uniqueName('all');
      const other = uniqueName('other');
      const appended = new Map<string, number>(); // id -> position
      // Interleaved and concurrent writers over several streams and two store instances.
      await Promise.all(
        [0, 1, 2, 3].map(async (w) => {
          const store = w % 2 ? a : b;
          for (let i = 0; i < 6; i++) {
            const id = `w${w}e${i}`;
            const r = await store.appendToStream(`${category}-${w}`, [ev(id)]);
            appended.set(id, r.positions[0]!);
            await store.appendToStream(`${other}-${w}`, [ev(`o${w}e${i}`)]);
          }
        }),
      );
      const batch = await a.appendToStream(`${category}-batch`, ids('batch', 3).map((id) => ev(id)));
      ids('batch', 3).forEach((id, i) => appended.set(id, batch.positions[i]!));

      const all = await b.readAll({ category });
      expect(all.map((e) => e.id).sort()).toEqual([...appended.keys()].sort());
      for (let i = 1; i < all.length; i++) expect(all[i]!.position).toBeGreaterThan(all[i - 1]!.position);
      for (const e of all) expect(e.position, `position of ${e.id} = the one its append returned`).toBe(appended.get(e.id));
      // Per stream, position order is version order.
      for (const stream of new Set(all.map((e) => e.stream))) {
        const versions = all.filter((e) => e.stream === stream).map((e) => e.version);
        expect(versions).toEqual(versions.map((_, i) => i + 1));
      }

      // Paging: limit + fromPosition (exclusive) reproduce the same sequence.
      const paged: RecordedEvent[] = [];
      let from = 0;
      for (let page = 0; page < 100; page++) {
        const chunk = await a.readAll({ category, fromPosition: from, limit: 4 });
        if (chunk.length === 0) break;
        expect(chunk.length).toBeLessThanOrEqual(4);
        paged.push(...chunk);
        from = chunk[chunk.length - 1]!.position;
      }
      expect(paged).toEqual(all);
      expect(await a.readAll({ category, fromPosition: all[all.length - 1]!.position })).toEqual([]);

      if (ctx.capabilities.globalOrder) {
        // Without a category: one total order over all streams, ours included exactly once.
        const global = await a.readAll({ fromPosition: Math.min(...appended.values()) - 1 });
        for (let i = 1; i < global.length; i++) expect(global[i]!.position).toBeGreaterThan(global[i - 1]!.position);
        const ours = global.filter((e) => appended.has(e.id));
        expect(ours.map((e) => e.id)).toEqual(all.map((e) => e.id));
        expect(global.filter((e) => e.stream.startsWith(`${other}-`))).toHaveLength(24);
      }
    },
  },

  {
    name: 'an event id already stored is stored once: a retry returns duplicate with the original positions',
    async run(ctx) {
      const [a, b] = [await ctx.open(), await ctx.open()];
      const category = uniqueName('dup');
      const s = `${category}-1`;
      const first = await a.appendToStream(s, [ev('d1')], { expectedVersion: 'no_stream' });
      // The retry comes from another client and with an expected version that no longer holds.
      const retry = await b.appendToStream(s, [ev('d1')], { expectedVersion: 'no_stream' });
      expect(retry.duplicate).toBe(true);
      expect(retry.positions).toEqual(first.positions);
      expect(retry.streamVersion).toBe(1);

      const batch = await a.appendToStream(s, [ev('d2'), ev('d3')], { expectedVersion: 1 });
      const batchRetry = await a.appendToStream(s, [ev('d2'), ev('d3')], { expectedVersion: 1 });
      expect(batchRetry).toEqual({ ...batch, duplicate: true });

      const partial = await caught(() => a.appendToStream(s, [ev('d3'), ev('d4')]));
      expect(partial, 'some ids stored, some new').toBeInstanceOf(DuplicateEventError);
      expect((partial as DuplicateEventError).eventIds).toContain('d3');
      const elsewhere = await caught(() => b.appendToStream(`${category}-2`, [ev('d1')]));
      expect(elsewhere, 'an id stored in another stream').toBeInstanceOf(DuplicateEventError);

      expect((await b.readStream(s)).map((e) => e.id)).toEqual(['d1', 'd2', 'd3']);
      expect(await b.streamVersion(`${category}-2`)).toBe(0);
      expect((await b.readAll({ category })).map((e) => e.id)).toEqual(['d1', 'd2', 'd3']);
    },
  },

  {
    name: 'idempotency window: as declared (a repeat after a finite window is stored again; null remembers)',
    timeoutMs: 30_000,
    async run(ctx) {
      const windowMs = ctx.capabilities.idempotencyWindowMs;
      const store = windowMs === null ? await ctx.open() : await ctx.open({ idempotencyWindowMs: 1000 });
      const effective = windowMs === null ? null : 1000;
      const s = `${uniqueName('win')}-1`;
      const t0 = Date.now();
      await store.appendToStream(s, [ev('w1')]);
      expect((await store.appendToStream(s, [ev('w1')])).duplicate, 'a retry inside the window').toBe(true);
      if (effective === null) {
        await sleep(1200);
        expect((await store.appendToStream(s, [ev('w1')])).duplicate, 'remembered beyond 1 s').toBe(true);
        expect(await store.streamVersion(s)).toBe(1);
        return;
      }
      // Declared behaviour: after the window the same id is a new event.
      let stored: AppendResult | undefined;
      await ctx.waitFor(
        'a repeat after the idempotency window to be stored',
        async () => {
          const r = await store.appendToStream(s, [ev('w1')]);
          if (!r.duplicate) stored = r;
          return !r.duplicate;
        },
        effective * 5 + 5000,
      );
      expect(Date.now() - t0).toBeGreaterThanOrEqual(effective * 0.9);
      expect(stored!.streamVersion).toBe(2);
      expect((await store.readStream(s)).map((e) => e.id)).toEqual(['w1', 'w1']);
    },
  },

  {
    name: 'a subscription delivers every event in order to one consumer, live ones too; lag counts unacknowledged events',
    async run(ctx) {
      const store = await ctx.open();
      const category = uniqueName('sub');
      for (let i = 0; i < 12; i++) await store.appendToStream(`${category}-${i % 3}`, [ev(`s${i}`)]);
      const seen: RecordedEvent[] = [];
      const attempts: number[] = [];
      const sub = await ctx.subscribe(
        store,
        uniqueName('inorder'),
        (e, c: DeliveryContext) => {
          seen.push(e);
          attempts.push(c.attempt);
        },
        { ...FAST, category },
      );
      await ctx.waitFor('12 events delivered', () => seen.length >= 12);
      for (let i = 0; i < 5; i++) await store.appendToStream(`${category}-live`, [ev(`live${i}`)]);
      await ctx.waitFor('17 events delivered', () => seen.length >= 17);
      await ctx.waitFor('lag 0', async () => (await sub.lag()) === 0);
      const expected = await store.readAll({ category });
      expect(seen.map((e) => e.id), 'in position order, each once').toEqual(expected.map((e) => e.id));
      expect(seen, 'delivered envelopes equal the read ones').toEqual(expected);
      expect(new Set(attempts)).toEqual(new Set([1]));
      expect(sub.name).toMatch(/^inorder_/);

      // Lag: events not yet acknowledged (a handler that holds them back).
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const held: string[] = [];
      const heldSub = await ctx.subscribe(
        store,
        uniqueName('lag'),
        async (e) => {
          held.push(e.id);
          await gate;
        },
        { ...FAST, category, from: 'end', maxInFlight: 1 },
      );
      for (let i = 0; i < 5; i++) await store.appendToStream(`${category}-lag`, [ev(`lag${i}`)]);
      await ctx.waitFor('lag 5 while the handler holds the first', async () => (await heldSub.lag()) === 5);
      expect(held.every((id) => id.startsWith('lag')), 'from: end skips older events').toBe(true);
      release();
      await ctx.waitFor('lag 0 after release', async () => (await heldSub.lag()) === 0);
      expect(held).toEqual(['lag0', 'lag1', 'lag2', 'lag3', 'lag4']);
    },
  },

  {
    name: 'a live subscription never skips an event while concurrent writers commit out of position order',
    async run(ctx) {
      const [a, b] = [await ctx.open(), await ctx.open()];
      const category = uniqueName('gaps');
      const seen = new Map<string, number>();
      await ctx.subscribe(a, uniqueName('nogaps'), (e) => void seen.set(e.id, (seen.get(e.id) ?? 0) + 1), {
        ...FAST,
        category,
      });
      // Bursts of concurrent appends from two clients over many streams: on a server, transactions that
      // took a position commit in another order than they took it (the PostgreSQL sequence-gap case).
      // A two-event append gets a stream of its own: on a backend without atomicMultiAppend (JetStream
      // 2.9) another writer landing between its two publishes stops it with a PartialAppendError, which
      // is that capability's documented contract, not what this case is about.
      const written: string[] = [];
      for (let burst = 0; burst < 4; burst++) {
        await Promise.all(
          Array.from({ length: 40 }, async (_, i) => {
            const id = `g${burst}_${i}`;
            const pair = i % 10 === 0;
            const events = pair ? [ev(id), ev(`${id}_b`)] : [ev(id)];
            await (i % 2 ? a : b).appendToStream(pair ? `${category}-pair${burst}_${i}` : `${category}-${i % 16}`, events);
            written.push(...events.map((e) => e.id));
          }),
        );
      }
      const missing = () => written.filter((id) => !seen.has(id));
      await ctx.waitFor('every written event delivered', () => missing().length === 0, 20_000);
      expect(seen.size).toBe(written.length);
      const readBack = await b.readAll({ category });
      expect(readBack.map((e) => e.id).sort()).toEqual([...written].sort());
    },
  },

  {
    name: 'a subscription resumes from its checkpoint after its consumer dies mid-batch: nothing lost, nothing acked redone',
    async run(ctx) {
      const first = await ctx.open();
      const category = uniqueName('crash');
      const name = uniqueName('resume');
      const all = ids('c', 10);
      for (const id of all) await first.appendToStream(`${category}-${id.length % 2}`, [ev(id)]);

      // Consumer 1 acknowledges c1..c4, then hangs on c5 (and anything after it) until it "dies".
      const acked: string[] = [];
      let hung = false;
      const sub1 = await first.subscribe(
        name,
        async (e) => {
          if (!hung && acked.length < 4) {
            acked.push(e.id);
            return;
          }
          hung = true;
          await new Promise<never>(() => {}); // never finishes: the process died mid-batch
        },
        { ...FAST, category, closeTimeoutMs: 200 },
      );
      await ctx.waitFor('consumer 1 to hang mid-batch', () => hung);
      // Let the four acks reach the server before the crash (acks may be asynchronous).
      await sleep(200);
      const t0 = Date.now();
      await sub1.close();
      expect(Date.now() - t0, 'close() gives up on a stuck handler after closeTimeoutMs').toBeLessThan(3000);
      await first.close();

      // A new store (the restarted process) with the same subscription name.
      const second = await ctx.open();
      const redelivered: string[] = [];
      await ctx.subscribe(second, name, (e) => void redelivered.push(e.id), { ...FAST, category });
      const missing = () => all.filter((id) => !acked.includes(id) && !redelivered.includes(id));
      await ctx.waitFor('every unacknowledged event redelivered', () => missing().length === 0, 15_000);
      expect(acked).toEqual(['c1', 'c2', 'c3', 'c4']);
      expect(redelivered.filter((id) => acked.includes(id)), 'acknowledged events are not redone').toEqual([]);
      expect(new Set(redelivered)).toEqual(new Set(all.slice(4)));
    },
  },

  {
    name: 'deleteSubscription forgets a subscription: the next subscriber of the name starts anew; refused while a consumer is open',
    async run(ctx) {
      const store = await ctx.open();
      const category = uniqueName('forget');
      const name = uniqueName('gone');
      const all = ids('f', 3);
      for (const id of all) await store.appendToStream(`${category}-1`, [ev(id)]);
      const first: string[] = [];
      const sub = await ctx.subscribe(store, name, (e) => void first.push(e.id), { ...FAST, category });
      await ctx.waitFor('all delivered', () => first.length === all.length);
      await ctx.waitFor('all acknowledged', async () => (await sub.lag()) === 0);
      await expectConfigError('deleting an open subscription', () => store.deleteSubscription(name, { category }));
      await sub.close();
      expect(await store.deleteSubscription(name, { category })).toBe(true);
      expect(await store.deleteSubscription(name, { category }), 'a second delete finds nothing').toBe(false);
      // Without the delete, the checkpoint would hold this subscriber at the end: it would get nothing.
      const again: string[] = [];
      await ctx.subscribe(store, name, (e) => void again.push(e.id), { ...FAST, category });
      await ctx.waitFor('delivered again from the start', () => again.length === all.length);
      expect(again).toEqual(all);
    },
  },

  {
    name: 'competing consumers on one subscription name split the work with no event lost',
    async run(ctx) {
      const [a, b] = [await ctx.open(), await ctx.open()];
      const category = uniqueName('compete');
      const name = uniqueName('workers');
      if (!ctx.capabilities.competingConsumers) {
        await ctx.subscribe(a, name, () => {}, { ...FAST, category });
        const err = await caught(() => ctx.subscribe(b, name, () => {}, { ...FAST, category }));
        expect(err).toBeInstanceOf(CapabilityError);
        return;
      }
      const got: Record<'a' | 'b', string[]> = { a: [], b: [] };
      const windows: { stream: string; version: number; start: number; end: number }[] = [];
      let clock = 0;
      const worker = (who: 'a' | 'b'): EventHandler => async (e) => {
        const start = clock++;
        await sleep(3);
        got[who].push(e.id);
        windows.push({ stream: e.stream, version: e.version, start, end: clock++ });
      };
      // A backlog where neighbouring positions share a stream (4 streams x 10 events, in runs of 5), so
      // two consumers taking neighbouring events would handle one stream concurrently unless the backend
      // orders per stream. Then live events on top.
      const all = ids('job', 48);
      for (let i = 0; i < 40; i++) {
        await (i % 2 ? a : b).appendToStream(`${category}-${Math.floor(i / 5) % 4}`, [ev(all[i]!)]);
      }
      const options = { ...FAST, category, maxInFlight: 2, batchSize: 2 };
      await ctx.subscribe(a, name, worker('a'), options);
      await ctx.subscribe(b, name, worker('b'), options);
      for (let i = 40; i < 48; i++) await (i % 2 ? a : b).appendToStream(`${category}-live`, [ev(all[i]!)]);
      const handled = () => new Set([...got.a, ...got.b]);
      await ctx.waitFor('all 48 events handled', () => handled().size === all.length, 20_000);
      expect([...handled()].sort()).toEqual([...all].sort());
      expect(got.a.length, 'consumer a got a share').toBeGreaterThan(0);
      expect(got.b.length, 'consumer b got a share').toBeGreaterThan(0);
      if (ctx.capabilities.orderedCompetingConsumers) {
        for (const stream of new Set(windows.map((w) => w.stream))) {
          const ws = windows.filter((w) => w.stream === stream).sort((x, y) => x.start - y.start);
          for (let i = 1; i < ws.length; i++) {
            expect(ws[i]!.version, `${stream} handled in version order`).toBeGreaterThan(ws[i - 1]!.version);
            expect(ws[i]!.start, `${stream} never handled concurrently`).toBeGreaterThan(ws[i - 1]!.end);
          }
        }
      }
    },
  },

  {
    name: 'a failing handler is retried with backoff and dead-lettered after exactly maxDeliver deliveries',
    async run(ctx) {
      const store = await ctx.open();
      const category = uniqueName('dlq');
      const name = uniqueName('poisoned');
      const deliveries: { attempt: number; at: number }[] = [];
      const fine: string[] = [];
      const sub = await ctx.subscribe(
        store,
        name,
        (e, c) => {
          if (e.id !== 'poison') {
            fine.push(e.id);
            return;
          }
          deliveries.push({ attempt: c.attempt, at: Date.now() });
          throw new Error(`cannot handle ${e.id} (attempt ${c.attempt})`);
        },
        { category, maxDeliver: 3, backoffMs: [200, 400], ackWaitMs: 1000, closeTimeoutMs: 300 },
      );
      await store.appendToStream(`${category}-1`, [ev('ok1'), ev('poison', { bad: true }), ev('ok2')]);
      await ctx.waitFor('a dead letter', async () => (await store.readDeadLetters(name)).length > 0, 15_000);
      const letters = await store.readDeadLetters(name);
      expect(letters).toHaveLength(1);
      const letter = letters[0]!;
      expect(letter.subscription).toBe(name);
      expect(letter.deliveries).toBe(3);
      expect(letter.reason).toContain('cannot handle poison');
      expect(letter.event).toMatchObject({ id: 'poison', stream: `${category}-1`, version: 2, data: { bad: true } });
      expect(Number.isFinite(Date.parse(letter.at))).toBe(true);

      expect(deliveries.map((d) => d.attempt)).toEqual([1, 2, 3]);
      const gap1 = deliveries[1]!.at - deliveries[0]!.at;
      const gap2 = deliveries[2]!.at - deliveries[1]!.at;
      expect(gap1, 'first retry after backoffMs[0] = 200').toBeGreaterThanOrEqual(180);
      expect(gap2, 'second retry after backoffMs[1] = 400').toBeGreaterThanOrEqual(360);
      expect(gap1).toBeLessThan(200 + 2000);
      expect(gap2).toBeLessThan(400 + 2000);

      // The subscription moved on: the others are handled, nothing more is delivered, lag drains.
      await ctx.waitFor('ok events handled', () => fine.includes('ok1') && fine.includes('ok2'));
      await ctx.waitFor('lag 0', async () => (await sub.lag()) === 0);
      await sleep(500);
      expect(deliveries, 'no delivery after the dead letter').toHaveLength(3);
      expect(await store.readDeadLetters(uniqueName('nobody'))).toEqual([]);
    },
  },

  {
    name: 'atomic multi-event append: all or nothing, or refused clearly when not offered',
    async run(ctx) {
      const store = await ctx.open();
      const s = `${uniqueName('atomic')}-1`;
      await store.appendToStream(s, [ev('a1')]);
      if (!ctx.capabilities.atomicMultiAppend) {
        const err = await caught(() => store.appendToStream(s, [ev('a2'), ev('a3')], { requireAtomic: true }));
        expect(err).toBeInstanceOf(CapabilityError);
        expect((err as CapabilityError).capability).toBe('atomicMultiAppend');
        expect(await store.streamVersion(s), 'a refusal writes nothing').toBe(1);
        return;
      }
      const r = await store.appendToStream(s, [ev('a2'), ev('a3'), ev('a4')], { expectedVersion: 1, requireAtomic: true });
      expect(r.streamVersion).toBe(4);
      const conflict = await caught(() =>
        store.appendToStream(s, [ev('a5'), ev('a6'), ev('a7')], { expectedVersion: 1, requireAtomic: true }),
      );
      expect(conflict).toBeInstanceOf(VersionConflictError);
      // A batch whose last event is invalid: refused before anything is written.
      await expectConfigError('invalid last event', () => store.appendToStream(s, [ev('a8'), ev('a9', 1n)]));
      expect((await store.readStream(s)).map((e) => e.id)).toEqual(['a1', 'a2', 'a3', 'a4']);
    },
  },

  {
    name: 'global order: readAll and subscribe without a category work, or are refused clearly',
    async run(ctx) {
      const store = await ctx.open();
      const category = uniqueName('glob');
      await store.appendToStream(`${category}-1`, [ev('g1')]);
      if (!ctx.capabilities.globalOrder) {
        const read = await caught(() => store.readAll({ limit: 1 }));
        expect(read).toBeInstanceOf(CapabilityError);
        expect((read as CapabilityError).capability).toBe('globalOrder');
        const sub = await caught(() => ctx.subscribe(store, uniqueName('nocat'), () => {}, FAST));
        expect(sub).toBeInstanceOf(CapabilityError);
        return;
      }
      const page = await store.readAll({ limit: 1 });
      expect(page).toHaveLength(1);
      const seen: string[] = [];
      await ctx.subscribe(store, uniqueName('global'), (e) => void seen.push(e.id), { ...FAST, from: 'end' });
      await store.appendToStream(`${category}-2`, [ev('g2')]);
      await store.appendToStream(`${uniqueName('glob')}-3`, [ev('g3')]);
      await ctx.waitFor('events of two categories delivered', () => seen.includes('g2') && seen.includes('g3'));
      expect(seen.indexOf('g2')).toBeLessThan(seen.indexOf('g3'));
    },
  },

  {
    name: 'bad input is refused with ConfigError and nothing is written',
    async run(ctx) {
      const store = await ctx.open();
      const category = uniqueName('bad');
      const s = `${category}-1`;
      for (const stream of ['nodash', '-1', `${category}-`, 'a b-1', 'case.x-1', 'ca*se-1', '1abc-1', '', `${category}-a.b`]) {
        const err = await expectConfigError(`stream name ${JSON.stringify(stream)}`, () => store.appendToStream(stream, [ev('x')]));
        expect(err).not.toBeInstanceOf(CapabilityError);
        await expectConfigError(`readStream ${JSON.stringify(stream)}`, () => store.readStream(stream));
      }
      const badEvents: [string, unknown][] = [
        ['type with a space', { id: 'b1', type: 'Bad Type', data: {} }],
        ['empty type', { id: 'b2', type: '', data: {} }],
        ['type starting with a digit', { id: 'b3', type: '1case.intake', data: {} }],
        ['type with an empty word', { id: 'b4', type: 'case..intake', data: {} }],
        ['missing id', { type: 'case.intake', data: {} }],
        ['empty id', { id: '', type: 'case.intake', data: {} }],
        ['BigInt in data', { id: 'b5', type: 'case.intake', data: { amount: 10n } }],
        ['function in data', { id: 'b6', type: 'case.intake', data: { f: () => 1 } }],
        ['NaN in data', { id: 'b7', type: 'case.intake', data: { n: Number.NaN } }],
        ['Infinity in metadata', { id: 'b8', type: 'case.intake', data: {}, metadata: { n: Infinity } }],
        ['symbol in data', { id: 'b9', type: 'case.intake', data: { s: Symbol('x') } }],
        ['metadata not an object', { id: 'b10', type: 'case.intake', data: {}, metadata: 'text' }],
      ];
      const circular: Record<string, unknown> = { name: 'loop' };
      circular.self = circular;
      badEvents.push(['circular data', { id: 'b11', type: 'case.intake', data: circular }]);
      for (const [what, event] of badEvents) {
        await expectConfigError(what, () => store.appendToStream(s, [event as NewEvent]));
        await expectConfigError(`${what} after a good event`, () => store.appendToStream(s, [ev('good'), event as NewEvent]));
      }
      await expectConfigError('no events', () => store.appendToStream(s, []));
      await expectConfigError('an id twice in one append', () => store.appendToStream(s, [ev('twice'), ev('twice')]));
      await expectConfigError('subscription name with a dot', () => ctx.subscribe(store, 'bad.name', () => {}, { ...FAST, category }));
      await expectConfigError('subscription name with a space', () => ctx.subscribe(store, 'bad name', () => {}, { ...FAST, category }));
      await expectConfigError('readAll category with a dash', () => store.readAll({ category: 'a-b' }));
      expect(await store.streamVersion(s)).toBe(0);
      expect(await store.readAll({ category })).toEqual([]);
      // The store still works after all that.
      expect((await store.appendToStream(s, [ev('good')])).streamVersion).toBe(1);
    },
  },

  {
    name: 'bad read options are refused with ConfigError before anything is read',
    async run(ctx) {
      const store = await ctx.open();
      const category = uniqueName('ro');
      const s = `${category}-1`;
      await store.appendToStream(s, ids('ro', 3).map((id) => ev(id)));
      const badStream: [string, unknown][] = [
        ['direction sideways', { direction: 'sideways' }],
        ['direction null', { direction: null }],
        ['negative limit', { limit: -1 }],
        ['fractional limit', { limit: 1.5 }],
        ['limit as text', { limit: '2' }],
        ['NaN limit', { limit: Number.NaN }],
        ['negative fromVersion', { fromVersion: -1 }],
        ['fractional fromVersion', { fromVersion: 2.5 }],
        ['backward with negative fromVersion', { direction: 'backward', fromVersion: -3 }],
      ];
      for (const [what, options] of badStream) {
        const err = await expectConfigError(`readStream ${what}`, () => store.readStream(s, options as never));
        expect(err, `readStream ${what}`).not.toBeInstanceOf(CapabilityError);
      }
      const badAll: [string, unknown][] = [
        ['negative limit', { category, limit: -1 }],
        ['fractional limit', { category, limit: 0.5 }],
        ['negative fromPosition', { category, fromPosition: -1 }],
        ['fromPosition as text', { category, fromPosition: '0' }],
        ['Infinity fromPosition', { category, fromPosition: Infinity }],
      ];
      for (const [what, options] of badAll) {
        const err = await expectConfigError(`readAll ${what}`, () => store.readAll(options as never));
        expect(err, `readAll ${what}`).not.toBeInstanceOf(CapabilityError);
      }
      // The edges that are valid: nothing asked, nothing returned; from 0 means from the start.
      expect(await store.readStream(s, { limit: 0 })).toEqual([]);
      expect(await store.readStream(s, { direction: 'backward', limit: 0 })).toEqual([]);
      expect((await store.readStream(s, { fromVersion: 0 })).map((e) => e.version)).toEqual([1, 2, 3]);
      expect(await store.readAll({ category, limit: 0 })).toEqual([]);
      expect((await store.readAll({ category, fromPosition: 0 })).map((e) => e.id)).toEqual(ids('ro', 3));
    },
  },

  {
    name: 'a closed store refuses every call with StoreUnavailableError and writes nothing',
    async run(ctx) {
      const store = await ctx.open();
      const category = uniqueName('shut');
      const s = `${category}-1`;
      await store.appendToStream(s, [ev('before')]);
      await store.close();
      const calls: [string, () => Promise<unknown>][] = [
        ['init', () => store.init()],
        ['appendToStream', () => store.appendToStream(s, [ev('after')])],
        ['appendToStream with a bad stream name', () => store.appendToStream('bad name', [ev('after2')])],
        ['readStream', () => store.readStream(s)],
        ['readAll', () => store.readAll({ category })],
        ['streamVersion', () => store.streamVersion(s)],
        ['subscribe', () => store.subscribe(uniqueName('late'), () => {}, { ...FAST, category })],
        ['deleteSubscription', () => store.deleteSubscription(uniqueName('late'), { category })],
        ['readDeadLetters', () => store.readDeadLetters(uniqueName('late'))],
        ['storageStats', () => store.storageStats()],
      ];
      for (const [what, call] of calls) {
        const err = await caught(call);
        expect(err, `${what} on a closed store: ${String(err)}`).toBeInstanceOf(StoreUnavailableError);
        expect(String((err as Error).message), `${what}: the message says why`).toMatch(/closed/);
      }
      await store.close(); // still idempotent
      const other = await ctx.open();
      expect((await other.readStream(s)).map((e) => e.id), 'nothing was written after close').toEqual(['before']);
    },
  },

  {
    name: 'storage stats count what was written',
    async run(ctx) {
      const store = await ctx.open();
      const before = await store.storageStats();
      const category = uniqueName('stats');
      await store.appendToStream(`${category}-1`, ids('st', 20).map((id) => ev(id, { body: 'x'.repeat(1000) })));
      const after = await store.storageStats();
      expect(after.events - before.events).toBeGreaterThanOrEqual(20);
      expect(after.bytes).toBeGreaterThan(0);
      expect(after.bytes).toBeGreaterThanOrEqual(before.bytes);
      for (const v of Object.values(after.detail)) expect(Number.isFinite(v)).toBe(true);
    },
  },

  {
    name: 'close() and subscription close() are idempotent; a closed subscription delivers nothing more',
    async run(ctx) {
      const store = await ctx.open();
      const category = uniqueName('close');
      const seen: string[] = [];
      const sub = await ctx.subscribe(store, uniqueName('closing'), (e) => void seen.push(e.id), { ...FAST, category });
      await store.appendToStream(`${category}-1`, [ev('k1')]);
      await ctx.waitFor('k1 delivered', () => seen.includes('k1'));
      await sub.close();
      await sub.close();
      const other = await ctx.open();
      await other.appendToStream(`${category}-1`, [ev('k2')]);
      await sleep(300);
      expect(seen).toEqual(['k1']);
      await store.close();
      await store.close();
      await store[Symbol.asyncDispose]();
    },
  },
];
