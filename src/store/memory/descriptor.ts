/** The memory backend as the registry sees it. */
import { z } from 'zod';
import { settingsParser, type BackendDescriptor } from '../backend.ts';

/** `BackendOptions.settings` of the memory backend (defaults: see MemoryStoreOptions). */
export const MemorySettingsSchema = z.object({
  maxEventBytes: z.number().int().min(1024).optional(),
  /** null = ids are remembered forever. */
  idempotencyWindowMs: z.number().int().min(1).nullable().optional(),
});
export type MemorySettings = z.infer<typeof MemorySettingsSchema>;

export const memoryDescriptor: BackendDescriptor<MemorySettings> = {
  name: 'memory',
  needs: { postgres: false, nats: false },
  // Its data lives in the heap of the thread that opened it: worker threads would each see their own.
  sharedAcrossThreads: false,
  parseSettings: settingsParser('memory', MemorySettingsSchema),
};
