/**
 * The `raw-jetstream` baseline: the jetstream adapter's append and catch-up read through nats.js alone
 * (store.ts), for adapter / raw efficiency in `eventbench bench`. Not an event store to build on.
 */
import { ConfigError } from '../../core/event-store.ts';
import type { BackendModule } from '../backend.ts';
import { rawJetStreamDescriptor, type RawJetStreamSettings } from './descriptor.ts';
import { createRawJetStreamStore } from './store.ts';

export const rawJetStreamBackend: BackendModule<RawJetStreamSettings> = {
  ...rawJetStreamDescriptor,
  create: (options) => {
    const settings = rawJetStreamDescriptor.parseSettings(options.settings);
    return createRawJetStreamStore({
      natsUrl: options.natsUrl ?? 'nats://127.0.0.1:4222',
      namespace: options.namespace ?? 'eventbench',
      // The jetstream adapter's defaults (src/store/jetstream/settings.ts).
      publishTimeoutMs: settings.publishTimeoutMs ?? 5_000,
      duplicateWindowMs: settings.duplicateWindowMs ?? 120_000,
    });
  },
  init: () => Promise.reject(new ConfigError("raw-jetstream has no streams of its own: it publishes into the jetstream backend's (eventbench init --backend jetstream)")),
};
