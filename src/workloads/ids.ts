/**
 * Deterministic ids for effects: the id of a follow-up event is a name-based UUID (RFC 9562 version 5
 * layout, SHA-1) of the causing event's id and the step. A redelivered cause therefore produces the SAME
 * follow-up id, which the store recognises as a duplicate append instead of applying the effect twice.
 */
import { createHash } from 'node:crypto';

/** A fixed namespace UUID for eventbench workloads (random, chosen once). */
const NAMESPACE = Buffer.from('6f1c3b7e9a2d4c5fb8e01d2a3c4b5e6f', 'hex');

export function deriveId(...parts: string[]): string {
  const hash = createHash('sha1').update(NAMESPACE).update(parts.join('\u0000')).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8]! & 0x3f) | 0x80; // RFC variant
  const h = hash.toString('hex', 0, 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
