/**
 * Ctrl-C during `eventbench backup` and `eventbench restore`: exit 130, and nothing half-done is left: no
 * backup file and no temporary file beside it; a namespace emptied again. The signal is sent once the
 * command is seen working (its temporary file exists / the target holds events), with far more work left
 * than a fast machine could finish first (200,000 events to read; 20,000 single-event appends).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION } from '../../src/runners/backup/file-format.ts';
import { startEventbench } from '../load/cli.ts';
import { withClient } from '../postgres/helpers.ts';
import { testPgUrl, uniqueName } from '../support/servers.ts';
import { cleanNamespace, openStore } from '../admin/support.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-interrupt-'));
const namespaces: string[] = [];
afterAll(async () => {
  await Promise.allSettled(namespaces.map(cleanNamespace));
  rmSync(dir, { recursive: true, force: true });
});

/** Polls `check` every 20 ms until it holds, at most `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

const eventCount = (ns: string) => withClient(async (c) => Number((await c.query(`SELECT count(*) AS n FROM "${ns}".events`)).rows[0].n));

describe('Ctrl-C', () => {
  it('during backup: exit 130, no file and no temporary file', async () => {
    const source = uniqueName('int_bk');
    namespaces.push(source);
    await (await openStore('postgres', source)).close();
    // 200,000 events in one statement (the store's tables, written directly: filling through appends would take minutes).
    await withClient((c) =>
      c.query(
        `INSERT INTO "${source}".events (stream_id, category, version, event_id, type, data, "timestamp", correlation_id, aggregate_id, aggregate_type)
         SELECT 'order-' || (i / 100), 'order', (i % 100) + 1, 'e-' || i, 'order.placed', jsonb_build_object('i', i, 'text', repeat('x', 200)), '2026-01-01T00:00:00Z', 'c', (i / 100)::text, 'order'
           FROM generate_series(0, 199999) AS i`,
      ),
    );
    const out = join(dir, 'interrupted.ndjson.gz');
    const cli = startEventbench(['backup', '--backend', 'postgres', '--pg-url', testPgUrl(), '--namespace', source, '--out', out], 120_000);
    const writing = await until(() => readdirSync(dir).some((f) => f.startsWith('.interrupted.ndjson.gz.') && f.endsWith('.tmp')), 60_000);
    expect(writing, 'the temporary file never appeared').toBe(true);
    cli.child.kill('SIGINT');
    const run = await cli.done;
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toMatch(/backup: interrupted; no file was written/);
    expect(readdirSync(dir).filter((f) => f.includes('interrupted'))).toEqual([]);
  }, 180_000);

  it('during restore: exit 130, the namespace emptied again', async () => {
    const n = 20_000;
    const header = { format: BACKUP_FORMAT, formatVersion: BACKUP_FORMAT_VERSION, backend: 'postgres', namespace: 'x', createdAt: new Date().toISOString(), globalOrder: true, counts: { events: n, categories: { order: n } } };
    const lines = [JSON.stringify(header)];
    for (let i = 1; i <= n; i++) {
      lines.push(JSON.stringify({ stream: `order-${i}`, position: i, version: 1, id: `r-${i}`, type: 'order.placed', timestamp: '2026-01-01T00:00:00Z', correlationId: 'c', aggregateId: String(i), aggregateType: 'order', data: { i }, metadata: {} }));
    }
    const file = join(dir, 'many.ndjson.gz');
    writeFileSync(file, gzipSync(lines.join('\n')));
    const target = uniqueName('int_rs');
    namespaces.push(target);
    const cli = startEventbench(['restore', '--backend', 'postgres', '--pg-url', testPgUrl(), '--namespace', target, '--in', file], 120_000);
    const writing = await until(async () => (await eventCount(target).catch(() => 0)) > 0, 60_000);
    expect(writing, 'no event was restored').toBe(true);
    cli.child.kill('SIGINT');
    const run = await cli.done;
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toMatch(/restore: interrupted: stopped after \d+ of 20000 events: .*the namespace was emptied again/);
    expect(await eventCount(target)).toBe(0);
  }, 180_000);
});
