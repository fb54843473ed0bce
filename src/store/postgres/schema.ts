/**
 * The tables of sql/*.sql as Kysely types: every typed query in the adapter flows from this interface.
 * int8 columns are parsed to numbers by the pool (see connection.ts); xid8 stays text.
 */
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface StreamsTable {
  stream_id: string;
  stream_type: string;
  version: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface EventsTable {
  position: Generated<number>;
  stream_id: string;
  category: string;
  version: number;
  event_id: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  timestamp: string;
  correlation_id: string;
  causation_id: string | null;
  aggregate_id: string;
  aggregate_type: string;
  created_at: Timestamp;
  transaction_id: Generated<string>;
}

export interface OutboxTable {
  id: string;
  position: number;
  aggregate_type: string;
  aggregate_id: string;
  type: string;
  payload: unknown;
  published: Generated<boolean>;
  created_at: Timestamp;
  published_at: Date | null;
  attempts: Generated<number>;
  last_error: string | null;
}

export interface SubscriptionsTable {
  name: string;
  category: string | null;
  transaction_id: Generated<string>;
  position: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SubscriptionClaimsTable {
  id: Generated<number>;
  subscription: string;
  from_transaction_id: string;
  from_position: number;
  to_transaction_id: string;
  to_position: number;
  events: number;
  owner: string;
  /** Hand-outs of this range; an acknowledgement counts only under the current one. */
  lease: Generated<number>;
  claimed_at: Timestamp;
  expires_at: Timestamp;
}

export type Outcome = 'success' | 'failed' | 'dead';

/** `event_log` is a view (sql/002): these two tables hold its rows. */
export interface EventLogEntriesTable {
  subscription: string;
  event_id: string;
  position: number;
  outcome: 'failed' | 'dead';
  attempts: number;
  processed_at: Generated<Timestamp>;
  error: string | null;
}

export interface EventLogRangesTable {
  subscription: string;
  category: string | null;
  from_transaction_id: string;
  from_position: number;
  to_transaction_id: string;
  to_position: number;
  retried_positions: Generated<number[]>;
  retried_attempts: Generated<number[]>;
  skipped_positions: Generated<number[]>;
  processed_at: Generated<Timestamp>;
}

/** The view: one row per outcome of a delivery. */
export interface EventLogTable {
  subscription: string;
  event_id: string;
  position: number;
  outcome: Outcome;
  attempts: number;
  processed_at: Timestamp;
  error: string | null;
}

export interface DeadLettersTable {
  subscription: string;
  event_id: string;
  position: number;
  destination: string;
  deliveries: number;
  reason: string;
  created_at: Timestamp;
}

export interface MigrationsTable {
  version: string;
  name: string;
  checksum: string;
  applied_at: Timestamp;
}

export interface Database {
  streams: StreamsTable;
  events: EventsTable;
  outbox: OutboxTable;
  subscriptions: SubscriptionsTable;
  subscription_claims: SubscriptionClaimsTable;
  event_log: EventLogTable;
  event_log_entries: EventLogEntriesTable;
  event_log_ranges: EventLogRangesTable;
  dead_letters: DeadLettersTable;
  eventbench_migrations: MigrationsTable;
}

/** The columns of `events` every read selects, in one place. */
export const EVENT_COLUMNS = [
  'position',
  'stream_id',
  'version',
  'event_id',
  'type',
  'data',
  'metadata',
  'timestamp',
  'correlation_id',
  'causation_id',
  'aggregate_id',
  'aggregate_type',
] as const;
