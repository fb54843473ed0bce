/** The raw-jetstream baseline as the registry sees it before its module (and nats.js) is loaded. */
import { z } from 'zod';
import { settingsParser, type BackendDescriptor } from '../backend.ts';

export const RawJetStreamSettingsSchema = z.object({
  /** How long to wait for a publish acknowledgement (the adapter's default). */
  publishTimeoutMs: z.number().int().positive().optional(),
  /** The duplicate window the adapter's category streams were made with, for `capabilities` only. */
  duplicateWindowMs: z.number().int().min(100).optional(),
});
export type RawJetStreamSettings = z.infer<typeof RawJetStreamSettingsSchema>;

export const rawJetStreamDescriptor: BackendDescriptor<RawJetStreamSettings> = {
  name: 'raw-jetstream',
  needs: { postgres: false, nats: true },
  sharedAcrossThreads: true,
  parseSettings: settingsParser('raw-jetstream', RawJetStreamSettingsSchema),
  baselineOf: 'jetstream',
};
