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
export { openJetStreamAdmin } from './admin.ts';
export { PRESETS, PRESET_NAMES } from './presets.ts';

// What the hybrid backend (src/store/hybrid) composes for its JetStream side, so it reuses the connection,
// the durable-consumer subscriptions, dead letters and stream creation instead of copying them. The
// layer rules let src/store/hybrid import this file only (.dependency-cruiser.cjs, hybrid-composes-public-faces).
export { connectNats } from './connection.ts';
export { openSubscription, type SubscriptionDeps } from './subscription.ts';
export { readDeadLetters } from './dead-letters.ts';
export { deadLetterStreamConfig, ensureStream, type StreamSpec } from './streams.ts';
export { jetStreamNames, type JetStreamNames } from './naming.ts';
export { JS_ERR, apiCode, translatePublishError, translateReadError } from './errors.ts';
export { HEADERS } from './publish-headers.ts';
export { parseJetStreamSettings, type JetStreamSettings } from './settings.ts';

export const jetstreamBackend: BackendModule<JetStreamSettings> = {
  ...jetstreamDescriptor,
  create: (options) => createJetStreamStore(options),
  init: (options) => initJetStream(options),
};
