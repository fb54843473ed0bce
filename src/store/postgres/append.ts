/**
 * The append: one statement, one round trip. Its first CTE is the optimistic-concurrency check (one of
 * four shapes, by expected version) and locks the stream row; the events and their outbox rows are
 * inserted from it, so a failed check writes nothing and a failure anywhere (a duplicate id in the middle
 * of a batch, a constraint) rolls the whole statement back. Conflicts and duplicates are classified after
 * the fact by a second, read-only query (the slow path), from SQLSTATE + constraint name, never messages.
 *
 * Named prepared statements: parse + plan of this 4-CTE statement costs as much server CPU as executing
 * it, and Kysely cannot name statements, so the hot path uses `pg` directly (reads use Kysely).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import {
  ConfigError,
  DuplicateEventError,
  OutcomeUnknownError,
  StoreUnavailableError,
  VersionConflictError,
  type AppendResult,
  type ExpectedVersion,
  type NewEvent,
} from '../../core/event-store.ts';
import { checkExpectedVersion, matchesExpectedVersion, parseStreamName, prepareAppend } from '../../core/validate.ts';
import { isServerError, isUnavailableSqlState, quoteIdent } from './connection.ts';

type Kind = 'any' | 'no_stream' | 'exists' | 'version';

export interface AppendSettings {
  schema: string;
  maxEventBytes: number;
  /** Write an outbox row per event in the same statement (default true; the hybrid topology relays them). */
  outbox: boolean;
  now?: () => Date;
}

interface Statement {
  name: string;
  text: string;
}

const statements = new Map<string, Statement>();

function kindOf(expected: ExpectedVersion): Kind {
  if (expected === 'any' || expected === 'no_stream' || expected === 'exists') return expected;
  return expected === 0 ? 'no_stream' : 'version';
}

/** The statement for one expected-version kind. $1 stream, $2 category, $3 number of events, [$4 expected]. */
export function appendStatement(schema: string, kind: Kind, single = false): Statement {
  const key = `${schema}\u0000${kind}\u0000${single}`;
  const cached = statements.get(key);
  if (cached) return cached;
  const s = quoteIdent(schema);
  const check = {
    // Upsert: creates the stream or moves it on, no check.
    any: `INSERT INTO ${s}.streams AS st (stream_id, stream_type, version) VALUES ($1, $2, $3)
            ON CONFLICT (stream_id) DO UPDATE SET version = st.version + $3, updated_at = now()
          RETURNING st.version`,
    // Only if absent. A concurrent creator holds the index entry: we wait for it, then see the conflict.
    no_stream: `INSERT INTO ${s}.streams (stream_id, stream_type, version) VALUES ($1, $2, $3)
            ON CONFLICT (stream_id) DO NOTHING
          RETURNING version`,
    exists: `UPDATE ${s}.streams st SET version = st.version + $3, updated_at = now()
            WHERE st.stream_id = $1
          RETURNING st.version`,
    // READ COMMITTED re-checks `version = $4` on the row a concurrent winner just committed, so of N
    // appends with the same expected version exactly one matches.
    version: `UPDATE ${s}.streams st SET version = st.version + $3, updated_at = now()
            WHERE st.stream_id = $1 AND st.version = $4
          RETURNING st.version`,
  }[kind];
  const a = kind === 'version' ? 5 : 4; // first array parameter
  const p = (i: number) => `$${a + i}`;
  // One event (the common case) binds scalars; several bind one array per column and unnest them. The
  // single form spares the array encoding on both sides and the sort (measured: bench/postgres-append.ts).
  const rows = single
    ? `SELECT $1, $2, s.version, ${p(0)}, ${p(1)}, ${p(2)}::jsonb, ${p(3)}::jsonb, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)} FROM s`
    : `SELECT $1, $2, s.version - $3 + u.ord, u.id, u.type, u.data::jsonb, u.metadata::jsonb, u.ts,
         u.corr, u.caus, u.agg_id, u.agg_type
    FROM s CROSS JOIN unnest(${p(0)}::text[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[],
                             ${p(5)}::text[], ${p(6)}::text[], ${p(7)}::text[], ${p(8)}::text[])
         WITH ORDINALITY AS u(id, type, data, metadata, ts, corr, caus, agg_id, agg_type, ord)
   ORDER BY u.ord`;
  const text = `WITH s AS (${check}),
e AS (
  INSERT INTO ${s}.events (stream_id, category, version, event_id, type, data, metadata, "timestamp",
                           correlation_id, causation_id, aggregate_id, aggregate_type)
  ${rows}
  RETURNING position, version, event_id, type, aggregate_id, aggregate_type, data
),
o AS (
  INSERT INTO ${s}.outbox (id, position, aggregate_type, aggregate_id, type, payload)
  SELECT e.event_id, e.position, e.aggregate_type, e.aggregate_id, e.type, e.data FROM e WHERE ${p(9)}::boolean
)
SELECT s.version, ARRAY(SELECT e.position FROM e ORDER BY e.version) AS positions FROM s`;
  const hash = createHash('sha1').update(schema).digest('hex').slice(0, 12);
  const statement = { name: `eb_append_${kind}${single ? '_1' : ''}_${hash}`, text };
  statements.set(key, statement);
  return statement;
}

/**
 * Appends on a client the caller holds: the store's own path (an implicit one-statement transaction), or
 * inside the caller's BEGIN ... COMMIT, which makes the append part of their business transaction. Input
 * is validated before anything is sent.
 */
export async function appendOnClient(
  client: pg.ClientBase,
  settings: AppendSettings,
  stream: string,
  events: NewEvent[],
  expectedVersion: ExpectedVersion | undefined,
): Promise<AppendResult> {
  const expected = checkExpectedVersion(expectedVersion);
  const { category } = parseStreamName(stream);
  const prepared = prepareAppend(stream, events, 1, settings.maxEventBytes, settings.now);
  const n = prepared.length;
  const kind = kindOf(expected);
  const statement = appendStatement(settings.schema, kind, n === 1);
  const ids: string[] = new Array(n);
  const types: string[] = new Array(n);
  const data: string[] = new Array(n);
  const metadata: string[] = new Array(n);
  const timestamps: string[] = new Array(n);
  const correlation: string[] = new Array(n);
  const causation: (string | null)[] = new Array(n);
  const aggregateIds: string[] = new Array(n);
  const aggregateTypes: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const { envelope, dataJson, metadataJson } = prepared[i]!;
    ids[i] = envelope.id;
    types[i] = envelope.type;
    data[i] = dataJson;
    metadata[i] = metadataJson;
    timestamps[i] = envelope.timestamp;
    correlation[i] = envelope.correlationId;
    causation[i] = envelope.causationId ?? null;
    aggregateIds[i] = envelope.aggregateId;
    aggregateTypes[i] = envelope.aggregateType;
  }
  const head: unknown[] = kind === 'version' ? [stream, category, n, expected] : [stream, category, n];
  const columns = [ids, types, data, metadata, timestamps, correlation, causation, aggregateIds, aggregateTypes];
  const values = [...head, ...(n === 1 ? columns.map((c) => c[0]) : columns), settings.outbox];

  // A duplicate id racing with a transaction that then rolls back looks like nothing on the slow path:
  // the append is simply tried again (bounded).
  for (let attempt = 1; ; attempt++) {
    let conflictCause: unknown;
    try {
      const result = await client.query<{ version: number; positions: number[] }>({ name: statement.name, text: statement.text, values });
      const row = result.rows[0];
      if (row) return { streamVersion: row.version, positions: row.positions.map(Number), duplicate: false };
    } catch (err) {
      if (!isServerError(err)) {
        // The request may have reached the server: we cannot know whether it committed.
        throw new OutcomeUnknownError(stream, `connection lost during append: ${(err as Error).message}`, { cause: err });
      }
      if (isUnavailableSqlState(err.code)) {
        throw new StoreUnavailableError(`PostgreSQL unavailable during append to ${stream}: SQLSTATE ${err.code}`, { cause: err });
      }
      // The payload is valid JSON but not storable as jsonb (a \u0000 escape: 22P05), or too big (54000).
      // The statement failed as a whole, so nothing was written.
      if (err.code === '22P05' || err.code === '22P02' || err.code === '54000') {
        throw new ConfigError(`append to ${stream}: PostgreSQL cannot store this payload as jsonb (SQLSTATE ${err.code}): ${err.message}`, { cause: err });
      }
      // 23505 unique_violation: an event id stored before (events_event_id_key / outbox_pkey), or a
      // stream / version written concurrently. Anything else is not ours to interpret.
      if (err.code !== '23505') throw err;
      conflictCause = err;
    }
    const outcome = await classify(client, settings.schema, stream, ids, expected, conflictCause);
    if (outcome) return outcome;
    if (attempt >= 3) throw new VersionConflictError(stream, expected, await currentVersion(client, settings.schema, stream), { cause: conflictCause });
  }
}

/** The slow path after a failed check or a unique violation: duplicate retry, duplicate error or version conflict. */
async function classify(
  client: pg.ClientBase,
  schema: string,
  stream: string,
  ids: string[],
  expected: ExpectedVersion,
  cause: unknown,
): Promise<AppendResult | undefined> {
  const s = quoteIdent(schema);
  const { rows } = await client.query<{ version: number | null; stored: { id: string; stream: string; position: number; version: number }[] }>(
    `SELECT (SELECT version FROM ${s}.streams WHERE stream_id = $1) AS version,
            coalesce((SELECT json_agg(json_build_object('id', event_id, 'stream', stream_id, 'position', position, 'version', version))
                        FROM ${s}.events WHERE event_id = ANY($2::text[])), '[]') AS stored`,
    [stream, ids],
  );
  const { version, stored } = rows[0]!;
  if (stored.length === ids.length && stored.every((e) => e.stream === stream)) {
    // A retry of an append that succeeded: the original positions, in the order of the call.
    const byId = new Map(stored.map((e) => [e.id, e]));
    const original = ids.map((id) => byId.get(id)!);
    return { streamVersion: original[original.length - 1]!.version, positions: original.map((e) => e.position), duplicate: true };
  }
  if (stored.length > 0) {
    throw new DuplicateEventError(
      stream,
      stored.map((e) => e.id),
      { cause },
    );
  }
  const actual = version ?? 0;
  if (cause === undefined) {
    // The check failed without an error: the stream is not where the caller expected.
    if (!matchesExpectedVersion(expected, actual)) throw new VersionConflictError(stream, expected, actual);
    return undefined; // it moved back into place between the two statements (cannot happen today): retry
  }
  if (isServerError(cause) && cause.constraint !== 'events_event_id_key' && cause.constraint !== 'outbox_pkey') {
    throw new VersionConflictError(stream, expected, actual, { cause });
  }
  return undefined; // duplicate id of a transaction that rolled back: retry
}

async function currentVersion(client: pg.ClientBase, schema: string, stream: string): Promise<number> {
  const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${quoteIdent(schema)}.streams WHERE stream_id = $1`, [stream]);
  return rows[0]?.version ?? 0;
}
