/**
 * `eventbench backup` (docs/admin.md): every event of a namespace into one gzip NDJSON file, read through
 * the EventStore contract (`readAll`, page by page) and written through a gzip stream with backpressure, so
 * memory holds one page whatever the size of the store. The counts of the header are taken from the admin
 * listing before reading, and reading stops at the positions seen then; if the events read differ from
 * those counts (a writer or a purge during the backup) the backup fails. The file appears only when complete:
 * written to a temporary file beside it, then renamed.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { EventStore, RecordedEvent } from '../../core/event-store.ts';
import { readAllAgainWhileUnavailable } from '../../core/read-again.ts';
import { createStore } from '../../store/index.ts';
import { eventCategories, openAdmin, type AdminBackend } from '../admin/open-admin.ts';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, eventLine, type BackupHeader } from './file-format.ts';

/** Events per readAll page: one page is all the backup holds in memory. */
const PAGE = 1_000;

export interface BackupOptions {
  backend: AdminBackend;
  namespace: string;
  urls: { pgUrl?: string; natsUrl?: string };
  out: string;
  /** Aborts the backup (Ctrl-C): the temporary file is removed, no file appears. */
  signal?: AbortSignal;
  /** Called after each page with the events written so far (progress lines for long backups). */
  onProgress?: (events: number, total: number) => void;
}

export interface BackupSummary {
  file: string;
  header: BackupHeader;
  events: number;
}

export async function runBackup(options: BackupOptions): Promise<BackupSummary> {
  const { backend, namespace, urls } = options;
  const admin = await openAdmin(backend, { namespace, ...urls });
  let categories: Awaited<ReturnType<typeof eventCategories>>;
  try {
    categories = await eventCategories(admin);
  } finally {
    await admin.close();
  }
  const header: BackupHeader = {
    format: BACKUP_FORMAT,
    formatVersion: BACKUP_FORMAT_VERSION,
    backend,
    namespace,
    createdAt: new Date().toISOString(),
    globalOrder: false,
    counts: { events: categories.reduce((n, c) => n + c.events, 0), categories: Object.fromEntries(categories.map((c) => [c.category, c.events])) },
  };
  const store = await createStore(backend, { namespace, ...urls });
  const temp = join(dirname(options.out), `.${basename(options.out)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let written = 0;
  try {
    header.globalOrder = store.capabilities.globalOrder;
    const pages = header.globalOrder
      ? readUpTo(store, undefined, Math.max(0, ...categories.map((c) => c.lastPosition)), options.signal)
      : (async function* () {
          for (const c of categories) yield* readUpTo(store, c.category, c.lastPosition, options.signal);
        })();
    async function* lines(): AsyncGenerator<string> {
      yield `${JSON.stringify(header)}\n`;
      for await (const page of pages) {
        yield page.map((e) => `${eventLine(e)}\n`).join('');
        written += page.length;
        options.onProgress?.(written, header.counts.events);
      }
    }
    await pipeline(Readable.from(lines()), createGzip(), createWriteStream(temp, { flags: 'wx' }), ...(options.signal ? [{ signal: options.signal }] as const : []));
    if (written !== header.counts.events) {
      throw new Error(
        `namespace ${namespace} changed during the backup (${header.counts.events} events when it started, ${written} read up to the positions seen then): stop its writers and run backup again; no file was written`,
      );
    }
    await rename(temp, options.out);
    return { file: options.out, header, events: written };
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  } finally {
    await store.close();
  }
}

/** Pages of `readAll` (one category, or all where the store has one global order) up to `last`, inclusive. */
async function* readUpTo(store: EventStore, category: string | undefined, last: number, signal?: AbortSignal): AsyncGenerator<RecordedEvent[]> {
  let from = 0;
  while (from < last) {
    // A replicated store electing a leader answers unavailable for a few seconds: read again, bounded.
    const page = await readAllAgainWhileUnavailable(store, { fromPosition: from, limit: PAGE, ...(category !== undefined ? { category } : {}) }, signal ? { signal } : {});
    const kept = page.filter((e) => e.position <= last);
    if (kept.length > 0) yield kept;
    // An empty page ends it (positions up to `last` may be gaps); a short page does not: a backend may
    // return fewer than asked while more follow.
    if (page.length === 0 || kept.length < page.length) return;
    from = page[page.length - 1]!.position;
  }
}
