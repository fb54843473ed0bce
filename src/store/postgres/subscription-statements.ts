/**
 * The per-batch statements of a subscription (claim, read, acknowledge, move a claim's start), as named
 * prepared statements: parsing and planning them for every batch cost ~0.3 ms each, as much as a tenth of
 * the batch's server time. Their generic plans are the custom ones (checked with EXPLAIN): index range
 * scans. Parameters are named (named-statement.ts); the numbers are not written by hand.
 */
import { quoteIdent } from './connection.ts';
import { namedStatement } from './named-statement.ts';

/** What an acknowledgement logs (sql/002, event_log_ranges), shared by ACK and MOVE_START. */
const LOGGED = [
  'claimId',
  'lease',
  'subscription',
  'fromTransactionId',
  'fromPosition',
  /** The range's end (NULL: nothing done, nothing to log). */
  'toTransactionId',
  'toPosition',
  'retriedPositions',
  'retriedAttempts',
  'skippedPositions',
  'category',
] as const;

export function subscriptionStatements(schema: string) {
  const q = quoteIdent(schema);

  const claim = namedStatement(
    'eb_sub_claim',
    ['subscription', 'owner', 'batchSize', 'pages', 'ackWaitSeconds'],
    (p) => `SELECT * FROM ${q}.claim_events(${p.subscription}, ${p.owner}, ${p.batchSize}::int, ${p.pages}::int, ${p.ackWaitSeconds}::int)`,
  );

  // An ordered range scan of the (transaction_id, position) index; the LIMIT (the claim's event count) is
  // what lets the planner see that: without it, it cannot estimate a range of row comparisons and chose a
  // sequential scan of the table plus a sort (measured at 1M events).
  const read = namedStatement(
    'eb_sub_read',
    ['fromTransactionId', 'fromPosition', 'toTransactionId', 'toPosition', 'category', 'limit'],
    (p) => `SELECT e.position, e.transaction_id, e.stream_id, e.version, e.event_id, e.type, e.data, e.metadata, e."timestamp",
            e.correlation_id, e.causation_id, e.aggregate_id, e.aggregate_type
       FROM ${q}.events e
      WHERE (e.transaction_id, e.position) > (${p.fromTransactionId}::xid8, ${p.fromPosition}::bigint)
        AND (e.transaction_id, e.position) <= (${p.toTransactionId}::xid8, ${p.toPosition}::bigint)
        AND (${p.category}::text IS NULL OR e.category = ${p.category}::text)
      ORDER BY e.transaction_id, e.position
      LIMIT ${p.limit}::int`,
  );

  // Logs the successes of (from, to] as one range, only if `settled` (the claim under the lease the batch
  // was claimed with) found the claim.
  const logSuccess = (p: Record<(typeof LOGGED)[number], string>) => `INSERT INTO ${q}.event_log_ranges
                   (subscription, category, from_transaction_id, from_position, to_transaction_id, to_position,
                    retried_positions, retried_attempts, skipped_positions)
            SELECT ${p.subscription}, ${p.category}::text, ${p.fromTransactionId}::xid8, ${p.fromPosition}::bigint,
                   ${p.toTransactionId}::xid8, ${p.toPosition}::bigint,
                   ${p.retriedPositions}::bigint[], ${p.retriedAttempts}::int[], ${p.skippedPositions}::bigint[]
             WHERE ${p.toTransactionId}::xid8 IS NOT NULL AND EXISTS (SELECT 1 FROM settled)`;

  // The acknowledgement of a claim's last page: the claim is deleted and the successes logged.
  const ack = namedStatement(
    'eb_sub_ack',
    LOGGED,
    (p) => `WITH settled AS (DELETE FROM ${q}.subscription_claims WHERE id = ${p.claimId} AND lease = ${p.lease} RETURNING id),
          log AS (${logSuccess(p)})
     SELECT set_config('synchronous_commit', 'off', true)`,
  );

  // Anything short of the claim's end: its start moves past the done rows (toTransactionId/toPosition,
  // NULL: none) and it expires `renewSeconds` from now (a page acknowledged: ack wait renewed) or at
  // `retryAtSeconds` (given back: now, or when a pending retry is due), whichever is later.
  const moveStart = namedStatement(
    'eb_sub_move_start',
    [...LOGGED, 'renewSeconds', 'done', 'retryAtSeconds'],
    (p) => `WITH settled AS (
            UPDATE ${q}.subscription_claims c
               SET from_transaction_id = coalesce(${p.toTransactionId}::xid8, c.from_transaction_id),
                   from_position = coalesce(${p.toPosition}::bigint, c.from_position),
                   events = greatest(c.events - ${p.done}::int, 0),
                   expires_at = greatest(clock_timestamp() + make_interval(secs => ${p.renewSeconds}::float8), to_timestamp(${p.retryAtSeconds}::float8))
             WHERE c.id = ${p.claimId} AND c.lease = ${p.lease}
            RETURNING c.id),
          log AS (${logSuccess(p)})
     SELECT set_config('synchronous_commit', 'off', true)`,
  );

  return { claim, read, ack, moveStart };
}
