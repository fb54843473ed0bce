/** Shared by the admin and backup tests: a namespace on one of the real test servers, filled and cleaned up. */
import { createStore } from '../../src/store/index.ts';
import type { EventStore, NewEvent } from '../../src/core/event-store.ts';
import type { AdminBackend } from '../../src/runners/admin/open-admin.ts';
import { dropSchema } from '../postgres/helpers.ts';
import { deleteStreams } from '../jetstream/helpers.ts';
import { testNatsUrl, testPgUrl } from '../support/servers.ts';

export function urlsFor(backend: AdminBackend): { pgUrl?: string; natsUrl?: string } {
  return {
    ...(backend !== 'jetstream' ? { pgUrl: testPgUrl() } : {}),
    ...(backend !== 'postgres' ? { natsUrl: testNatsUrl() } : {}),
  };
}

/** The CLI flags that point at the test servers (the external-URL path a user takes). */
export function urlFlags(backend: AdminBackend): string[] {
  const u = urlsFor(backend);
  return [...(u.pgUrl ? ['--pg-url', u.pgUrl] : []), ...(u.natsUrl ? ['--nats-url', u.natsUrl] : [])];
}

export function openStore(backend: AdminBackend, namespace: string): Promise<EventStore> {
  return createStore(backend, { namespace, ...urlsFor(backend) });
}

export async function cleanNamespace(namespace: string): Promise<void> {
  await Promise.allSettled([dropSchema(namespace), deleteStreams(testNatsUrl(), `${namespace}-`)]);
}

let n = 0;
/** An event with every envelope field set (causation, metadata), so a round trip must carry them all. */
export function event(type = 'order.placed', data: unknown = { n: ++n, text: 'ünïcødé ✓', nested: { list: [1, 2, 3] } }): NewEvent {
  const id = `evt-${process.pid}-${Date.now()}-${++n}`;
  return { id, type, data, metadata: { source: 'admin-test', n }, correlationId: `corr-${n}`, causationId: `cause-${n}`, timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString() };
}
