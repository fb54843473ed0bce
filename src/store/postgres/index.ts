/**
 * The `postgres` backend: PostgreSQL event store (namespace = schema), migrations in sql/, outbox relay.
 */
import { ConfigError } from '../../core/event-store.ts';
import type { BackendModule, BackendOptions, InitReport } from '../backend.ts';
import { postgresDescriptor, type PostgresSettings } from './descriptor.ts';
import { createPostgresStore, type PostgresStoreOptions } from './postgres-store.ts';

export { appendOnClient, appendStatement } from './append.ts';
export { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions, type OutboxRow, type OutboxSink } from './outbox-relay.ts';
export { createPostgresStore, POSTGRES_CAPABILITIES, POSTGRES_MAX_EVENT_BYTES, type PostgresStore, type PostgresStoreOptions } from './postgres-store.ts';

export function postgresOptions(options: BackendOptions): PostgresStoreOptions {
  const settings = postgresDescriptor.parseSettings(options.settings);
  if (!options.pgUrl) throw new ConfigError('postgres backend needs a URL: --pg-url postgres://... or PG_URL');
  // Only the keys given: an absent one leaves the store's default.
  const given = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as PostgresSettings;
  return { pgUrl: options.pgUrl, ...(options.namespace !== undefined ? { schema: options.namespace } : {}), ...given };
}

export const postgresBackend: BackendModule<PostgresSettings> = {
  ...postgresDescriptor,
  create: (options) => createPostgresStore(postgresOptions(options)),
  init: async (options): Promise<InitReport> => {
    if (options.preset !== undefined) throw new ConfigError('--preset applies to jetstream streams; the postgres backend has none');
    const store = await createPostgresStore(postgresOptions(options));
    try {
      return await store.migrate();
    } finally {
      await store.close();
    }
  },
};
