/** The hybrid backend as the registry sees it before its module (kysely, pg, nats.js) is loaded. */
import { z } from 'zod';
import { settingsParser, type BackendDescriptor } from '../backend.ts';

const positiveMs = z.number().positive().finite();

/** How outbox rows reach JetStream (docs/hybrid.md §Relay modes). */
export const RELAY_MODES = ['poll', 'logical', 'none'] as const;
export type RelayMode = (typeof RELAY_MODES)[number];

/** `BackendOptions.settings` of the hybrid backend. */
export const HybridSettingsSchema = z.object({
  /**
   * `poll`: the outbox relay (FOR UPDATE SKIP LOCKED, woken by NOTIFY); `logical`: logical decoding of the
   * events table through a replication slot (needs wal_level=logical); `none`: this store runs no relay
   * (another process does, e.g. a relay under test).
   */
  relay: z.enum(RELAY_MODES).default('poll'),
  /** Rows per relay round (default 100, the relay of docs/outbox.md). */
  relayBatchSize: z.number().int().positive().max(10_000).default(100),
  /** The relay's polling fallback when no wake-up comes (default 1000 ms). */
  relayPollIntervalMs: positiveMs.default(1_000),
  /** JetStream `duplicate_window` of the relayed stream: how long a republished event is recognised (default 2 min). */
  duplicateWindowMs: z.number().int().min(100).default(120_000),
  storage: z.enum(['file', 'memory']).default('file'),
  replicas: z.number().int().min(1).max(5).default(1),
  /** How long the relay waits for a publish acknowledgement (default 5000 ms). */
  publishTimeoutMs: z.number().int().positive().default(5_000),
  /** PostgreSQL pool of the store (default 10). */
  poolSize: z.number().int().positive().optional(),
  connectTimeoutMs: positiveMs.optional(),
  /** At most one cross-process NOTIFY per this many ms (default 100; the store's own relay is woken directly). */
  notifyIntervalMs: positiveMs.optional(),
});
export type HybridSettings = z.infer<typeof HybridSettingsSchema>;

export const hybridDescriptor: BackendDescriptor<HybridSettings> = {
  name: 'hybrid',
  needs: { postgres: true, nats: true },
  sharedAcrossThreads: true,
  parseSettings: settingsParser('hybrid', HybridSettingsSchema),
};
