/**
 * The shared EventStore contract, unchanged, against the hybrid topology: appends and reads on PostgreSQL,
 * subscriptions on the JetStream stream the outbox relay fills. Every open() is a new store with its own
 * relay on one namespace, so two stores are two relays racing (SKIP LOCKED) as two processes would.
 */
import type { Capabilities } from '../../src/core/event-store.ts';
import { createHybridStore } from '../../src/store/hybrid/index.ts';
import { hybridDescriptor } from '../../src/store/hybrid/descriptor.ts';
import { runEventStoreContract } from '../contract/event-store-contract.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';
import { dropNamespace } from './helpers.ts';

const namespace = uniqueName('hyc');

/** PostgreSQL's guarantees for the store; an event must also fit a JetStream message (1 MiB max_payload - 1 KB). */
const HYBRID_CAPABILITIES: Capabilities = {
  atomicMultiAppend: true,
  globalOrder: true,
  idempotencyWindowMs: null,
  competingConsumers: true,
  orderedCompetingConsumers: false,
  maxEventBytes: 1024 * 1024 - 1024,
};

runEventStoreContract(
  'hybrid',
  {
    open: () =>
      createHybridStore({
        pgUrl: testPgUrl(),
        natsUrl: testNatsUrl(),
        namespace,
        settings: hybridDescriptor.parseSettings({ poolSize: 4, relayPollIntervalMs: 200 }),
      }),
    cleanup: () => dropNamespace(namespace),
  },
  HYBRID_CAPABILITIES,
);
