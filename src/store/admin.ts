/**
 * Stream administration (`eventbench streams ls|info|purge|rm`, docs/admin.md): what a backend's admin
 * module offers, in one shape for every backend that keeps data on a server. The event data itself is read
 * and written through the EventStore contract (src/core/event-store.ts); this is only what the contract
 * has no verb for: listing, sizes, deleting. Adapters implement it in their `admin.ts`; the registry
 * (src/store/index.ts, `admins`) maps a backend name to it.
 */

/** One row of `streams ls`: a unit a backend stores events in (PostgreSQL: a category; JetStream: a JetStream stream). */
export interface StreamSummary {
  /** What `streams info | purge | rm` take. */
  name: string;
  /** `category`: events of one category; `dead-letters`: a subscription's dead letters; `relay`: the hybrid backend's relayed events. */
  kind: 'category' | 'dead-letters' | 'relay';
  /** The contract category, where the row is one. */
  category?: string;
  /** Event streams (`<category>-<id>`) with events: stream ids (PostgreSQL), subjects (JetStream). */
  streams: number;
  events: number;
  /** PostgreSQL: the events' row bytes (pg_column_size); JetStream: the stream's bytes (state.bytes). */
  bytes: number;
  /** First and last position (PostgreSQL global position; JetStream stream sequence); 0 when empty. */
  firstPosition: number;
  lastPosition: number;
  /** Highest stream version in the unit (PostgreSQL); undefined where the server does not keep it (JetStream). */
  lastVersion?: number;
  /** Subscriptions (PostgreSQL) / consumers (JetStream) reading it. */
  consumers: number;
  /** JetStream only. */
  subjects?: string[];
  replicas?: number;
  storage?: string;
}

/** One table of a PostgreSQL namespace (schema). */
export interface TableSummary {
  name: string;
  /** pg_class.reltuples: the planner's estimate (-1 = never analysed). */
  estimatedRows: number;
  /** pg_total_relation_size: table, indexes and TOAST. */
  bytes: number;
}

export interface NamespaceListing {
  backend: string;
  namespace: string;
  streams: StreamSummary[];
  tables: TableSummary[];
}

/** One event stream (`<category>-<id>`) as `streams info` shows it. */
export interface EventStreamDetail {
  stream: string;
  events: number;
  lastVersion: number;
  firstPosition: number;
  lastPosition: number;
  bytes?: number;
}

export interface StreamDetail {
  /** The unit NAME resolved to (a category / JetStream stream), or undefined for one event stream. */
  summary?: StreamSummary;
  /** NAME was one event stream (`<category>-<id>`). */
  eventStream?: EventStreamDetail;
  /** The largest event streams of the unit (by events), at most 10. */
  largest?: EventStreamDetail[];
  /** Backend-specific facts (JetStream configuration, PostgreSQL subscriptions, ...). */
  detail: Record<string, unknown>;
}

export interface RemovalResult {
  name: string;
  /** Events deleted. */
  events: number;
  /** What else went: subscriptions / consumers (rm), stream definitions (rm of a JetStream stream). */
  removed: string[];
}

export interface StoreAdmin extends AsyncDisposable {
  readonly backend: string;
  readonly namespace: string;
  list(): Promise<NamespaceListing>;
  /** `ConfigError` naming what exists when NAME is none of the namespace's units or event streams. */
  info(name: string): Promise<StreamDetail>;
  /** Deletes the events of NAME and keeps its definition (a JetStream stream, its consumers; PostgreSQL subscriptions). */
  purge(name: string): Promise<RemovalResult>;
  /** Deletes NAME with its events and what reads it (JetStream: the stream and its consumers; PostgreSQL: the category's subscriptions). */
  remove(name: string): Promise<RemovalResult>;
  close(): Promise<void>;
}

export interface AdminOptions {
  pgUrl?: string;
  natsUrl?: string;
  namespace: string;
}
