/**
 * The one place that maps a backend name to its module. A new backend is one folder under src/store
 * (with a `descriptor.ts`) plus one line here, and must pass the shared contract suite (test/contract)
 * unchanged: see README.md in this folder.
 */
import { ConfigError, type EventStore } from '../core/event-store.ts';
import type { BackendDescriptor, BackendModule, BackendOptions } from './backend.ts';
import type { AdminOptions, StoreAdmin } from './admin.ts';
import { hybridDescriptor } from './hybrid/descriptor.ts';
import { jetstreamDescriptor } from './jetstream/descriptor.ts';
import { memoryDescriptor } from './memory/descriptor.ts';
import { postgresDescriptor } from './postgres/descriptor.ts';
import { rawJetStreamDescriptor } from './raw-jetstream/descriptor.ts';
import { rawPostgresDescriptor } from './raw-postgres/descriptor.ts';

export type { BackendDescriptor, BackendModule, BackendOptions, InitItem, InitReport } from './backend.ts';
export type { AdminOptions, EventStreamDetail, NamespaceListing, RemovalResult, StoreAdmin, StreamDetail, StreamSummary, TableSummary } from './admin.ts';

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
    sessionSettings: async (options) => {
      const m = await load();
      return m.sessionSettings ? m.sessionSettings(options) : {};
    },
  };
}

export const backends = {
  memory: lazy(memoryDescriptor, async () => (await import('./memory/index.ts')).memoryBackend),
  postgres: lazy(postgresDescriptor, async () => (await import('./postgres/index.ts')).postgresBackend),
  jetstream: lazy(jetstreamDescriptor, async () => (await import('./jetstream/index.ts')).jetstreamBackend),
  hybrid: lazy(hybridDescriptor, async () => (await import('./hybrid/index.ts')).hybridBackend),
} satisfies Record<string, BackendModule>;

export type BackendName = keyof typeof backends;
export const BACKEND_NAMES = Object.keys(backends) as BackendName[];

export function isBackendName(name: string): name is BackendName {
  return Object.hasOwn(backends, name);
}

/**
 * Raw-driver baselines, by the adapter they measure: the same work through the driver alone, run by the
 * same executors and recorder (`eventbench bench`, efficiency = adapter / raw). Kept apart from
 * `backends`, which are event stores a user builds on: a baseline offers only appends and catch-up reads.
 */
export const baselines = {
  postgres: lazy(rawPostgresDescriptor, async () => (await import('./raw-postgres/index.ts')).rawPostgresBackend),
  jetstream: lazy(rawJetStreamDescriptor, async () => (await import('./raw-jetstream/index.ts')).rawJetStreamBackend),
} satisfies Partial<Record<BackendName, BackendModule>>;

/** What the load runner can drive: a backend, or a baseline by its own name (`raw-postgres`, ...). */
export type StoreName = BackendName | 'raw-postgres' | 'raw-jetstream';

/** The raw-driver baseline of a backend, or undefined where it has none (memory). */
export function baselineOf(backend: BackendName): 'raw-postgres' | 'raw-jetstream' | undefined {
  return Object.hasOwn(baselines, backend) ? (baselines[backend as keyof typeof baselines].name as 'raw-postgres' | 'raw-jetstream') : undefined;
}

/** The module of a backend or baseline name. */
export function storeModule(name: StoreName): BackendModule {
  if (isBackendName(name)) return backends[name] as BackendModule;
  const found = Object.values(baselines).find((b) => b.name === name);
  if (!found) throw new ConfigError(`unknown store ${JSON.stringify(name)}`);
  return found as BackendModule;
}

export async function createStore(name: StoreName, options: BackendOptions = {}): Promise<EventStore> {
  const store = await storeModule(name).create(options);
  try {
    await store.init();
  } catch (err) {
    // The store owns its connections from create() on: one whose init failed is closed, not leaked.
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}

/**
 * Stream administration (`eventbench streams`, backup and restore; docs/admin.md) of the backends whose
 * data lives on a server, loaded on first use like the backends themselves. The hybrid backend is its
 * PostgreSQL store (the events) plus its JetStream streams (`<ns>-_outbox`, `<ns>-_deadletters`),
 * administered through these two (src/runners/admin/open-admin.ts).
 */
export const admins = {
  postgres: async (options: AdminOptions): Promise<StoreAdmin> => (await import('./postgres/index.ts')).openPostgresAdmin(options),
  jetstream: async (options: AdminOptions): Promise<StoreAdmin> => (await import('./jetstream/index.ts')).openJetStreamAdmin(options),
} satisfies Partial<Record<BackendName, (options: AdminOptions) => Promise<StoreAdmin>>>;
