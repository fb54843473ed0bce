/**
 * The `raw-postgres` baseline: the postgres adapter's append and catch-up read through `pg` alone
 * (store.ts), for adapter / raw efficiency in `eventbench bench`. Not an event store to build on.
 */
import { ConfigError } from '../../core/event-store.ts';
import type { BackendModule, BackendOptions } from '../backend.ts';
import { rawPostgresDescriptor, type RawPostgresSettings } from './descriptor.ts';
import { createRawPostgresStore, type RawPostgresOptions } from './store.ts';
import pg from 'pg';

/** The session settings go into the URL as libpq `options`, exactly as the postgres adapter does. */
function withOptions(pgUrl: string, synchronousCommit: string | undefined): string {
  if (synchronousCommit === undefined) return pgUrl;
  const url = new URL(pgUrl);
  const given = url.searchParams.get('options');
  url.searchParams.set('options', `${given ? `${given} ` : ''}-c synchronous_commit=${synchronousCommit}`);
  return url.toString();
}

export function rawPostgresOptions(options: BackendOptions): RawPostgresOptions {
  const settings = rawPostgresDescriptor.parseSettings(options.settings);
  if (!options.pgUrl) throw new ConfigError('raw-postgres needs a URL: --pg-url postgres://... or PG_URL');
  return {
    pgUrl: withOptions(options.pgUrl, settings.synchronousCommit),
    schema: options.namespace ?? 'eventbench',
    ...(settings.poolSize !== undefined ? { poolSize: settings.poolSize } : {}),
    ...(settings.connectTimeoutMs !== undefined ? { connectTimeoutMs: settings.connectTimeoutMs } : {}),
  };
}

export const rawPostgresBackend: BackendModule<RawPostgresSettings> = {
  ...rawPostgresDescriptor,
  create: async (options) => createRawPostgresStore(rawPostgresOptions(options)),
  init: () => Promise.reject(notInit()),
  async sessionSettings(options) {
    const client = new pg.Client({ connectionString: rawPostgresOptions(options).pgUrl, connectionTimeoutMillis: 5_000 });
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
  },
};

function notInit(): ConfigError {
  return new ConfigError('raw-postgres has no tables of its own: it writes into the postgres backend\'s (eventbench init --backend postgres)');
}
