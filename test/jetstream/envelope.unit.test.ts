import { describe, expect, it } from 'vitest';
import { prepareAppend } from '../../src/core/validate.ts';
import { encodeEnvelope } from '../../src/store/jetstream/envelope.ts';

const decode = (b: Uint8Array) => JSON.parse(Buffer.from(b).toString('utf8')) as Record<string, unknown>;
const fixed = () => new Date('2026-11-25T10:00:00.000Z');

describe('encodeEnvelope', () => {
  it('is the envelope with the given version as UTF-8 JSON, data and metadata spliced in', () => {
    const [p] = prepareAppend('case-7', [{ id: 'e1', type: 'case.intake', data: { name: 'Zoë "Z" \\ €', n: [1, 2.5, null] }, causationId: 'c0' }], 1, 1e6, fixed);
    expect(decode(encodeEnvelope(p!, 4))).toEqual({ ...p!.envelope, version: 4 });
    const [m] = prepareAppend('case-7', [{ id: 'e2', type: 'case.intake', data: null, metadata: { by: 'ü', tags: ['a'] } }], 1, 1e6, fixed);
    expect(decode(encodeEnvelope(m!, 1))).toEqual({ ...m!.envelope, data: null, metadata: { by: 'ü', tags: ['a'] } });
    expect(Buffer.from(encodeEnvelope(m!, 1)).toString('utf8')).toBe(JSON.stringify({ ...m!.envelope, causationId: undefined, version: 1 }));
  });

  it('large events get their own buffer; bytes handed out are never overwritten by later events', () => {
    const [big] = prepareAppend('case-8', [{ id: 'big', type: 'case.intake', data: 'é'.repeat(100_000) }], 1, 1e7, fixed);
    expect(decode(encodeEnvelope(big!, 1)).data).toBe('é'.repeat(100_000));
    const events = Array.from({ length: 2_000 }, (_, i) => prepareAppend('case-9', [{ id: `e${i}`, type: 'case.intake', data: { i, pad: 'x'.repeat(i % 700) } }], 1, 1e6, fixed)[0]!);
    // 2,000 events of up to ~1 kB fill several slabs: the first bytes must survive all of them.
    const encoded = events.map((p, i) => encodeEnvelope(p, i + 1));
    encoded.forEach((b, i) => expect(decode(b)).toEqual({ ...events[i]!.envelope, version: i + 1 }));
  });
});
