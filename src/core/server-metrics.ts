/**
 * Names of the server-side series the dashboards graph, as the exporters name them (docs/observability.md):
 * - NATS: prometheus-nats-exporter (`-varz -connz -jsz=all`). nats-server serves JSON only; eventbench's
 *   own /metrics polls that JSON and exports it under these same names (src/infra/nats-monitor.ts), so the
 *   NATS dashboard works with eventbench alone and with the exporter that docker-compose.yml runs.
 * - PostgreSQL: prometheus-postgres-exporter's default metrics, plus two queries of our own
 *   (grafana/postgres-exporter-queries.yaml) for WAL position and checkpoints, which the Debian exporter
 *   (0.11) cannot read from PostgreSQL 17+ (`pg_stat_bgwriter` lost its checkpoint columns).
 *
 * Data only: the poller and the dashboards import these, so neither can name a series the other lacks.
 */

/** prometheus-nats-exporter's names (namespace `gnatsd` for core endpoints, `jetstream` for /jsz). */
export const NATS_METRIC = {
  // /varz: every numeric top-level field becomes `gnatsd_varz_<field>`, a gauge labelled server_id.
  inMsgs: 'gnatsd_varz_in_msgs',
  outMsgs: 'gnatsd_varz_out_msgs',
  inBytes: 'gnatsd_varz_in_bytes',
  outBytes: 'gnatsd_varz_out_bytes',
  slowConsumers: 'gnatsd_varz_slow_consumers',
  connections: 'gnatsd_varz_connections',
  cpu: 'gnatsd_varz_cpu',
  mem: 'gnatsd_varz_mem',
  // /connz: summed over connections, labelled server_id.
  connzConnections: 'gnatsd_connz_num_connections',
  connzPendingBytes: 'gnatsd_connz_pending_bytes',
  // /jsz?consumers=true&config=true
  jsStorageBytes: 'jetstream_server_total_message_bytes',
  jsMessages: 'jetstream_server_total_messages',
  jsStreams: 'jetstream_server_total_streams',
  jsConsumers: 'jetstream_server_total_consumers',
  jsMaxStorage: 'jetstream_server_max_storage',
  streamMessages: 'jetstream_stream_total_messages',
  streamBytes: 'jetstream_stream_total_bytes',
  streamLastSeq: 'jetstream_stream_last_seq',
  consumerPending: 'jetstream_consumer_num_pending',
  consumerAckPending: 'jetstream_consumer_num_ack_pending',
  consumerRedelivered: 'jetstream_consumer_num_redelivered',
  consumerDeliveredStreamSeq: 'jetstream_consumer_delivered_stream_seq',
} as const;

/** The exporter's label sets (src/infra/nats-monitor.ts writes exactly these). */
export const NATS_SERVER_LABELS = ['server_id', 'server_name', 'cluster', 'domain', 'meta_leader', 'is_meta_leader'] as const;
export const NATS_STREAM_LABELS = [...NATS_SERVER_LABELS, 'account', 'account_id', 'stream_name', 'stream_leader', 'is_stream_leader'] as const;
export const NATS_CONSUMER_LABELS = [...NATS_STREAM_LABELS, 'consumer_name', 'consumer_leader', 'is_consumer_leader', 'consumer_desc', 'consumer_created'] as const;

/** The /varz fields exported (the exporter exports every numeric one; these are the ones we graph). */
export const NATS_VARZ_FIELDS = ['in_msgs', 'out_msgs', 'in_bytes', 'out_bytes', 'slow_consumers', 'connections', 'total_connections', 'subscriptions', 'cpu', 'mem'] as const;

/** prometheus-postgres-exporter's names (labels: `datname` on pg_stat_database_*, `datname`+`mode` on pg_locks_count). */
export const POSTGRES_METRIC = {
  up: 'pg_up',
  commits: 'pg_stat_database_xact_commit',
  rollbacks: 'pg_stat_database_xact_rollback',
  blocksHit: 'pg_stat_database_blks_hit',
  blocksRead: 'pg_stat_database_blks_read',
  backends: 'pg_stat_database_numbackends',
  tuplesInserted: 'pg_stat_database_tup_inserted',
  deadlocks: 'pg_stat_database_deadlocks',
  locks: 'pg_locks_count',
  activity: 'pg_stat_activity_count',
  databaseSize: 'pg_database_size_bytes',
  // Our own queries (grafana/postgres-exporter-queries.yaml): `<query>_<column>`.
  walPosition: 'eventbench_pg_wal_lsn_bytes',
  checkpointsTimed: 'eventbench_pg_checkpoints_timed',
  checkpointsRequested: 'eventbench_pg_checkpoints_requested',
} as const;
