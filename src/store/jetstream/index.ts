/**
 * The JetStream backend: `createJetStreamStore` (the EventStore) and `initJetStream` (the stream
 * presets), behind the one `BackendModule` shape the registry in src/store/index.ts expects.
 */
import type { BackendModule } from '../backend.ts';
import { jetstreamDescriptor } from './descriptor.ts';
import { initJetStream } from './init.ts';
import type { JetStreamSettings } from './settings.ts';
import { createJetStreamStore } from './store.ts';

export { createJetStreamStore } from './store.ts';
export { PRESETS, PRESET_NAMES } from './presets.ts';

export const jetstreamBackend: BackendModule<JetStreamSettings> = {
  ...jetstreamDescriptor,
  create: (options) => createJetStreamStore(options),
  init: (options) => initJetStream(options),
};
