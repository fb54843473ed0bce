/** Storage used by a namespace: its JetStream streams' messages and bytes (dead letters reported apart). */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { StorageStats } from '../../core/event-store.ts';
import { translateReadError } from './errors.ts';
import type { JetStreamNames } from './naming.ts';

export async function storageStats(jsm: JetStreamManager, names: JetStreamNames): Promise<StorageStats> {
  const detail: Record<string, number> = {};
  let events = 0;
  let bytes = 0;
  try {
    for await (const si of jsm.streams.list(`${names.namespace}.>`)) {
      if (!si.config.name.startsWith(`${names.namespace}-`)) continue;
      detail[`${si.config.name}.bytes`] = si.state.bytes;
      detail[`${si.config.name}.messages`] = si.state.messages;
      if (si.config.name === names.deadLetterStream) continue;
      events += si.state.messages;
      bytes += si.state.bytes;
    }
  } catch (err) {
    throw translateReadError(err);
  }
  return { events, bytes, detail };
}
