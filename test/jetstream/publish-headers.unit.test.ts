import { headers } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { AppendHeaders, VERSION_HEADER, verbatimHeaderValue } from '../../src/store/jetstream/publish-headers.ts';

/** What nats.js sends for the same append: our version header, then the msg id and expectation js.publish sets. */
function natsEncoded(version: number, id: string, seq: number): Uint8Array {
  const h = headers();
  h.append(VERSION_HEADER, String(version));
  h.set('Nats-Msg-Id', id);
  h.set('Nats-Expected-Last-Subject-Sequence', `${seq}`);
  return (h as unknown as { encode(): Uint8Array }).encode();
}

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

describe('AppendHeaders', () => {
  it('encodes the same bytes as nats.js headers with msgID and expect.lastSubjectSequence', () => {
    for (const [version, id, seq] of [
      [1, 'e-1', 0],
      [42, 'ünïcødé-€-𝄞', 123_456_789],
      [9_007_199_254_740_991, 'x'.repeat(128), 9_007_199_254_740_991],
    ] as const) {
      const ours = new AppendHeaders(version, id, seq).encode();
      expect(text(ours)).toBe(text(natsEncoded(version, id, seq)));
      expect(Buffer.compare(Buffer.from(ours), Buffer.from(natsEncoded(version, id, seq)))).toBe(0);
    }
  });

  it('carries a W3C traceparent after the version header, as nats.js would encode it', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const h = headers();
    h.append(VERSION_HEADER, '5');
    h.append('traceparent', tp);
    h.set('Nats-Msg-Id', 'e-5');
    h.set('Nats-Expected-Last-Subject-Sequence', '9');
    const ours = new AppendHeaders(5, 'e-5', 9, tp);
    expect(text(ours.encode())).toBe(text((h as unknown as { encode(): Uint8Array }).encode()));
    expect(ours.get('traceparent')).toBe(tp);
  });

  it('bytes already handed out stay intact while later headers are encoded', () => {
    const first = new AppendHeaders(1, 'first', 0).encode();
    const copy = text(first);
    for (let i = 0; i < 5_000; i++) new AppendHeaders(i, `later-${i}`, i).encode();
    expect(text(first)).toBe(copy);
  });

  it('answers like nats.js headers, and encodes what is added later (e.g. trace headers set by nats.js)', () => {
    const h = new AppendHeaders(3, 'id-3', 7);
    expect(h.get(VERSION_HEADER)).toBe('3');
    expect(h.get('Nats-Msg-Id')).toBe('id-3');
    expect(h.has('Nats-Expected-Last-Subject-Sequence')).toBe(true);
    expect(h.keys()).toEqual([VERSION_HEADER, 'Nats-Msg-Id', 'Nats-Expected-Last-Subject-Sequence']);
    expect(h.hasError).toBe(false);
    h.set('Nats-Trace-Dest', 'trace.x');
    const expected = headers();
    expected.append(VERSION_HEADER, '3');
    expected.append('Nats-Msg-Id', 'id-3');
    expected.append('Nats-Expected-Last-Subject-Sequence', '7');
    expected.append('Nats-Trace-Dest', 'trace.x');
    expect(text(h.encode())).toBe(text((expected as unknown as { encode(): Uint8Array }).encode()));
  });

  it('leaves to nats.js the ids it would trim or refuse', () => {
    expect(verbatimHeaderValue('case-1')).toBe(true);
    expect(verbatimHeaderValue('a b')).toBe(true);
    expect(verbatimHeaderValue('ünï')).toBe(true);
    for (const id of [' a', 'a ', '\ta', 'a\u00a0', 'a\r\nb', 'a\nb', 'a\rb']) expect(verbatimHeaderValue(id)).toBe(false);
  });
});
