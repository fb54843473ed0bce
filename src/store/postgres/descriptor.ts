/** The postgres backend as the registry sees it before its module (and kysely / pg) is loaded. */
import { z } from 'zod';
import { settingsParser, type BackendDescriptor } from '../backend.ts';

const positiveMs = z.number().positive().finite();

/** `BackendOptions.settings` of the postgres backend (defaults: see PostgresStoreOptions). */
export const PostgresSettingsSchema = z.object({
  poolSize: z.number().int().positive().optional(),
  connectTimeoutMs: positiveMs.optional(),
  pollIntervalMs: positiveMs.optional(),
  notifyIntervalMs: positiveMs.optional(),
  maxEventBytes: z.number().int().positive().optional(),
  outbox: z.boolean().optional(),
  notify: z.boolean().optional(),
  /**
   * `synchronous_commit` of every session the store opens (set at connect, so it works on external
   * servers too): `off` makes a commit's ack mean "in the server's memory, on disk within 3 x
   * wal_writer_delay", as a nats-server 2.9 publish ack means (`--durability matched`). Unset: the server's.
   */
  synchronousCommit: z.enum(['on', 'off', 'local', 'remote_write', 'remote_apply']).optional(),
});
export type PostgresSettings = z.infer<typeof PostgresSettingsSchema>;

export const postgresDescriptor: BackendDescriptor<PostgresSettings> = {
  name: 'postgres',
  needs: { postgres: true, nats: false },
  sharedAcrossThreads: true,
  parseSettings: settingsParser('postgres', PostgresSettingsSchema),
};
