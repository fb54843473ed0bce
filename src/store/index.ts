/**
 * The one place that maps a backend name to its module. A new backend is one folder under src/store
 * (with a `descriptor.ts`) plus one line here, and must pass the shared contract suite (test/contract)
 * unchanged: see README.md in this folder.
 */
import type { EventStore } from '../core/event-store.ts';
import type { BackendDescriptor, BackendModule, BackendOptions } from './backend.ts';
import { jetstreamDescriptor } from './jetstream/descriptor.ts';
import { memoryDescriptor } from './memory/descriptor.ts';
import { postgresDescriptor } from './postgres/descriptor.ts';

export type { BackendDescriptor, BackendModule, BackendOptions, InitItem, InitReport } from './backend.ts';

/**
 * A backend whose module loads on first use: kysely alone takes ~0.5 s to import here, and every CLI
 * start (even `--help`) would pay for it. What callers need before that (`needs`, `sharedAcrossThreads`,
 * settings checks) comes from the descriptor, which the module itself spreads into its own export.
 */
function lazy<T>(descriptor: BackendDescriptor<T>, load: () => Promise<BackendModule<T>>): BackendModule<T> {
  return {
    ...descriptor,
    create: async (options) => (await load()).create(options),
    init: async (options) => (await load()).init(options),
  };
}

export const backends = {
  memory: lazy(memoryDescriptor, async () => (await import('./memory/index.ts')).memoryBackend),
  postgres: lazy(postgresDescriptor, async () => (await import('./postgres/index.ts')).postgresBackend),
  jetstream: lazy(jetstreamDescriptor, async () => (await import('./jetstream/index.ts')).jetstreamBackend),
} satisfies Record<string, BackendModule>;

export type BackendName = keyof typeof backends;
export const BACKEND_NAMES = Object.keys(backends) as BackendName[];

export function isBackendName(name: string): name is BackendName {
  return Object.hasOwn(backends, name);
}

export async function createStore(name: BackendName, options: BackendOptions = {}): Promise<EventStore> {
  const store = await backends[name].create(options);
  await store.init();
  return store;
}
