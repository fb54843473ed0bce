/** The raw-postgres baseline as the registry sees it before its module (and pg) is loaded. */
import { z } from 'zod';
import { settingsParser, type BackendDescriptor } from '../backend.ts';

/** `BackendOptions.settings` of raw-postgres: the pool, and the session setting `--durability` changes. */
export const RawPostgresSettingsSchema = z.object({
  poolSize: z.number().int().positive().optional(),
  connectTimeoutMs: z.number().positive().finite().optional(),
  /** As the postgres adapter's setting of the same name: set at connect for every session. */
  synchronousCommit: z.enum(['on', 'off', 'local', 'remote_write', 'remote_apply']).optional(),
});
export type RawPostgresSettings = z.infer<typeof RawPostgresSettingsSchema>;

export const rawPostgresDescriptor: BackendDescriptor<RawPostgresSettings> = {
  name: 'raw-postgres',
  needs: { postgres: true, nats: false },
  sharedAcrossThreads: true,
  parseSettings: settingsParser('raw-postgres', RawPostgresSettingsSchema),
  baselineOf: 'postgres',
};
