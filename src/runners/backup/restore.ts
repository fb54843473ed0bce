/**
 * `eventbench restore` (docs/admin.md): a backup file into a namespace of any backend, through the
 * EventStore contract. Before anything is written the whole file is read once and checked (header, format
 * version, every line, versions contiguous from 1 per stream, counts as the header says) and the target is
 * checked to be empty (or, with `force`, purged). Events are then appended in file order, consecutive events
 * of one stream together, each append with the expected version the backup says the stream was at, so
 * per-stream order and versions are those of the source (a global order too where the target has one).
 * A failure or an abort part-way purges what the restore wrote, leaving the namespace empty as it was found.
 */
import { ConfigError, DuplicateEventError, type EventStore, type NewEvent } from '../../core/event-store.ts';
import { createStore, type StoreAdmin } from '../../store/index.ts';
import { eventCategories, openAdmin, type AdminBackend } from '../admin/open-admin.ts';
import { BackupFileError, gzipLines, parseEvent, parseHeader, type BackupEvent, type BackupHeader } from './file-format.ts';

/** Most events in one append (one stream's consecutive events). */
const MAX_APPEND = 100;

export interface RestoreOptions {
  backend: AdminBackend;
  namespace: string;
  urls: { pgUrl?: string; natsUrl?: string };
  input: string;
  /**
   * Delete the events already in the target namespace first (else a non-empty target is refused): PostgreSQL
   * categories are purged; JetStream category streams are removed with their consumers, since a purged
   * stream still refuses the purged event ids for its duplicate window.
   */
  force?: boolean;
  signal?: AbortSignal;
  /** Called after each append with the events restored so far. */
  onProgress?: (events: number, total: number) => void;
  /** The file as `checkBackupFile` found it, when the caller checked it already (else it is checked first). */
  checked?: CheckedBackup;
}

export interface RestoreSummary {
  header: BackupHeader;
  events: number;
  streams: number;
  /** Events purged from the target first (`force`). */
  purged: number;
}

export interface CheckedBackup {
  header: BackupHeader;
  events: number;
  streams: number;
}

/** Reads the whole file once and checks it; a BackupFileError (exit 2) names the file and line. */
export async function checkBackupFile(file: string): Promise<CheckedBackup> {
  let header: BackupHeader | undefined;
  const versions = new Map<string, number>();
  const perCategory = new Map<string, number>();
  let lineNo = 0;
  let events = 0;
  for await (const line of gzipLines(file)) {
    lineNo++;
    if (lineNo === 1) {
      header = parseHeader(file, line);
      continue;
    }
    if (line.length === 0) continue;
    const e = parseEvent(file, lineNo, line);
    const expected = (versions.get(e.stream) ?? 0) + 1;
    if (e.version !== expected) {
      throw new BackupFileError(
        expected === 1
          ? `${file}: line ${lineNo}: stream ${e.stream} starts at version ${e.version}: the source had lost its earlier events (stream limits?), and a restore cannot recreate versions from ${e.version}`
          : `${file}: line ${lineNo}: stream ${e.stream} version ${e.version} follows version ${expected - 1}: events out of order or missing`,
      );
    }
    versions.set(e.stream, e.version);
    const category = e.stream.slice(0, e.stream.indexOf('-'));
    perCategory.set(category, (perCategory.get(category) ?? 0) + 1);
    events++;
  }
  if (!header) throw new BackupFileError(`${file} is empty: not an eventbench backup`);
  if (events !== header.counts.events) throw new BackupFileError(`${file}: ${events} events, but its header says ${header.counts.events}: the file is incomplete`);
  for (const [category, n] of Object.entries(header.counts.categories)) {
    if ((perCategory.get(category) ?? 0) !== n) throw new BackupFileError(`${file}: category ${category} has ${perCategory.get(category) ?? 0} events, its header says ${n}`);
  }
  return { header, events, streams: versions.size };
}

export async function runRestore(options: RestoreOptions): Promise<RestoreSummary> {
  const { backend, namespace, urls, input } = options;
  const checked = options.checked ?? (await checkBackupFile(input));
  const admin = await openAdmin(backend, { namespace, ...urls });
  try {
    const present = (await eventCategories(admin)).filter((c) => c.events > 0);
    const inTarget = present.reduce((n, c) => n + c.events, 0);
    if (present.length > 0 && !options.force) {
      throw new ConfigError(
        `${backend} namespace ${namespace} already holds ${inTarget} event${inTarget === 1 ? '' : 's'} (${present.map((c) => c.category).join(', ')}): ` +
          'restore writes into an empty namespace only; pick another --namespace, or add --force to delete those events first',
      );
    }
    // JetStream remembers the ids of purged messages for its duplicate window: the same events could not be
    // appended again for that long (by a rerun, too). Deleting the category streams forgets them (the store
    // recreates them on its first append).
    const how = backend === 'jetstream' ? 'remove' : 'purge';
    const purged = await emptyAll(admin, how);
    const store = await createStore(backend, { namespace, ...urls });
    const count = { written: 0 };
    try {
      await appendAll(store, input, options.signal, (n) => {
        count.written = n;
        options.onProgress?.(n, checked.events);
      });
    } catch (err) {
      const written = count.written;
      await store.close();
      const undone = await emptyAll(admin, how).then(
        () => 'the namespace was emptied again',
        (e: unknown) => `emptying it again failed too (${(e as Error).message}): run restore again with --force`,
      );
      throw new Error(`restore stopped after ${written} of ${checked.events} events: ${(err as Error).message}; ${undone}`, { cause: err });
    }
    await store.close();
    return { header: checked.header, events: count.written, streams: checked.streams, purged };
  } finally {
    await admin.close();
  }
}

/** Purges (or removes) every category of the namespace holding events; returns the events deleted. */
async function emptyAll(admin: StoreAdmin, how: 'purge' | 'remove'): Promise<number> {
  let n = 0;
  for (const s of (await admin.list()).streams) {
    if (s.kind === 'category' && s.events > 0) n += (await (how === 'purge' ? admin.purge(s.name) : admin.remove(s.name))).events;
  }
  return n;
}

/** Appends the file's events in order, reporting the count after each append. Throws on the first failed or unexpected append. */
async function appendAll(store: EventStore, file: string, signal: AbortSignal | undefined, progress: (written: number) => void): Promise<void> {
  let run: BackupEvent[] = [];
  let written = 0;
  const flush = async () => {
    if (run.length === 0) return;
    const first = run[0]!;
    const last = run[run.length - 1]!;
    signal?.throwIfAborted();
    const duplicate = () =>
      new Error(
        `stream ${first.stream}: the target still remembers event ids of ${first.id}'s append (a JetStream stream's duplicate window outlives a purge): restore into another namespace, or after the window`,
      );
    const r = await store.appendToStream(first.stream, run.map(toNewEvent), { expectedVersion: first.version - 1 }).catch((err: unknown) => {
      throw err instanceof DuplicateEventError ? Object.assign(duplicate(), { cause: err }) : err;
    });
    if (r.duplicate) throw duplicate();
    if (r.streamVersion !== last.version) throw new Error(`stream ${first.stream}: at version ${r.streamVersion} after the append, the backup says ${last.version}`);
    written += run.length;
    progress(written);
    run = [];
  };
  let lineNo = 0;
  for await (const line of gzipLines(file)) {
    if (++lineNo === 1 || line.length === 0) continue;
    const e = parseEvent(file, lineNo, line);
    if (run.length > 0 && (run[0]!.stream !== e.stream || run.length >= MAX_APPEND)) await flush();
    run.push(e);
  }
  await flush();
}

function toNewEvent(e: BackupEvent): NewEvent {
  return {
    id: e.id,
    type: e.type,
    data: e.data,
    metadata: e.metadata,
    timestamp: e.timestamp,
    correlationId: e.correlationId,
    ...(e.causationId !== undefined ? { causationId: e.causationId } : {}),
    aggregateId: e.aggregateId,
    aggregateType: e.aggregateType,
  };
}
