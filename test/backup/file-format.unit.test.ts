/**
 * A backup file that cannot be restored is refused by `checkBackupFile` with one line naming the file, the
 * line and what is wrong (BackupFileError, exit 2 in the CLI), before any server is asked: a missing file,
 * not gzip, not a backup, another format version, a truncated file, versions out of order, wrong counts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, BackupFileError, eventLine, type BackupEvent } from '../../src/runners/backup/file-format.ts';
import { checkBackupFile } from '../../src/runners/backup/restore.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-backup-format-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function file(content: string | Buffer): string {
  const path = join(dir, `f${++files}.ndjson.gz`);
  writeFileSync(path, content);
  return path;
}

const header = (events: number, categories: Record<string, number>, over: Record<string, unknown> = {}) =>
  JSON.stringify({ format: BACKUP_FORMAT, formatVersion: BACKUP_FORMAT_VERSION, backend: 'postgres', namespace: 'ns', createdAt: '2026-12-04T00:00:00.000Z', globalOrder: true, counts: { events, categories }, ...over });

function ev(stream: string, version: number, position: number): string {
  const [category, id] = [stream.slice(0, stream.indexOf('-')), stream.slice(stream.indexOf('-') + 1)];
  const e: BackupEvent = { stream, position, version, id: `${stream}-v${version}`, type: 'x.happened', timestamp: '2026-01-01T00:00:00Z', correlationId: 'c', aggregateId: id, aggregateType: category, data: { v: version }, metadata: {} };
  return eventLine(e);
}

const gz = (lines: string[]) => gzipSync(lines.join('\n') + '\n');

async function refusal(path: string): Promise<string> {
  const err = await checkBackupFile(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BackupFileError);
  const message = (err as Error).message;
  expect(message.split('\n')).toHaveLength(1);
  return message;
}

describe('checkBackupFile', () => {
  it('accepts a sound file and counts its events and streams', async () => {
    const r = await checkBackupFile(file(gz([header(3, { a: 2, b: 1 }), ev('a-1', 1, 1), ev('b-1', 1, 2), ev('a-1', 2, 3)])));
    expect(r).toMatchObject({ events: 3, streams: 2 });
  });

  it('refuses each bad file with one line naming what is wrong', async () => {
    expect(await refusal(join(dir, 'missing.ndjson.gz'))).toMatch(/missing\.ndjson\.gz: no such file/);
    expect(await refusal(file('{"format":"eventbench-backup"}\n'))).toMatch(/is not gzip-compressed: not an eventbench backup/);
    expect(await refusal(file(gz(['hello'])))).toMatch(/line 1 is not JSON: not an eventbench backup/);
    expect(await refusal(file(gz(['{"some":"json"}'])))).toMatch(/line 1 is not an eventbench backup header/);
    expect(await refusal(file(gz([header(0, {}, { formatVersion: 99 })])))).toMatch(/backup format version 99; this eventbench reads version 1 only/);
    expect(await refusal(file(Buffer.alloc(0)))).toMatch(/is empty \(0 bytes\)/);
    expect(await refusal(file(gzipSync(Buffer.alloc(0))))).toMatch(/is empty: not an eventbench backup/);
    const whole = gz([header(2, { a: 2 }), ev('a-1', 1, 1), ev('a-1', 2, 2)]);
    expect(await refusal(file(whole.subarray(0, whole.length - 12)))).toMatch(/is truncated/);
    expect(await refusal(file(gz([header(2, { a: 2 }), ev('a-1', 1, 1), ev('a-1', 3, 2)])))).toMatch(/line 3: stream a-1 version 3 follows version 1/);
    expect(await refusal(file(gz([header(1, { a: 1 }), ev('a-1', 2, 1)])))).toMatch(/stream a-1 starts at version 2/);
    expect(await refusal(file(gz([header(3, { a: 3 }), ev('a-1', 1, 1), ev('a-1', 2, 2)])))).toMatch(/2 events, but its header says 3/);
    expect(await refusal(file(gz([header(1, { a: 1 }), '{"stream":"a-1"}'])))).toMatch(/line 2: /);
  });
});
