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
});
export type PostgresSettings = z.infer<typeof PostgresSettingsSchema>;

export const postgresDescriptor: BackendDescriptor<PostgresSettings> = {
  name: 'postgres',
  needs: { postgres: true, nats: false },
  sharedAcrossThreads: true,
  parseSettings: settingsParser('postgres', PostgresSettingsSchema),
};
