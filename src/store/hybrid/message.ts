/**
 * A relayed event as a JetStream message. Body: the envelope of docs/envelope.md as UTF-8 JSON (the body
 * the jetstream backend stores) plus `position`, the event's PostgreSQL global position, so a consumer
 * (ours, or one in another language) knows where in the store's one order the event sits, also when the
 * message reaches it without headers (a stored message fetched by sequence). Headers: docs/hybrid.md §Headers.
 */
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import type { RecordedEvent } from '../../core/event-store.ts';
import { HEADERS } from '../jetstream/index.ts';
import type { HybridNames } from './naming.ts';

/** The headers the relay sets, named once (nats.js names the server's own: `Nats-Msg-Id`). */
export const RELAY_HEADERS = {
  msgId: HEADERS.msgId,
  version: HEADERS.version,
  type: 'Eventbench-Type',
  position: 'Eventbench-Position',
} as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeRelayed(event: RecordedEvent): { body: Uint8Array; headers: MsgHdrs } {
  const body = encoder.encode(
    JSON.stringify({
      id: event.id,
      type: event.type,
      timestamp: event.timestamp,
      correlationId: event.correlationId,
      causationId: event.causationId,
      aggregateId: event.aggregateId,
      aggregateType: event.aggregateType,
      version: event.version,
      data: event.data,
      metadata: event.metadata,
      position: event.position,
    }),
  );
  const h = headers();
  h.set(RELAY_HEADERS.msgId, event.id);
  h.set(RELAY_HEADERS.version, String(event.version));
  h.set(RELAY_HEADERS.type, event.type);
  h.set(RELAY_HEADERS.position, String(event.position));
  return { body, headers: h };
}

/** The RecordedEvent of a relayed message: exactly what `readStream` returns for it from PostgreSQL. */
export function decodeRelayed(names: HybridNames, msg: { data: Uint8Array; subject: string }): RecordedEvent {
  const event = JSON.parse(decoder.decode(msg.data)) as RecordedEvent;
  if (typeof event.position !== 'number') throw new Error(`message on ${msg.subject} has no position: not relayed by eventbench`);
  event.stream = names.streamOfSubject(msg.subject) ?? msg.subject;
  return event;
}
