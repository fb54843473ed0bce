/**
 * The `memory` backend: the full EventStore contract in-process (the executable spec and the harness's
 * ceiling). Stores opened with the same `namespace` in one process share their data.
 * Backend settings: `maxEventBytes` (default 4 MiB), `idempotencyWindowMs` (default null = forever).
 */
import type { EventStore } from '../../core/event-store.ts';
import type { BackendModule, BackendOptions, InitReport } from '../backend.ts';
import { memoryDescriptor, type MemorySettings } from './descriptor.ts';
import { openMemoryStore, MEMORY_CAPABILITIES, MEMORY_MAX_EVENT_BYTES, type MemoryStoreOptions } from './memory-store.ts';
import { dropNamespace, hasNamespace, namespaceState } from './state.ts';

export { MEMORY_CAPABILITIES, MEMORY_MAX_EVENT_BYTES, type MemoryStoreOptions };

export async function createMemoryStore(options: MemoryStoreOptions = {}): Promise<EventStore> {
  return openMemoryStore(options);
}

/** Frees a namespace's events, subscriptions and dead letters (open stores of it keep the old data). */
export function dropMemoryNamespace(namespace: string): boolean {
  return dropNamespace(namespace);
}

function fromBackendOptions(options: BackendOptions): MemoryStoreOptions {
  const { maxEventBytes, idempotencyWindowMs } = memoryDescriptor.parseSettings(options.settings);
  return {
    ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
    ...(maxEventBytes !== undefined ? { maxEventBytes } : {}),
    ...(idempotencyWindowMs !== undefined ? { idempotencyWindowMs } : {}),
  };
}

export const memoryBackend: BackendModule<MemorySettings> = {
  ...memoryDescriptor,
  create: async (options) => openMemoryStore(fromBackendOptions(options)),
  init: async (options): Promise<InitReport> => {
    const name = options.namespace ?? 'eventbench';
    const existed = hasNamespace(name);
    namespaceState(name);
    return { backend: 'memory', items: [{ kind: 'namespace', name, status: existed ? 'unchanged' : 'created' }] };
  },
};
