/**
 * The headers of one appended event: version, msg id and the subject-sequence expectation, encoded in one
 * go. nats.js `headers()` + `set` costs ~4.6 kB of garbage and ~1.5 µs per message (a Map, a key search
 * and a RegExp per `set`, a string and a new ArrayBuffer per `encode`), a tenth of a pipelined publish here
 * (bench/jetstream-append.ts). The bytes are the same as nats.js would send (`publish-headers.unit.test.ts`).
 */
import { headers, type Match, type MsgHdrs } from '@nats-io/transport-node';
import { PubHeaders } from '@nats-io/jetstream';
import { begin, end, put } from '../nats-slab.ts';

/**
 * The header names the adapter writes or reads, named once: nats.js's own (`PubHeaders`) for what the
 * server interprets, and ours for the event's stream version (also in its envelope).
 */
export const HEADERS = {
  version: 'Eventbench-Version',
  msgId: PubHeaders.MsgIdHdr,
  expectedLastSubjectSequence: PubHeaders.ExpectedLastSubjectSequenceHdr,
  expectedLastMsgId: PubHeaders.ExpectedLastMsgIdHdr,
  /** W3C trace context of the append (`--otlp`), copied from the event's metadata so NATS tooling sees it too. */
  traceparent: 'traceparent',
} as const;

/** The stream version of the event in a message (also in its envelope). */
export const VERSION_HEADER = HEADERS.version;

// The fixed parts of the encoded block, built once from the names above.
const HEAD = `NATS/1.0\r\n${HEADERS.version}: `;
const TRACEPARENT = `\r\n${HEADERS.traceparent}: `;
const MSG_ID = `\r\n${HEADERS.msgId}: `;
const EXPECTED_SEQ = `\r\n${HEADERS.expectedLastSubjectSequence}: `;
const TAIL = '\r\n\r\n';

/** What nats.js would refuse (CR, LF) or change (it trims values) in a header value. */
const NOT_VERBATIM = /^\s|\s$|[\r\n]/;

/** False for an id nats.js would refuse or trim: such appends take nats.js's own headers, and its verdict. */
export function verbatimHeaderValue(value: string): boolean {
  return !NOT_VERBATIM.test(value);
}

/**
 * A MsgHdrs whose `encode()` (what nats.js calls to send a message's headers) writes the three headers
 * directly. Anything else asked of it (nats.js adds trace headers with `set`, for instance) goes to a real
 * nats.js MsgHdrs built on first use, which from then on also encodes them.
 */
export class AppendHeaders implements MsgHdrs {
  private full: MsgHdrs | undefined;

  /** `msgId` and `traceparent` must be verbatim (`verbatimHeaderValue`); version and sequence are integers. */
  constructor(
    private readonly version: number,
    private readonly msgId: string,
    private readonly expectedSeq: number,
    private readonly traceparent?: string,
  ) {}

  encode(): Uint8Array {
    if (this.full) return (this.full as MsgHdrs & { encode(): Uint8Array }).encode();
    const trace = this.traceparent === undefined ? '' : TRACEPARENT + this.traceparent;
    const text = HEAD + this.version + trace + MSG_ID + this.msgId + EXPECTED_SEQ + this.expectedSeq + TAIL;
    begin(text.length * 3);
    put(text);
    return end();
  }

  private get real(): MsgHdrs {
    if (!this.full) {
      const h = headers();
      h.append(HEADERS.version, String(this.version));
      if (this.traceparent !== undefined) h.append(HEADERS.traceparent, this.traceparent);
      h.append(HEADERS.msgId, this.msgId);
      h.append(HEADERS.expectedLastSubjectSequence, String(this.expectedSeq));
      this.full = h;
    }
    return this.full;
  }

  get hasError(): boolean {
    return this.real.hasError;
  }
  get status(): string {
    return this.real.status;
  }
  get code(): number {
    return this.real.code;
  }
  get description(): string {
    return this.real.description;
  }
  get(k: string, match?: Match): string {
    return this.real.get(k, match);
  }
  set(k: string, v: string, match?: Match): void {
    this.real.set(k, v, match);
  }
  append(k: string, v: string, match?: Match): void {
    this.real.append(k, v, match);
  }
  has(k: string, match?: Match): boolean {
    return this.real.has(k, match);
  }
  keys(): string[] {
    return this.real.keys();
  }
  values(k: string, match?: Match): string[] {
    return this.real.values(k, match);
  }
  delete(k: string, match?: Match): void {
    this.real.delete(k, match);
  }
  last(k: string, match?: Match): string {
    return this.real.last(k, match);
  }
  [Symbol.iterator](): Iterator<[string, string[]]> {
    return this.real[Symbol.iterator]();
  }
}
