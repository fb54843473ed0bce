/**
 * Outgoing NATS message bytes (payloads and headers) written straight into shared slabs, by the JetStream
 * adapter and the raw-jetstream baseline alike (the same work on both sides of a ratio). Handed a string,
 * nats.js encodes every payload into a new ArrayBuffer: measured at about twice the CPU of this, plus
 * the garbage. A region is never written twice (a full slab is replaced, and freed once no message cut
 * from it is referenced), so bytes nats.js still holds, e.g. buffered during a reconnect, stay intact.
 */

const SLAB_BYTES = 256 * 1024;
/** Messages that may need more than this get their own buffer. */
export const SLAB_MAX_MESSAGE = SLAB_BYTES / 8;

let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let used = 0;
let start = 0;

/**
 * Starts a message of at most `maxBytes` (<= SLAB_MAX_MESSAGE; a UTF-16 unit is at most 3 UTF-8 bytes).
 * `put` / `back` / `end` follow synchronously: there is one message open at a time.
 */
export function begin(maxBytes: number): void {
  // A message cut short would be sent silently: callers encode larger ones on their own.
  if (maxBytes > SLAB_MAX_MESSAGE) throw new RangeError(`slab message of up to ${maxBytes} bytes, limit ${SLAB_MAX_MESSAGE}`);
  if (used + maxBytes > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    used = 0;
  }
  start = used;
}

/**
 * Appends `text` as UTF-8. `Buffer#write` encodes in place: no intermediate string to flatten and no
 * view object per piece, which `TextEncoder#encodeInto` needs.
 */
export function put(text: string): void {
  used += slab.write(text, used);
}

/** Appends bytes prepared once (the constant parts of a message): a copy, no encoding. */
export function putBytes(bytes: Uint8Array): void {
  slab.set(bytes, used);
  used += bytes.length;
}

/** Takes back the last `bytes` written (an ASCII closing brace to be replaced). */
export function back(bytes: number): void {
  used -= bytes;
}

/** The bytes written since `begin`. */
export function end(): Uint8Array {
  return slab.subarray(start, used);
}
