/**
 * The admin of a backend's namespace (docs/admin.md), for `eventbench streams`, `backup` and `restore`:
 * postgres and jetstream through their own admin modules; hybrid as its PostgreSQL store (the events,
 * by category) plus its one JetStream stream `<ns>-_outbox` (the relayed copies).
 */
import { ConfigError } from '../../core/event-store.ts';
import { admins, type AdminOptions, type StoreAdmin } from '../../store/index.ts';

/** The backends with something to administer on a server (memory keeps nothing after its process). */
export const ADMIN_BACKENDS = ['postgres', 'jetstream', 'hybrid'] as const;
export type AdminBackend = (typeof ADMIN_BACKENDS)[number];

export const ADMIN_NEEDS: Record<AdminBackend, { postgres: boolean; nats: boolean }> = {
  postgres: { postgres: true, nats: false },
  jetstream: { postgres: false, nats: true },
  hybrid: { postgres: true, nats: true },
};

export async function openAdmin(backend: AdminBackend, options: AdminOptions): Promise<StoreAdmin> {
  if (backend !== 'hybrid') return admins[backend](options);
  const pg = await admins.postgres(options);
  let js: StoreAdmin;
  try {
    js = await admins.jetstream(options);
  } catch (err) {
    await pg.close();
    throw err;
  }
  return hybridAdmin(pg, js);
}

/**
 * NAME `<ns>-_outbox` (relayed events) or `<ns>-_deadletters` is the JetStream side; every other NAME is a
 * category or event stream of the PostgreSQL side (the events themselves). The jetstream backend's own
 * category streams in the same namespace are not the hybrid store's and are left out.
 */
function hybridAdmin(pg: StoreAdmin, js: StoreAdmin): StoreAdmin {
  const ours = (name: string): boolean => name.startsWith(`${pg.namespace}-_`);
  const side = (name: string): StoreAdmin => (ours(name) ? js : pg);
  const admin: StoreAdmin = {
    backend: 'hybrid',
    namespace: pg.namespace,
    async list() {
      const [p, j] = await Promise.all([pg.list(), js.list()]);
      return { backend: 'hybrid', namespace: pg.namespace, streams: [...p.streams, ...j.streams.filter((s) => ours(s.name))], tables: p.tables };
    },
    info: (name) => side(name).info(name),
    purge: (name) => side(name).purge(name),
    remove: (name) => side(name).remove(name),
    async close() {
      await Promise.allSettled([pg.close(), js.close()]);
    },
    [Symbol.asyncDispose]() {
      return admin.close();
    },
  };
  return admin;
}

/** The categories holding events, for backup and restore (never dead letters or the relay stream). */
export async function eventCategories(admin: StoreAdmin): Promise<{ category: string; events: number; lastPosition: number }[]> {
  const listing = await admin.list();
  return listing.streams
    .filter((s) => s.kind === 'category' && s.category !== undefined)
    .map((s) => ({ category: s.category!, events: s.events, lastPosition: s.lastPosition }));
}

export function checkAdminBackend(name: string): AdminBackend {
  if ((ADMIN_BACKENDS as readonly string[]).includes(name)) return name as AdminBackend;
  if (name === 'memory') throw new ConfigError('--backend memory keeps its events inside one process: there is nothing to administer; use postgres, jetstream or hybrid');
  throw new ConfigError(`--backend ${JSON.stringify(name)}: expected one of ${ADMIN_BACKENDS.join(', ')}`);
}
