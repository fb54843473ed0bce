/**
 * The stored form of an event: the envelope as UTF-8 JSON, with `data` and `metadata` spliced in from the
 * JSON prepareAppend already made (never serialised twice).
 */
import type { PreparedEvent } from '../../core/validate.ts';

const SLAB_BYTES = 256 * 1024;
const encoder = new TextEncoder();
let slab = new Uint8Array(SLAB_BYTES);
let used = 0;

/**
 * UTF-8 bytes of `text`, cut from a shared slab. Handed a string, nats.js encodes every payload into a new
 * ArrayBuffer: measured at about twice the CPU of this, plus the garbage. A region is never written twice
 * (a full slab is replaced, and freed once no payload cut from it is referenced), so a payload nats.js
 * still holds, e.g. buffered during a reconnect, stays intact.
 */
function utf8(text: string): Uint8Array {
  // A UTF-16 unit is at most 3 UTF-8 bytes; large events get their own buffer.
  const max = text.length * 3;
  if (max > SLAB_BYTES / 8) return encoder.encode(text);
  if (used + max > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  const { written } = encoder.encodeInto(text, slab.subarray(used));
  const bytes = slab.subarray(used, used + written);
  used += written;
  return bytes;
}

/** The message body of `p` stored as version `version`. */
export function encodeEnvelope(p: PreparedEvent, version: number): Uint8Array {
  const e = p.envelope;
  const head = JSON.stringify({
    id: e.id,
    type: e.type,
    timestamp: e.timestamp,
    correlationId: e.correlationId,
    causationId: e.causationId,
    aggregateId: e.aggregateId,
    aggregateType: e.aggregateType,
    version,
  });
  return utf8(`${head.slice(0, -1)},"data":${p.dataJson},"metadata":${p.metadataJson}}`);
}
