/**
 * The stored form of an event: the envelope as UTF-8 JSON, with `data` and `metadata` spliced in from the
 * JSON prepareAppend already made (never serialised twice).
 */
import type { PreparedEvent } from '../../core/validate.ts';
import { SLAB_MAX_MESSAGE, back, begin, end, put, putBytes } from '../nats-slab.ts';

const encoder = new TextEncoder();
const DATA_KEY = encoder.encode(',"data":');
const METADATA_KEY = encoder.encode(',"metadata":');
/** The usual tail: no metadata. */
const EMPTY_METADATA_TAIL = encoder.encode(',"metadata":{}}');
const CLOSE = encoder.encode('}');

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
  // 3 bytes at most per UTF-16 unit, plus the two ASCII keys and the closing brace.
  const max = (head.length + p.dataJson.length + p.metadataJson.length) * 3 + 32;
  if (max > SLAB_MAX_MESSAGE) return encoder.encode(`${head.slice(0, -1)},"data":${p.dataJson},"metadata":${p.metadataJson}}`);
  // Written piece by piece: concatenating first would copy the ~1 kB of JSON into a new string per append.
  begin(max);
  put(head);
  back(1); // the head's closing brace: data and metadata follow
  putBytes(DATA_KEY);
  put(p.dataJson);
  if (p.metadataJson === '{}') {
    putBytes(EMPTY_METADATA_TAIL);
  } else {
    putBytes(METADATA_KEY);
    put(p.metadataJson);
    putBytes(CLOSE);
  }
  return end();
}
