/**
 * `eventbench streams`, `backup` and `restore` as a user runs them against their own servers (the test
 * servers' URLs as --pg-url / --nats-url): list and inspect a PostgreSQL namespace, back it up, restore it
 * into JetStream, see the restored streams listed, refuse a second restore into the now non-empty target,
 * remove a stream with --yes. Bad input is one line on stderr and exit 2 before anything connects.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventbench } from '../load/cli.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';
import { cleanNamespace, event, openStore } from '../admin/support.ts';
import type { NamespaceListing, StreamDetail } from '../../src/store/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-admin-cli-'));
const source = uniqueName('cli_pg');
const target = uniqueName('cli_js');
const pg = () => ['--pg-url', testPgUrl()];
const nats = () => ['--nats-url', testNatsUrl()];

beforeAll(async () => {
  const store = await openStore('postgres', source);
  try {
    for (const stream of ['order-1', 'order-2', 'invoice-1']) await store.appendToStream(stream, [event(), event()], { expectedVersion: 'no_stream' });
  } finally {
    await store.close();
  }
});
afterAll(async () => {
  await Promise.allSettled([cleanNamespace(source), cleanNamespace(target)]);
  rmSync(dir, { recursive: true, force: true });
});

function oneLine(run: { code: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(run.code, run.stderr).toBe(2);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^eventbench: /);
  expect(lines[0]).toMatch(pattern);
}

describe('streams, backup and restore from the command line', () => {
  it('lists and inspects, backs up PostgreSQL, restores into JetStream, refuses a second restore, removes with --yes', async () => {
    const ls = await eventbench(['streams', 'ls', '--backend', 'postgres', ...pg(), '--namespace', source, '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    const listing = JSON.parse(ls.stdout) as NamespaceListing;
    expect(listing.streams.map((s) => [s.name, s.streams, s.events])).toEqual([
      ['invoice', 1, 2],
      ['order', 2, 4],
    ]);
    const table = await eventbench(['streams', 'ls', '--backend', 'postgres', ...pg(), '--namespace', source]);
    expect(table.stdout).toMatch(/NAME\s+KIND\s+STREAMS\s+EVENTS\s+BYTES/);
    expect(table.stdout).toMatch(/^order\s+category\s+2\s+4\s/m);
    expect(table.stdout).toMatch(/tables of schema/);

    const info = await eventbench(['streams', 'info', 'order-1', '--backend', 'postgres', ...pg(), '--namespace', source, '--json']);
    expect((JSON.parse(info.stdout) as StreamDetail).eventStream).toMatchObject({ stream: 'order-1', events: 2, lastVersion: 2 });

    const file = join(dir, 'pg.ndjson.gz');
    const backup = await eventbench(['backup', '--backend', 'postgres', ...pg(), '--namespace', source, '--out', file]);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stderr).toMatch(/backup: 6 events of 2 categories from postgres namespace .* written to/);
    expect(existsSync(file)).toBe(true);

    const restore = await eventbench(['restore', '--backend', 'jetstream', ...nats(), '--namespace', target, '--in', file]);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stderr).toMatch(/restore: 6 events in 3 streams from .* into jetstream namespace/);
    const jsLs = JSON.parse((await eventbench(['streams', 'ls', '--backend', 'jetstream', ...nats(), '--namespace', target, '--json'])).stdout) as NamespaceListing;
    expect(jsLs.streams.map((s) => [s.name, s.kind, s.streams, s.events])).toEqual([
      [`${target}-_deadletters`, 'dead-letters', 0, 0],
      [`${target}-invoice`, 'category', 1, 2],
      [`${target}-order`, 'category', 2, 4],
    ]);

    oneLine(await eventbench(['restore', '--backend', 'jetstream', ...nats(), '--namespace', target, '--in', file]), /already holds 6 events .*--force/);

    const rm = await eventbench(['streams', 'rm', 'order', '--backend', 'jetstream', ...nats(), '--namespace', target, '--yes']);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toMatch(new RegExp(`removed ${target}-order: 4 events deleted; also removed: stream ${target}-order`));
  }, 120_000);

  it('refuses bad input with one line and exit 2', async () => {
    const existing = join(dir, 'exists.gz');
    writeFileSync(existing, 'x');
    const notBackup = join(dir, 'not-a-backup.json');
    writeFileSync(notBackup, '{"hello": 1}\n');
    const runs = await Promise.all([
      eventbench(['streams', 'ls', '--backend', 'postgres']),
      eventbench(['streams', 'purge', 'order', '--backend', 'postgres', ...pg()]),
      eventbench(['streams', 'info', '--backend', 'postgres', ...pg()]),
      eventbench(['backup', '--backend', 'postgres', ...pg(), '--out', existing]),
      eventbench(['restore', '--backend', 'postgres', ...pg(), '--in', join(dir, 'missing.gz')]),
      eventbench(['restore', '--backend', 'postgres', ...pg(), '--in', notBackup]),
    ]);
    oneLine(runs[0]!, /streams ls acts on your servers.*--pg-url postgres:\/\/\.\.\. \(or PG_URL\)/);
    oneLine(runs[1]!, /streams purge order deletes its events.*add --yes to confirm/);
    oneLine(runs[2]!, /streams info needs a NAME/);
    oneLine(runs[3]!, /--out .*exists.gz exists: remove it or pick another name/);
    oneLine(runs[4]!, /--in .*missing.gz: no such file/);
    oneLine(runs[5]!, /not-a-backup.json is not gzip-compressed: not an eventbench backup/);
  }, 120_000);
});
