/**
 * Applies sql/NNN_*.sql to one schema, in order, once. `{{schema}}` in a file is replaced by the quoted
 * schema name, so the same files build any number of isolated stores. Applied files are recorded in
 * `<schema>.eventbench_migrations` with a checksum of their statements (migration-checksum.ts: comments
 * and layout do not count); a second run changes nothing and says `unchanged`, a file whose statements
 * were edited after it was applied is reported as `differs` (never re-applied silently).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { sql, type Kysely } from 'kysely';
import type { InitReport } from '../backend.ts';
import { quoteIdent } from './connection.ts';
import { migrationChecksum, recordedChecksumMatches } from './migration-checksum.ts';
import type { Database } from './schema.ts';

const SQL_DIR = new URL('../../../sql/', import.meta.url);
const MIGRATION_FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: string;
  name: string;
  text: string;
  checksum: string;
}

/** The migrations in `dir` (default: the repository's `sql/`; tests pass a copy they edit). */
export function loadMigrations(dir: URL = SQL_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => MIGRATION_FILE.test(f))
    .sort()
    .map((file) => {
      const [, version, name] = MIGRATION_FILE.exec(file)!;
      const text = readFileSync(new URL(file, dir), 'utf8');
      return { version: version!, name: name!, text, checksum: migrationChecksum(text) };
    });
}

export async function migrate(db: Kysely<Database>, schema: string, migrations: Migration[] = loadMigrations()): Promise<InitReport> {
  const q = quoteIdent(schema);
  return db.transaction().execute(async (trx) => {
    // Two inits of one schema at once (parallel test workers, two CLI runs) queue here instead of racing
    // on CREATE SCHEMA / CREATE TABLE.
    await sql`SELECT pg_advisory_xact_lock(hashtext(${'eventbench:' + schema}))`.execute(trx);
    const items: InitReport['items'] = [];
    const existing = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = ${schema}`.execute(trx);
    if (existing.rows[0]!.n === 0) {
      await sql.raw(`CREATE SCHEMA ${q}`).execute(trx);
      items.push({ kind: 'schema', name: schema, status: 'created' });
    } else {
      items.push({ kind: 'schema', name: schema, status: 'unchanged' });
    }
    await sql
      .raw(
        `CREATE TABLE IF NOT EXISTS ${q}.eventbench_migrations (
           version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now())`,
      )
      .execute(trx);
    const applied = new Map(
      (await trx.withSchema(schema).selectFrom('eventbench_migrations').select(['version', 'checksum']).execute()).map((r) => [
        r.version,
        r.checksum,
      ]),
    );
    for (const m of migrations) {
      const label = `${m.version}_${m.name}`;
      const stored = applied.get(m.version);
      if (stored !== undefined && recordedChecksumMatches(m.version, stored, m.checksum)) {
        items.push({ kind: 'migration', name: label, status: 'unchanged' });
        continue;
      }
      if (stored !== undefined) {
        items.push({ kind: 'migration', name: label, status: 'differs', detail: 'statements changed after the file was applied; not re-applied' });
        continue;
      }
      await sql.raw(m.text.replaceAll('{{schema}}', q)).execute(trx);
      await trx
        .withSchema(schema)
        .insertInto('eventbench_migrations')
        .values({ version: m.version, name: m.name, checksum: m.checksum })
        .execute();
      items.push({ kind: 'migration', name: label, status: 'created' });
    }
    return { backend: 'postgres', items };
  });
}
