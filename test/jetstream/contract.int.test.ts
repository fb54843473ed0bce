/**
 * The shared EventStore contract against the JetStream adapter on the test nats-server (2.9.10 here):
 * unchanged suite, JetStream's declared capabilities (no atomic multi-append on 2.9, no global order,
 * a finite idempotency window).
 */
import type { Capabilities } from '../../src/core/event-store.ts';
import { createJetStreamStore } from '../../src/store/jetstream/store.ts';
import { runEventStoreContract } from '../contract/event-store-contract.ts';
import { testNatsUrl, uniqueName } from '../support/servers.ts';
import { deleteStreams } from './helpers.ts';

const namespace = uniqueName('jsc');

/** nats-server's default max_payload (1 MiB) minus the 1 KB the adapter keeps for headers. */
const JETSTREAM_2_9_CAPABILITIES: Capabilities = {
  atomicMultiAppend: false,
  globalOrder: false,
  idempotencyWindowMs: 120_000,
  competingConsumers: true,
  orderedCompetingConsumers: false,
  maxEventBytes: 1024 * 1024 - 1024,
};

runEventStoreContract(
  'jetstream',
  {
    open: (settings) =>
      createJetStreamStore({
        natsUrl: testNatsUrl(),
        namespace,
        settings: settings?.idempotencyWindowMs === undefined ? {} : { duplicateWindowMs: settings.idempotencyWindowMs },
      }),
    cleanup: async () => {
      await deleteStreams(testNatsUrl(), `${namespace}-`);
    },
  },
  JETSTREAM_2_9_CAPABILITIES,
);
