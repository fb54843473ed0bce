/**
 * The `postgres` backend: PostgreSQL event store (namespace = schema), migrations in sql/, outbox relay.
 */
import { ConfigError } from '../../core/event-store.ts';
import type { BackendModule, BackendOptions, InitReport } from '../backend.ts';
import pg from 'pg';
import { withSessionSettings } from './connection.ts';
import { postgresDescriptor, type PostgresSettings } from './descriptor.ts';
import { createPostgresStore, type PostgresStoreOptions } from './postgres-store.ts';

export { appendOnClient, appendStatement } from './append.ts';
export { openPostgresAdmin } from './admin.ts';
export { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions, type OutboxRow, type OutboxSink } from './outbox-relay.ts';
// For the hybrid backend (src/store/hybrid), which may import this file only: the envelope as read back.
export { toRecorded, type EventRow } from './connection.ts';
export { createPostgresStore, POSTGRES_CAPABILITIES, POSTGRES_MAX_EVENT_BYTES, type PostgresStore, type PostgresStoreOptions } from './postgres-store.ts';

export function postgresOptions(options: BackendOptions): PostgresStoreOptions {
  const settings = postgresDescriptor.parseSettings(options.settings);
  if (!options.pgUrl) throw new ConfigError('postgres backend needs a URL: --pg-url postgres://... or PG_URL');
  // Only the keys given: an absent one leaves the store's default. Session settings travel in the URL.
  const { synchronousCommit, ...rest } = settings;
  const given = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as PostgresSettings;
  const pgUrl = withSessionSettings(options.pgUrl, synchronousCommit !== undefined ? { synchronous_commit: synchronousCommit } : {});
  return { pgUrl, ...(options.namespace !== undefined ? { schema: options.namespace } : {}), ...given };
}

/**
 * What an acknowledged append means, read back in a session opened from the same URL the store uses
 * (so a `synchronousCommit` setting shows as the server applied it): synchronous_commit, fsync, and
 * the standbys a commit waits for.
 */
export async function postgresSessionSettings(pgUrl: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'synchronous_standby_names', 'wal_writer_delay') ORDER BY name`,
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
  } finally {
    await client.end().catch(() => {});
  }
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
  sessionSettings: (options) => postgresSessionSettings(postgresOptions(options).pgUrl),
};
