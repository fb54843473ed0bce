/**
 * The `hybrid` backend: PostgreSQL store + transactional outbox relayed to JetStream + JetStream consumers
 * (docs/hybrid.md). `eventbench init --backend hybrid` applies the PostgreSQL migrations and creates the
 * relayed and dead-letter JetStream streams.
 */
import { ConfigError } from '../../core/event-store.ts';
import type { BackendModule, BackendOptions, InitReport } from '../backend.ts';
import { hybridDescriptor, type HybridSettings } from './descriptor.ts';
import { postgresSessionSettings } from '../postgres/index.ts';
import { createHybridStore, type HybridStoreOptions } from './hybrid-store.ts';

export { createHybridStore, type HybridStore, type HybridStoreOptions } from './hybrid-store.ts';
export { registerRelayLagMetrics, type RelayLag } from './relay-lag.ts';
export { RELAY_HEADERS } from './message.ts';

export function hybridOptions(options: BackendOptions): HybridStoreOptions {
  const settings = hybridDescriptor.parseSettings(options.settings);
  if (!options.pgUrl) throw new ConfigError('hybrid backend needs a PostgreSQL URL: --pg-url postgres://... or PG_URL');
  return {
    pgUrl: options.pgUrl,
    ...(options.natsUrl !== undefined ? { natsUrl: options.natsUrl } : {}),
    ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
    settings,
  };
}

export const hybridBackend: BackendModule<HybridSettings> = {
  ...hybridDescriptor,
  create: (options) => createHybridStore(hybridOptions(options)),
  // An append is acknowledged by the PostgreSQL commit: that server's settings say what the ack means.
  sessionSettings: (options) => postgresSessionSettings(hybridOptions(options).pgUrl),
  init: async (options): Promise<InitReport> => {
    if (options.preset !== undefined) throw new ConfigError('--preset applies to the jetstream backend; the hybrid backend creates its own stream');
    const resolved = hybridOptions(options);
    // `init` must not start a relay: it prepares, it does not run.
    const store = await createHybridStore({ ...resolved, settings: { ...resolved.settings, relay: 'none' } });
    try {
      return { backend: 'hybrid', items: await store.migrate() };
    } finally {
      await store.close();
    }
  },
};
