/**
 * What a hand-written repository on `pg` would send for an append: the postgres adapter's rows (stream
 * row with the optimistic-concurrency check, the events, one outbox row per event) in one statement,
 * written here without the adapter's code. A single event binds scalars; a batch is one multi-row VALUES
 * list (bench/postgres-append.ts measured both forms against the adapter).
 */
import type { ExpectedVersion } from '../../core/event-store.ts';

export type CheckKind = 'any' | 'no_stream' | 'exists' | 'version';

export function checkKind(expected: ExpectedVersion): CheckKind {
  if (expected === 'any' || expected === 'no_stream' || expected === 'exists') return expected;
  return expected === 0 ? 'no_stream' : 'version';
}

/** Columns of one event, in VALUES order: id, type, data, metadata, timestamp, correlation, causation, aggregate id, aggregate type. */
export const EVENT_PARAMS = 9;

/**
 * $1 stream, $2 category, $3 number of events, [$4 expected version], then EVENT_PARAMS per event.
 * Returns the stream's new version and the events' positions.
 */
export function rawAppendText(schema: string, kind: CheckKind, n: number): string {
  const s = `"${schema.replaceAll('"', '""')}"`;
  // The same four checks as the adapter's (src/store/postgres/append.ts), which a careful hand-written
  // repository needs too: create-or-move-on, only-if-absent, only-if-present, only-at-version.
  const check = {
    any: `INSERT INTO ${s}.streams AS st (stream_id, stream_type, version) VALUES ($1, $2, $3::int)
            ON CONFLICT (stream_id) DO UPDATE SET version = st.version + $3::int, updated_at = now() RETURNING st.version`,
    no_stream: `INSERT INTO ${s}.streams (stream_id, stream_type, version) VALUES ($1, $2, $3::int)
            ON CONFLICT (stream_id) DO NOTHING RETURNING version`,
    exists: `UPDATE ${s}.streams st SET version = st.version + $3::int, updated_at = now()
            WHERE st.stream_id = $1 RETURNING st.version`,
    version: `UPDATE ${s}.streams st SET version = st.version + $3::int, updated_at = now()
            WHERE st.stream_id = $1 AND st.version = $4::bigint RETURNING st.version`,
  }[kind];
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const b = (kind === 'version' ? 5 : 4) + i * EVENT_PARAMS;
    const p = (k: number) => `$${b + k}`;
    rows.push(`(${i + 1}, ${p(0)}, ${p(1)}, ${p(2)}::jsonb, ${p(3)}::jsonb, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)})`);
  }
  return `WITH s AS (${check}),
v (ord, event_id, type, data, metadata, ts, corr, caus, agg_id, agg_type) AS (VALUES ${rows.join(', ')}),
e AS (
  INSERT INTO ${s}.events (stream_id, category, version, event_id, type, data, metadata, "timestamp", correlation_id, causation_id, aggregate_id, aggregate_type)
  SELECT $1, $2, s.version - $3::int + v.ord, v.event_id, v.type, v.data, v.metadata, v.ts, v.corr, v.caus, v.agg_id, v.agg_type
    FROM s CROSS JOIN v ORDER BY v.ord
  RETURNING position, version, event_id, type, data, aggregate_id, aggregate_type
),
o AS (
  INSERT INTO ${s}.outbox (id, position, aggregate_type, aggregate_id, type, payload)
  SELECT event_id, position, aggregate_type, aggregate_id, type, data FROM e
)
SELECT s.version, ARRAY(SELECT e.position FROM e ORDER BY e.version) AS positions FROM s`;
}

/** The keyset page of a catch-up read (what a hand-written replay loop sends): $1 after position, $2 limit, [$3 category]. */
export function keysetPageText(schema: string, byCategory: boolean): string {
  const s = `"${schema.replaceAll('"', '""')}"`;
  return `SELECT position, stream_id, version, event_id, type, data, metadata, "timestamp", correlation_id, causation_id, aggregate_id, aggregate_type
    FROM ${s}.events WHERE position > $1 ${byCategory ? 'AND category = $3 ' : ''}ORDER BY position LIMIT $2`;
}
