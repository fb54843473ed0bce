/** Test helpers for the JetStream adapter: remove what a test namespace created on the shared server. */
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { Capabilities } from '../../src/core/event-store.ts';

/** Deletes every JetStream stream whose name starts with `prefix` (a test namespace). */
export async function deleteStreams(natsUrl: string, prefix: string): Promise<string[]> {
  const nc = await connect({ servers: natsUrl });
  const deleted: string[] = [];
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const si of jsm.streams.list()) if (si.config.name.startsWith(prefix)) names.push(si.config.name);
    for (const name of names) {
      await jsm.streams.delete(name);
      deleted.push(name);
    }
  } finally {
    await nc.close();
  }
  return deleted;
}

/** What the jetstream adapter declares on nats-server 2.9 (the contract suite checks a store against it). nats-server's default max_payload (1 MiB) minus the 1 KB the adapter keeps for headers. */
export const JETSTREAM_2_9_CAPABILITIES: Capabilities = {
  atomicMultiAppend: false,
  globalOrder: false,
  idempotencyWindowMs: 120_000,
  competingConsumers: true,
  orderedCompetingConsumers: false,
  maxEventBytes: 1024 * 1024 - 1024,
};
