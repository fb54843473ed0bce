/**
 * The one place that maps a backend name to its module. A new backend is one folder under src/store
 * plus one line here, and must pass the shared contract suite (test/contract) unchanged.
 */
import type { EventStore } from '../core/event-store.ts';
import { memoryBackend } from './memory/index.ts';

/** What every backend gets: server URLs resolved by src/infra, and a namespace that isolates a run or a test. */
export interface BackendOptions {
  /** postgres://... (postgres, hybrid) */
  pgUrl?: string;
  /** nats://... (jetstream, hybrid) */
  natsUrl?: string;
  /** PostgreSQL schema / JetStream stream-name and subject prefix. Default `eventbench`. */
  namespace?: string;
  /** Backend-specific settings (e.g. JetStream duplicate window, PostgreSQL pool size). */
  settings?: Record<string, unknown>;
}

/** A report of what `eventbench init` did: created, unchanged, or differing (never silently changed). */
export interface InitReport {
  backend: string;
  items: { kind: string; name: string; status: 'created' | 'unchanged' | 'updated' | 'differs'; detail?: string }[];
}

export interface BackendModule {
  /** Which servers the backend needs, so infra starts only those. */
  needs: { postgres: boolean; nats: boolean };
  create(options: BackendOptions): Promise<EventStore>;
  /** `eventbench init`: migrations / stream presets, idempotent. */
  init(options: BackendOptions & { preset?: string }): Promise<InitReport>;
}

/**
 * Driver-backed modules load on first use: kysely alone takes ~0.5 s to import here, and every CLI
 * start (even `--help`) would pay for it. `needs` is stated here so infra can start servers first.
 */
function lazy(needs: BackendModule['needs'], load: () => Promise<BackendModule>): BackendModule {
  return {
    needs,
    create: async (options) => (await load()).create(options),
    init: async (options) => (await load()).init(options),
  };
}

export const backends = {
  memory: memoryBackend,
  postgres: lazy({ postgres: true, nats: false }, async () => (await import('./postgres/index.ts')).postgresBackend),
  jetstream: lazy({ postgres: false, nats: true }, async () => (await import('./jetstream/index.ts')).jetstreamBackend),
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
