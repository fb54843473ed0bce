/**
 * The `postgres` backend: PostgreSQL event store (namespace = schema), migrations in sql/, outbox relay.
 */
import { ConfigError } from '../../core/event-store.ts';
import type { BackendModule, BackendOptions, InitReport } from '../index.ts';
import { createPostgresStore, type PostgresStoreOptions } from './postgres-store.ts';

export { appendOnClient, appendStatement } from './append.ts';
export { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions, type OutboxRow, type OutboxSink } from './outbox-relay.ts';
export { createPostgresStore, POSTGRES_CAPABILITIES, POSTGRES_MAX_EVENT_BYTES, type PostgresStore, type PostgresStoreOptions } from './postgres-store.ts';

const NUMBER_SETTINGS = ['poolSize', 'connectTimeoutMs', 'pollIntervalMs', 'notifyIntervalMs', 'maxEventBytes'] as const;
const BOOLEAN_SETTINGS = ['outbox', 'notify'] as const;

export function postgresOptions(options: BackendOptions): PostgresStoreOptions {
  if (!options.pgUrl) throw new ConfigError('postgres backend needs a URL: --pg-url postgres://... or PG_URL');
  const result: PostgresStoreOptions = { pgUrl: options.pgUrl };
  if (options.namespace !== undefined) result.schema = options.namespace;
  const settings = options.settings ?? {};
  for (const key of NUMBER_SETTINGS) {
    const v = settings[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ConfigError(`postgres setting ${key} must be a positive number`);
    result[key] = v;
  }
  for (const key of BOOLEAN_SETTINGS) {
    const v = settings[key];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw new ConfigError(`postgres setting ${key} must be true or false`);
    result[key] = v;
  }
  return result;
}

export const postgresBackend: BackendModule = {
  needs: { postgres: true, nats: false },
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
