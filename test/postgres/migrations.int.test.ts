/**
 * Migration checksums against a real server: editing a comment or the layout of an applied sql/ file
 * leaves every store `unchanged`; editing a statement makes it `differs`; a store that recorded the
 * previous rule's checksum (sha256 of the whole file, before the comments cited docs/) is `unchanged`.
 * Each test edits its own copy of sql/ in a temp directory and migrates its own schema.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createPool } from '../../src/store/postgres/connection.ts';
import { PREVIOUS_RULE_CHECKSUMS, previousRuleChecksum } from '../../src/store/postgres/migration-checksum.ts';
import { loadMigrations, migrate } from '../../src/store/postgres/migrations.ts';
import type { Database } from '../../src/store/postgres/schema.ts';
import { testPgUrl, uniqueName } from '../support/servers.ts';
import { dropSchema, withClient } from './helpers.ts';

const SQL_DIR = new URL('../../sql/', import.meta.url);
const schemas: string[] = [];
const dirs: string[] = [];
let pool: pg.Pool;
let db: Kysely<Database>;

beforeAll(() => {
  pool = createPool({ pgUrl: testPgUrl(), poolSize: 2 });
  db = createDb(pool);
});

afterAll(async () => {
  await db?.destroy();
  for (const s of schemas) await dropSchema(s);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A copy of sql/ this test may edit. */
function sqlCopy(): { dir: URL; edit: (file: string, from: string, to: string) => void } {
  const path = mkdtempSync(join(tmpdir(), 'eventbench-migrations-'));
  dirs.push(path);
  for (const f of readdirSync(SQL_DIR)) copyFileSync(new URL(f, SQL_DIR), join(path, f));
  return {
    dir: pathToFileURL(`${path}/`),
    edit(file, from, to) {
      const text = readFileSync(join(path, file), 'utf8');
      expect(text).toContain(from);
      writeFileSync(join(path, file), text.replace(from, to));
    },
  };
}

function newSchema(): string {
  const s = uniqueName('mig');
  schemas.push(s);
  return s;
}

const statuses = (report: Awaited<ReturnType<typeof migrate>>) =>
  Object.fromEntries(report.items.filter((i) => i.kind === 'migration').map((i) => [i.name, i.status]));

describe('postgres migrations: what counts as a change', () => {
  it('comments and layout edited after init: unchanged (although the file bytes differ)', async () => {
    const copy = sqlCopy();
    const schema = newSchema();
    expect(statuses(await migrate(db, schema, loadMigrations(copy.dir)))).toEqual({
      '001_event_store': 'created',
      '002_subscriptions': 'created',
    });
    const before = loadMigrations(copy.dir);
    copy.edit('001_event_store.sql', '-- One row per stream:', '-- A reworded comment.\n/* and a new block comment */\n-- One row per stream:');
    copy.edit('001_event_store.sql', '  stream_id   text        PRIMARY KEY,', '\tstream_id text PRIMARY KEY,   ');
    // Inside the PL/pgSQL body of claim_events: a comment there is still a comment.
    copy.edit('002_subscriptions.sql', '  -- Serialises claiming', '  -- (edited) Serialises claiming');
    const after = loadMigrations(copy.dir);
    // The previous rule (sha256 of the whole file) would call both files changed.
    expect(after.map((m) => previousRuleChecksum(m.text))).not.toEqual(before.map((m) => previousRuleChecksum(m.text)));
    expect(statuses(await migrate(db, schema, after))).toEqual({ '001_event_store': 'unchanged', '002_subscriptions': 'unchanged' });
  });

  it('a statement edited after init: differs, and nothing is re-applied', async () => {
    const copy = sqlCopy();
    const schema = newSchema();
    await migrate(db, schema, loadMigrations(copy.dir));
    copy.edit('001_event_store.sql', 'version     bigint      NOT NULL CHECK (version > 0),', 'version     bigint      NOT NULL CHECK (version >= 0),');
    // A string literal is data, not layout: one more space in it is a change.
    copy.edit('002_subscriptions.sql', "CHECK (outcome IN ('failed', 'dead'))", "CHECK (outcome IN ('failed', 'dead '))");
    const report = await migrate(db, schema, loadMigrations(copy.dir));
    expect(statuses(report)).toEqual({ '001_event_store': 'differs', '002_subscriptions': 'differs' });
    expect(report.items.find((i) => i.name === '001_event_store')?.detail).toMatch(/statements changed/);
    const check = await withClient((c) =>
      c.query(`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = '"${schema}".streams'::regclass AND contype = 'c'`),
    );
    expect(check.rows.map((r) => r.def)).toEqual(['CHECK ((version > 0))']);
  });
});

describe('postgres migrations: stores initialised by the previous release', () => {
  async function recordPreviousRule(schema: string): Promise<void> {
    await withClient(async (c) => {
      for (const [version, [old]] of Object.entries(PREVIOUS_RULE_CHECKSUMS)) {
        const r = await c.query(`UPDATE "${schema}".eventbench_migrations SET checksum = $1 WHERE version = $2`, [old!.recorded, version]);
        expect(r.rowCount).toBe(1);
      }
    });
  }

  it('the sha256 of the whole released file, as it recorded: unchanged', async () => {
    const schema = newSchema();
    await migrate(db, schema);
    await recordPreviousRule(schema);
    expect(statuses(await migrate(db, schema))).toEqual({ '001_event_store': 'unchanged', '002_subscriptions': 'unchanged' });
  });

  it('the same store after a statement edit: differs', async () => {
    const copy = sqlCopy();
    const schema = newSchema();
    await migrate(db, schema, loadMigrations(copy.dir));
    await recordPreviousRule(schema);
    copy.edit('001_event_store.sql', 'CREATE INDEX events_category_position_idx', 'CREATE UNIQUE INDEX events_category_position_idx');
    expect(statuses(await migrate(db, schema, loadMigrations(copy.dir)))).toEqual({
      '001_event_store': 'differs',
      '002_subscriptions': 'unchanged',
    });
  });

  it('a checksum no release recorded: differs', async () => {
    const schema = newSchema();
    await migrate(db, schema);
    await withClient((c) => c.query(`UPDATE "${schema}".eventbench_migrations SET checksum = $1 WHERE version = '001'`, ['0'.repeat(64)]));
    expect(statuses(await migrate(db, schema))['001_event_store']).toBe('differs');
  });
});
