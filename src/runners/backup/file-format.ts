/**
 * The backup file (docs/admin.md): gzip-compressed NDJSON. Line 1 is the header (format, format version,
 * source backend and namespace, counts); every other line is one event: its envelope (src/core/event-store.ts)
 * plus `stream` and the source's `position`. Events of one stream appear in version order, and in the
 * source's position order (one global order from PostgreSQL; category after category from JetStream).
 * Read and written as streams: memory holds one line, never the file.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { z } from 'zod';
import { ConfigError, EventEnvelopeSchema, STREAM_NAME_PATTERN } from '../../core/event-store.ts';

export const BACKUP_FORMAT = 'eventbench-backup';
/** Bumped on any change a reader of the previous version would misread. */
export const BACKUP_FORMAT_VERSION = 1;

export const BackupHeaderSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  formatVersion: z.number().int(),
  backend: z.string(),
  namespace: z.string(),
  createdAt: z.string(),
  /** True when the events are in one global order (the source had `capabilities.globalOrder`). */
  globalOrder: z.boolean(),
  counts: z.object({
    events: z.number().int().nonnegative(),
    /** Events per category. */
    categories: z.record(z.string(), z.number().int().nonnegative()),
  }),
});
export type BackupHeader = z.infer<typeof BackupHeaderSchema>;

export const BackupEventSchema = EventEnvelopeSchema.extend({
  stream: z.string().regex(STREAM_NAME_PATTERN),
  position: z.number().int().nonnegative(),
});
export type BackupEvent = z.infer<typeof BackupEventSchema>;

/** A backup file that cannot be restored: bad input (exit 2), named with the file and line. */
export class BackupFileError extends ConfigError {}

/** The lines of a gzip file, one at a time (a missing, non-gzip or truncated file is a BackupFileError). */
export async function* gzipLines(file: string): AsyncGenerator<string> {
  const source = createReadStream(file);
  const gunzip = createGunzip();
  source.on('error', (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  const decoder = new StringDecoder('utf8');
  let rest = '';
  try {
    for await (const chunk of gunzip) {
      rest += decoder.write(chunk as Buffer);
      let nl: number;
      while ((nl = rest.indexOf('\n')) !== -1) {
        yield rest.slice(0, nl);
        rest = rest.slice(nl + 1);
      }
    }
    rest += decoder.end();
    if (rest.length > 0) yield rest;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new BackupFileError(`${file}: no such file`);
    if (e.code === 'EISDIR') throw new BackupFileError(`${file} is a directory, not a backup file`);
    if (e.code === 'Z_DATA_ERROR') throw new BackupFileError(`${file} is not gzip-compressed: not an eventbench backup (eventbench backup writes .ndjson.gz)`);
    if (source.bytesRead === 0 && !e.code?.startsWith('E')) throw new BackupFileError(`${file} is empty (0 bytes): not an eventbench backup`);
    if (e.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(e.message)) throw new BackupFileError(`${file} is truncated (the gzip data ends early): not a complete eventbench backup`);
    throw err;
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}

/** Line 1 of a backup, checked: another format or format version is refused with what this eventbench reads. */
export function parseHeader(file: string, line: string | undefined): BackupHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(line ?? '');
  } catch {
    throw new BackupFileError(`${file}: line 1 is not JSON: not an eventbench backup`);
  }
  const format = (raw as { format?: unknown })?.format;
  if (format !== BACKUP_FORMAT) throw new BackupFileError(`${file}: line 1 is not an eventbench backup header (format ${JSON.stringify(format ?? null)}, expected "${BACKUP_FORMAT}")`);
  const version = (raw as { formatVersion?: unknown }).formatVersion;
  if (version !== BACKUP_FORMAT_VERSION) {
    throw new BackupFileError(`${file}: backup format version ${JSON.stringify(version ?? null)}; this eventbench reads version ${BACKUP_FORMAT_VERSION} only`);
  }
  const r = BackupHeaderSchema.safeParse(raw);
  if (!r.success) throw new BackupFileError(`${file}: line 1 (header): ${issueText(r.error)}`);
  return r.data;
}

export function parseEvent(file: string, lineNo: number, line: string): BackupEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new BackupFileError(`${file}: line ${lineNo} is not JSON`);
  }
  const r = BackupEventSchema.safeParse(raw);
  if (!r.success) throw new BackupFileError(`${file}: line ${lineNo}: ${issueText(r.error)}`);
  return r.data;
}

function issueText(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.map(String).join('.') || '(line)'}: ${issue.message}`;
}

/** One event line (the envelope's fields in a fixed order, then stream and position). */
export function eventLine(e: BackupEvent): string {
  return JSON.stringify({
    stream: e.stream,
    position: e.position,
    version: e.version,
    id: e.id,
    type: e.type,
    timestamp: e.timestamp,
    correlationId: e.correlationId,
    ...(e.causationId !== undefined ? { causationId: e.causationId } : {}),
    aggregateId: e.aggregateId,
    aggregateType: e.aggregateType,
    data: e.data,
    metadata: e.metadata,
  });
}
