/**
 * Stream administration of a PostgreSQL namespace (schema), docs/admin.md: categories play the part of
 * JetStream streams (one row of `streams ls` each), an event stream `<category>-<id>` is a stream id.
 * Purging deletes events, their outbox rows and the stream rows (so versions start again at 1, as on a
 * purged JetStream subject) and keeps subscriptions; removing a category also deletes the subscriptions
 * that read it (their audit trail and dead letters stay, as with `deleteSubscription`).
 */
import pg from 'pg';
import { ConfigError, StoreUnavailableError } from '../../core/event-store.ts';
import type { AdminOptions, EventStreamDetail, NamespaceListing, RemovalResult, StoreAdmin, StreamDetail, StreamSummary, TableSummary } from '../admin.ts';
import { checkSchemaName, quoteIdent } from './connection.ts';

interface CategoryRow {
  category: string;
  events: string;
  streams: string;
  first: string;
  last: string;
  last_version: string;
  bytes: string;
}

export async function openPostgresAdmin(options: AdminOptions): Promise<StoreAdmin> {
  if (!options.pgUrl) throw new ConfigError('postgres admin needs a URL: --pg-url postgres://... or PG_URL');
  const schema = checkSchemaName(options.namespace);
  const client = new pg.Client({ connectionString: options.pgUrl, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    throw new StoreUnavailableError(`cannot connect to PostgreSQL: ${(err as Error).message}`, { cause: err });
  }
  const t = (table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`;
  let closed = false;

  async function hasStore(): Promise<boolean> {
    const { rows } = await client.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${quoteIdent(schema)}.events`]);
    return rows[0]!.ok;
  }

  async function subscriptionCounts(): Promise<Map<string | null, number>> {
    const { rows } = await client.query<{ category: string | null; n: string }>(`SELECT category, count(*) AS n FROM ${t('subscriptions')} GROUP BY category`);
    return new Map(rows.map((r) => [r.category, Number(r.n)]));
  }

  function summary(r: CategoryRow, consumers: number): StreamSummary {
    return {
      name: r.category,
      kind: 'category',
      category: r.category,
      streams: Number(r.streams),
      events: Number(r.events),
      bytes: Number(r.bytes),
      firstPosition: Number(r.first ?? 0),
      lastPosition: Number(r.last ?? 0),
      lastVersion: Number(r.last_version ?? 0),
      consumers,
    };
  }

  // One scan of the events per call: an admin command on a large namespace takes a while, never memory.
  const CATEGORY_SELECT = `SELECT category, count(*) AS events, count(DISTINCT stream_id) AS streams, min(position) AS first,
            max(position) AS last, max(version) AS last_version, coalesce(sum(pg_column_size(e.*)), 0) AS bytes`;

  async function categories(where = '', params: unknown[] = []): Promise<StreamSummary[]> {
    const { rows } = await client.query<CategoryRow>(`${CATEGORY_SELECT} FROM ${t('events')} e ${where} GROUP BY category ORDER BY category`, params);
    const subs = await subscriptionCounts();
    const found = rows.map((r) => summary(r, subs.get(r.category) ?? 0));
    // A category whose events were purged still has its subscriptions: it is still there to inspect and remove.
    for (const [category, n] of subs) {
      if (category !== null && !found.some((s) => s.category === category) && (params.length === 0 || params[0] === category)) {
        found.push({ name: category, kind: 'category', category, streams: 0, events: 0, bytes: 0, firstPosition: 0, lastPosition: 0, lastVersion: 0, consumers: n });
      }
    }
    return found.sort((a, b) => a.name.localeCompare(b.name));
  }

  async function tables(): Promise<TableSummary[]> {
    const { rows } = await client.query<{ name: string; rows: number; bytes: string }>(
      `SELECT c.relname AS name, c.reltuples AS rows, pg_total_relation_size(c.oid) AS bytes
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
      [schema],
    );
    return rows.map((r) => ({ name: r.name, estimatedRows: Number(r.rows), bytes: Number(r.bytes) }));
  }

  async function eventStream(stream: string): Promise<EventStreamDetail | undefined> {
    const { rows } = await client.query<{ events: string; v: string; first: string; last: string; bytes: string }>(
      `SELECT count(*) AS events, max(version) AS v, min(position) AS first, max(position) AS last, coalesce(sum(pg_column_size(e.*)), 0) AS bytes
         FROM ${t('events')} e WHERE stream_id = $1`,
      [stream],
    );
    const r = rows[0]!;
    if (Number(r.events) === 0) return undefined;
    return { stream, events: Number(r.events), lastVersion: Number(r.v), firstPosition: Number(r.first), lastPosition: Number(r.last), bytes: Number(r.bytes) };
  }

  /** NAME as a category or an event stream of this namespace; `ConfigError` listing the categories otherwise. */
  async function resolve(name: string): Promise<{ category: string } | { stream: string }> {
    if (!(await hasStore())) throw new ConfigError(`namespace ${schema} has no eventbench tables on this PostgreSQL (eventbench init --backend postgres --namespace ${schema} creates them)`);
    if (name.includes('-')) {
      if (await eventStream(name)) return { stream: name };
      throw new ConfigError(`no event stream ${JSON.stringify(name)} in namespace ${schema}`);
    }
    const found = await categories('WHERE category = $1', [name]);
    if (found.length > 0) return { category: name };
    const all = (await categories()).map((c) => c.name);
    throw new ConfigError(`no category ${JSON.stringify(name)} in namespace ${schema}; there are: ${all.length > 0 ? all.join(', ') : 'none'}`);
  }

  /** Deletes the events of a category / stream with their outbox and stream rows, in one transaction. */
  async function deleteEvents(target: { category: string } | { stream: string }, alsoSubscriptions: boolean): Promise<RemovalResult> {
    const [column, streamColumn, value] = 'category' in target ? ['category', 'stream_type', target.category] : ['stream_id', 'stream_id', target.stream];
    await client.query('BEGIN');
    try {
      await client.query(`DELETE FROM ${t('outbox')} o USING ${t('events')} e WHERE e.${column} = $1 AND o.id = e.event_id`, [value]);
      const events = await client.query(`DELETE FROM ${t('events')} WHERE ${column} = $1`, [value]);
      await client.query(`DELETE FROM ${t('streams')} WHERE ${streamColumn} = $1`, [value]);
      const removed: string[] = [];
      if (alsoSubscriptions && 'category' in target) {
        const subs = await client.query<{ name: string }>(`DELETE FROM ${t('subscriptions')} WHERE category = $1 RETURNING name`, [value]);
        removed.push(...subs.rows.map((r) => `subscription ${r.name}`));
      }
      await client.query('COMMIT');
      return { name: value, events: events.rowCount ?? 0, removed };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  }

  const admin: StoreAdmin = {
    backend: 'postgres',
    namespace: schema,
    async list(): Promise<NamespaceListing> {
      if (!(await hasStore())) return { backend: 'postgres', namespace: schema, streams: [], tables: await tables() };
      return { backend: 'postgres', namespace: schema, streams: await categories(), tables: await tables() };
    },
    async info(name): Promise<StreamDetail> {
      const target = await resolve(name);
      if ('stream' in target) {
        const { rows } = await client.query<{ created_at: Date; updated_at: Date }>(`SELECT created_at, updated_at FROM ${t('streams')} WHERE stream_id = $1`, [target.stream]);
        return { eventStream: (await eventStream(target.stream))!, detail: rows[0] ? { createdAt: rows[0].created_at.toISOString(), updatedAt: rows[0].updated_at.toISOString() } : {} };
      }
      const [s] = await categories('WHERE category = $1', [target.category]);
      const largest = await client.query<{ stream_id: string; events: string; v: string; first: string; last: string }>(
        `SELECT stream_id, count(*) AS events, max(version) AS v, min(position) AS first, max(position) AS last
           FROM ${t('events')} WHERE category = $1 GROUP BY stream_id ORDER BY count(*) DESC, stream_id LIMIT 10`,
        [target.category],
      );
      const subs = await client.query<{ name: string; position: string; updated_at: Date }>(
        `SELECT name, position, updated_at FROM ${t('subscriptions')} WHERE category = $1 ORDER BY name`,
        [target.category],
      );
      return {
        summary: s!,
        largest: largest.rows.map((r) => ({ stream: r.stream_id, events: Number(r.events), lastVersion: Number(r.v), firstPosition: Number(r.first), lastPosition: Number(r.last) })),
        detail: { subscriptions: subs.rows.map((r) => ({ name: r.name, checkpointPosition: Number(r.position), updatedAt: r.updated_at.toISOString() })) },
      };
    },
    async purge(name) {
      return deleteEvents(await resolve(name), false);
    },
    async remove(name) {
      return deleteEvents(await resolve(name), true);
    },
    async close() {
      if (closed) return;
      closed = true;
      await client.end().catch(() => {});
    },
    [Symbol.asyncDispose]() {
      return admin.close();
    },
  };
  return admin;
}
