/**
 * The outbox relay's JetStream side: publishes a batch of events on their subjects with `Nats-Msg-Id` =
 * event id, all in flight at once on one connection (so the stream stores them in the batch's order), and
 * resolves only when every one is acknowledged. A relay that dies after publishing and before marking its
 * rows publishes them again; JetStream recognises the ids within the stream's duplicate window and stores
 * nothing new (docs/hybrid.md §Delivered once).
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { RecordedEvent } from '../../core/event-store.ts';
import { parseStreamName } from '../../core/validate.ts';
import { translatePublishError } from '../jetstream/index.ts';
import { encodeRelayed } from './message.ts';
import type { HybridNames } from './naming.ts';

export interface RelayPublisher {
  /** Publishes `events` in order; rejects when any was not acknowledged (the caller retries them all). */
  publish(events: RecordedEvent[]): Promise<{ stored: number; duplicates: number }>;
}

export function createJetStreamPublisher(js: JetStreamClient, names: HybridNames, timeoutMs: number): RelayPublisher {
  return {
    async publish(events) {
      const acks = events.map((event) => {
        const { category, id } = parseStreamName(event.stream);
        const { body, headers } = encodeRelayed(event);
        return js.publish(names.subject(category, id), body, { msgID: event.id, headers, timeout: timeoutMs });
      });
      const settled = await Promise.allSettled(acks);
      let duplicates = 0;
      for (const [i, r] of settled.entries()) {
        if (r.status === 'rejected') throw translatePublishError(r.reason, events[i]!.stream);
        if (r.value.duplicate) duplicates++;
      }
      return { stored: events.length - duplicates, duplicates };
    },
  };
}
