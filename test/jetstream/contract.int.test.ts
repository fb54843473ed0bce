/**
 * The shared EventStore contract against the JetStream adapter on the test nats-server (2.9.10 here):
 * unchanged suite, JetStream's declared capabilities (no atomic multi-append on 2.9, no global order,
 * a finite idempotency window).
 */
import { createJetStreamStore } from '../../src/store/jetstream/store.ts';
import { runEventStoreContract } from '../contract/event-store-contract.ts';
import { testNatsUrl, uniqueName } from '../support/servers.ts';
import { deleteStreams, JETSTREAM_2_9_CAPABILITIES } from './helpers.ts';

const namespace = uniqueName('jsc');


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
