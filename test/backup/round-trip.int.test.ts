/**
 * Backup -> restore round trips on the real servers: PostgreSQL -> PostgreSQL, JetStream -> JetStream and
 * PostgreSQL -> JetStream -> PostgreSQL give identical envelopes, the same versions per stream and the same
 * order (per stream, per category, and the global order where both ends have one). A non-empty target is
 * refused before anything is written, --force replaces it, and a restore that fails part-way leaves the
 * namespace empty again.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type EventStore, type RecordedEvent } from '../../src/core/event-store.ts';
import { eventCategories, openAdmin, type AdminBackend } from '../../src/runners/admin/open-admin.ts';
import { runBackup } from '../../src/runners/backup/backup.ts';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION } from '../../src/runners/backup/file-format.ts';
import { runRestore } from '../../src/runners/backup/restore.ts';
import { uniqueName } from '../support/servers.ts';
import { cleanNamespace, event, openStore, urlsFor } from '../admin/support.ts';

const CATEGORIES = ['order', 'invoice', 'payment'];
const dir = mkdtempSync(join(tmpdir(), 'eventbench-backup-test-'));
const namespaces: string[] = [];
const stores: EventStore[] = [];

function ns(prefix: string): string {
  const n = uniqueName(prefix);
  namespaces.push(n);
  return n;
}

async function store(backend: AdminBackend, namespace: string): Promise<EventStore> {
  const s = await openStore(backend, namespace);
  stores.push(s);
  return s;
}

/** Events interleaved over 3 categories x 4 streams, 1-4 events each, appended round-robin. */
async function fill(s: EventStore): Promise<void> {
  const pending = new Map<string, number>();
  CATEGORIES.forEach((c, ci) => [1, 2, 3, 4].forEach((i) => pending.set(`${c}-${i}`, ((ci + i) % 4) + 1)));
  while (pending.size > 0) {
    for (const [stream, left] of [...pending]) {
      await s.appendToStream(stream, [event(`${stream.split('-')[0]}.happened`)], { expectedVersion: 'any' });
      if (left === 1) pending.delete(stream);
      else pending.set(stream, left - 1);
    }
  }
}

/** What a round trip must keep: the envelope and stream; positions are the target's own. */
const envelope = ({ position: _p, ...rest }: RecordedEvent) => rest;

async function readCategories(s: EventStore): Promise<Record<string, ReturnType<typeof envelope>[]>> {
  const out: Record<string, ReturnType<typeof envelope>[]> = {};
  for (const category of CATEGORIES) out[category] = (await s.readAll({ category, limit: 10_000 })).map(envelope);
  return out;
}

function urls(backend: AdminBackend) {
  return urlsFor(backend);
}

async function backup(backend: AdminBackend, namespace: string, name: string): Promise<string> {
  const out = join(dir, name);
  await runBackup({ backend, namespace, urls: urls(backend), out });
  return out;
}

let pgSource: string;
let pgSourceStore: EventStore;
let pgFile: string;

beforeAll(async () => {
  pgSource = ns('bk_pgsrc');
  pgSourceStore = await store('postgres', pgSource);
  await fill(pgSourceStore);
  pgFile = await backup('postgres', pgSource, 'pg.ndjson.gz');
});

afterAll(async () => {
  await Promise.allSettled(stores.map((s) => s.close()));
  await Promise.allSettled(namespaces.map(cleanNamespace));
  rmSync(dir, { recursive: true, force: true });
});

describe('backup file', () => {
  it('is gzip NDJSON: a header with format version, source and counts, then one envelope per line in position order', () => {
    const lines = gunzipSync(readFileSync(pgFile)).toString('utf8').trimEnd().split('\n');
    const header = JSON.parse(lines[0]!);
    expect(header).toMatchObject({ format: BACKUP_FORMAT, formatVersion: BACKUP_FORMAT_VERSION, backend: 'postgres', namespace: pgSource, globalOrder: true });
    expect(header.counts.events).toBe(lines.length - 1);
    expect(header.counts.categories).toEqual({ order: 10, invoice: 10, payment: 10 });
    const events = lines.slice(1).map((l) => JSON.parse(l));
    expect(Object.keys(events[0]).sort()).toEqual(['aggregateId', 'aggregateType', 'causationId', 'correlationId', 'data', 'id', 'metadata', 'position', 'stream', 'timestamp', 'type', 'version'].sort());
    const positions = events.map((e) => e.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });
});

describe('round trips', () => {
  it('postgres -> postgres: identical envelopes in the same global order', async () => {
    const target = ns('bk_pgdst');
    const r = await runRestore({ backend: 'postgres', namespace: target, urls: urls('postgres'), input: pgFile });
    expect(r.events).toBe(30);
    const restored = await store('postgres', target);
    const source = (await pgSourceStore.readAll({ limit: 10_000 })).map(envelope);
    expect(source).toHaveLength(30);
    expect((await restored.readAll({ limit: 10_000 })).map(envelope)).toEqual(source);
  });

  it('jetstream -> jetstream: identical envelopes, in the same order per category', async () => {
    const source = ns('bk_jssrc');
    const src = await store('jetstream', source);
    await fill(src);
    const file = await backup('jetstream', source, 'js.ndjson.gz');
    const target = ns('bk_jsdst');
    await runRestore({ backend: 'jetstream', namespace: target, urls: urls('jetstream'), input: file });
    const want = await readCategories(src);
    expect(Object.values(want).flat()).toHaveLength(30);
    expect(await readCategories(await store('jetstream', target))).toEqual(want);
  });

  it('postgres -> jetstream -> postgres: identical envelopes, versions per stream and order per category', async () => {
    const js = ns('bk_pgjs');
    await runRestore({ backend: 'jetstream', namespace: js, urls: urls('jetstream'), input: pgFile });
    const want = await readCategories(pgSourceStore);
    expect(await readCategories(await store('jetstream', js))).toEqual(want);
    const jsFile = await backup('jetstream', js, 'pgjs.ndjson.gz');
    const back = ns('bk_pgjspg');
    await runRestore({ backend: 'postgres', namespace: back, urls: urls('postgres'), input: jsFile });
    const pgBack = await store('postgres', back);
    expect(await readCategories(pgBack)).toEqual(want);
    for (const stream of ['order-1', 'invoice-3', 'payment-4']) {
      expect((await pgBack.readStream(stream)).map(envelope)).toEqual((await pgSourceStore.readStream(stream)).map(envelope));
    }
  });

  it('hybrid -> postgres: the hybrid store is backed up from its PostgreSQL side, in global order', async () => {
    const source = ns('bk_hysrc');
    const src = await store('hybrid', source);
    await fill(src);
    const file = await backup('hybrid', source, 'hybrid.ndjson.gz');
    const target = ns('bk_hydst');
    await runRestore({ backend: 'postgres', namespace: target, urls: urls('postgres'), input: file });
    const want = (await src.readAll({ limit: 10_000 })).map(envelope);
    expect(want).toHaveLength(30);
    expect((await (await store('postgres', target)).readAll({ limit: 10_000 })).map(envelope)).toEqual(want);
  });
});

describe('refusals and failures', () => {
  it('refuses a non-empty target before writing anything; --force replaces its events', async () => {
    const target = ns('bk_full');
    const s = await store('postgres', target);
    await s.appendToStream('order-1', [event()], { expectedVersion: 'no_stream' });
    const before = await s.readAll({ limit: 100 });
    const refused = runRestore({ backend: 'postgres', namespace: target, urls: urls('postgres'), input: pgFile });
    await expect(refused).rejects.toThrow(ConfigError);
    await expect(runRestore({ backend: 'postgres', namespace: target, urls: urls('postgres'), input: pgFile })).rejects.toThrow(/already holds 1 event \(order\).*--force/);
    expect(await s.readAll({ limit: 100 })).toEqual(before);
    const r = await runRestore({ backend: 'postgres', namespace: target, urls: urls('postgres'), input: pgFile, force: true });
    expect(r.purged).toBe(1);
    expect((await s.readAll({ limit: 10_000 })).map(envelope)).toEqual((await pgSourceStore.readAll({ limit: 10_000 })).map(envelope));
  });

  it('--force on JetStream restores a backup over the namespace it was taken from (the purged ids are not refused as duplicates)', async () => {
    const source = ns('bk_jsforce');
    const src = await store('jetstream', source);
    await fill(src);
    const file = await backup('jetstream', source, 'jsforce.ndjson.gz');
    const want = await readCategories(src);
    const r = await runRestore({ backend: 'jetstream', namespace: source, urls: urls('jetstream'), input: file, force: true });
    expect(r).toMatchObject({ purged: 30, events: 30 });
    expect(await readCategories(await store('jetstream', source))).toEqual(want);
  });

  it('a restore that fails part-way leaves the namespace empty', async () => {
    // Three good events, then one over NATS's 1 MB payload limit: the backup file is sound, the append is not.
    const lines = gunzipSync(readFileSync(pgFile)).toString('utf8').trimEnd().split('\n');
    const header = { ...JSON.parse(lines[0]!), counts: { events: 4, categories: {} as Record<string, number> } };
    const events = lines.slice(1, 4).map((l) => JSON.parse(l));
    events.push({ ...events[0], stream: 'big-1', aggregateId: '1', aggregateType: 'big', id: 'big-event', version: 1, data: { blob: 'x'.repeat(2_000_000) } });
    for (const e of events) header.counts.categories[e.stream.split('-')[0]] = (header.counts.categories[e.stream.split('-')[0]] ?? 0) + 1;
    const file = join(dir, 'fails.ndjson.gz');
    writeFileSync(file, gzipSync([header, ...events].map((x) => JSON.stringify(x)).join('\n')));
    const target = ns('bk_fail');
    await expect(runRestore({ backend: 'jetstream', namespace: target, urls: urls('jetstream'), input: file })).rejects.toThrow(/restore stopped after 3 of 4 events: .*emptied again/);
    const admin = await openAdmin('jetstream', { namespace: target, ...urls('jetstream') });
    try {
      expect((await eventCategories(admin)).reduce((n, c) => n + c.events, 0)).toBe(0);
    } finally {
      await admin.close();
    }
  });
});

describe('interrupted (Ctrl-C in the CLI aborts the same signal)', () => {
  let source: string;
  let file: string;
  beforeAll(async () => {
    // More than one readAll page (1,000 events), so the abort lands between pages.
    source = ns('bk_big');
    const s = await store('postgres', source);
    for (let i = 0; i < 25; i++) await s.appendToStream(`order-${i}`, Array.from({ length: 100 }, () => event()), { expectedVersion: 'no_stream' });
    file = await backup('postgres', source, 'big.ndjson.gz');
  });

  it('a backup aborted after its first page leaves no file and no temporary file', async () => {
    const abort = new AbortController();
    const out = join(dir, 'aborted.ndjson.gz');
    let pages = 0;
    const run = runBackup({ backend: 'postgres', namespace: source, urls: urls('postgres'), out, signal: abort.signal, onProgress: () => (++pages === 1 ? abort.abort() : undefined) });
    await expect(run).rejects.toThrow(/abort/i);
    expect(pages).toBeGreaterThanOrEqual(1);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('aborted'))).toEqual([]);
  });

  it('a restore aborted after its first append empties the namespace again', async () => {
    const abort = new AbortController();
    const target = ns('bk_bigdst');
    const run = runRestore({ backend: 'postgres', namespace: target, urls: urls('postgres'), input: file, signal: abort.signal, onProgress: () => abort.abort() });
    await expect(run).rejects.toThrow(/restore stopped after 100 of 2500 events: .*the namespace was emptied again/);
    const admin = await openAdmin('postgres', { namespace: target, ...urls('postgres') });
    try {
      expect(await eventCategories(admin)).toEqual([]);
    } finally {
      await admin.close();
    }
  });
});
