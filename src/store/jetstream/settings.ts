/** JetStream adapter settings (`BackendOptions.settings`), validated once; an unknown key is refused. */
import { z } from 'zod';
import { settingsParser } from '../backend.ts';

export const JetStreamSettingsSchema = z.object({
  /** `Nats-Msg-Id` deduplication window of the category streams; also `capabilities.idempotencyWindowMs`. JetStream's default: 2 min. */
  duplicateWindowMs: z.number().int().min(100).default(120_000),
  /** Storage of the category streams. */
  storage: z.enum(['file', 'memory']).default('file'),
  replicas: z.number().int().min(1).max(5).default(1),
  /** Max age of events in the category streams; 0 = kept until another limit removes them. */
  maxAgeMs: z.number().int().min(0).default(0),
  maxMsgs: z.number().int().min(-1).default(-1),
  maxBytes: z.number().int().min(-1).default(-1),
  discard: z.enum(['old', 'new']).default('old'),
  /** How long to wait for a publish acknowledgement before the outcome is unknown. */
  publishTimeoutMs: z.number().int().positive().default(5_000),
  /** Use atomic batch publish for multi-event appends where the server has it (2.12+). */
  atomicBatch: z.boolean().default(true),
  /** `any` / `exists` appends re-read and retry when another writer wins the race; at most this often. */
  occRetries: z.number().int().min(1).max(10_000).default(100),
  /** A read that receives nothing for this long stops (its messages were removed meanwhile). */
  readIdleMs: z.number().int().positive().default(5_000),
});
export type JetStreamSettings = z.infer<typeof JetStreamSettingsSchema>;

export const parseJetStreamSettings: (raw: Record<string, unknown> | undefined) => JetStreamSettings = settingsParser('jetstream', JetStreamSettingsSchema);
