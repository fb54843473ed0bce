/**
 * The JetStream backend: `createJetStreamStore` (the EventStore) and `initJetStream` (the seeds' stream
 * presets), behind the one `BackendModule` shape the registry in src/store/index.ts expects.
 */
import type { BackendModule } from '../index.ts';
import { initJetStream } from './init.ts';
import { createJetStreamStore } from './store.ts';

export { createJetStreamStore } from './store.ts';
export { PRESETS, PRESET_NAMES } from './presets.ts';

export const jetstreamBackend: BackendModule = {
  needs: { postgres: false, nats: true },
  create: (options) => createJetStreamStore(options),
  init: (options) => initJetStream(options),
};
