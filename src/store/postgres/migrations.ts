/**
 * Applies sql/NNN_*.sql to one schema, in order, once. `{{schema}}` in a file is replaced by the quoted
 * schema name, so the same files build any number of isolated stores. Applied files are recorded in
 * `<schema>.eventbench_migrations` with a checksum; a second run changes nothing and says `unchanged`,
 * a file edited after it was applied is reported as `differs` (never re-applied silently).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { sql, type Kysely } from 'kysely';
import type { InitReport } from '../backend.ts';
import { quoteIdent } from './connection.ts';
import type { Database } from './schema.ts';

const SQL_DIR = new URL('../../../sql/', import.meta.url);
const MIGRATION_FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: string;
  name: string;
  text: string;
  checksum: string;
}

export function loadMigrations(): Migration[] {
  return readdirSync(SQL_DIR)
    .filter((f) => MIGRATION_FILE.test(f))
    .sort()
    .map((file) => {
      const [, version, name] = MIGRATION_FILE.exec(file)!;
      const text = readFileSync(new URL(file, SQL_DIR), 'utf8');
      return { version: version!, name: name!, text, checksum: createHash('sha256').update(text).digest('hex') };
    });
}

export async function migrate(db: Kysely<Database>, schema: string): Promise<InitReport> {
  const migrations = loadMigrations();
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
      if (stored === m.checksum) {
        items.push({ kind: 'migration', name: label, status: 'unchanged' });
        continue;
      }
      if (stored !== undefined) {
        items.push({ kind: 'migration', name: label, status: 'differs', detail: 'file changed after it was applied; not re-applied' });
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
