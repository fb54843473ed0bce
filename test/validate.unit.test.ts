/**
 * The input checks every backend runs before touching a server (src/core/validate.ts): bad input is a
 * ConfigError that names the field, and a batch is accepted whole or not at all.
 */
import { describe, expect, it, vi } from 'vitest';
import { ConfigError, NewEventSchema } from '../src/core/event-store.ts';
import {
  checkCategory,
  checkExpectedVersion,
  checkReadAllOptions,
  checkReadStreamOptions,
  checkSubscriptionName,
  matchesExpectedVersion,
  parseStreamName,
  prepareAppend,
  prepareEvents,
  toJson,
} from '../src/core/validate.ts';

describe('parseStreamName', () => {
  it('splits at the first dash: the id may contain dashes', () => {
    expect(parseStreamName('case-123')).toEqual({ stream: 'case-123', category: 'case', id: '123' });
    expect(parseStreamName('debt_case-a-b_c-9')).toEqual({ stream: 'debt_case-a-b_c-9', category: 'debt_case', id: 'a-b_c-9' });
  });

  it.each(['case', 'case-', '-1', '1case-1', 'ca se-1', 'case.x-1', 'case-a.b', 'case-a*', 'cäse-1', ''])(
    'refuses %j with a ConfigError naming the convention',
    (name) => {
      expect(() => parseStreamName(name)).toThrow(ConfigError);
      expect(() => parseStreamName(name)).toThrow(/<category>-<id>/);
    },
  );

  it('refuses non-strings and over-long names', () => {
    expect(() => parseStreamName(42 as never)).toThrow(ConfigError);
    expect(() => parseStreamName(`${'c'.repeat(65)}-1`)).toThrow(ConfigError);
    expect(() => parseStreamName(`c-${'1'.repeat(121)}`)).toThrow(ConfigError);
    expect(parseStreamName(`${'c'.repeat(64)}-${'1'.repeat(120)}`).category).toHaveLength(64);
  });
});

describe('names and expected versions', () => {
  it('checks categories and subscription names', () => {
    expect(checkCategory('debt_case')).toBe('debt_case');
    expect(() => checkCategory('a-b')).toThrow(ConfigError);
    expect(() => checkCategory('')).toThrow(ConfigError);
    expect(checkSubscriptionName('projector-1_a')).toBe('projector-1_a');
    for (const bad of ['has.dot', 'has space', 'wild*', '>', '1starts', '', 'x'.repeat(65)]) {
      expect(() => checkSubscriptionName(bad), bad).toThrow(ConfigError);
    }
  });

  it('accepts the four expected-version forms and defaults to any', () => {
    expect(checkExpectedVersion(undefined)).toBe('any');
    for (const v of ['any', 'no_stream', 'exists', 0, 7] as const) expect(checkExpectedVersion(v)).toBe(v);
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53, 'latest', null, '3']) {
      expect(() => checkExpectedVersion(bad as never), String(bad)).toThrow(ConfigError);
    }
  });
});

describe('toJson', () => {
  it('serialises JSON values exactly as JSON.stringify does', () => {
    const value = { a: [1, 'ü😀', null, true], b: { c: 1.5 }, d: 'e\u0301', date: new Date(0) };
    expect(toJson(value, 'data')).toBe(JSON.stringify(value));
  });

  it.each([
    ['a BigInt', { n: 1n }, /BigInt/],
    ['a function', { f: () => 1 }, /function/],
    ['a symbol', { s: Symbol('s') }, /symbol/],
    ['NaN', { n: Number.NaN }, /NaN/],
    ['Infinity', [Infinity], /Infinity/],
    ['undefined', undefined, /undefined/],
  ])('refuses %s with a ConfigError naming the field', (_what, value, reason) => {
    expect(() => toJson(value, 'events[3].data')).toThrow(ConfigError);
    expect(() => toJson(value, 'events[3].data')).toThrow(/events\[3\]\.data/);
    expect(() => toJson(value, 'events[3].data')).toThrow(reason);
  });

  it('refuses a circular structure', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => toJson(loop, 'data')).toThrow(ConfigError);
  });
});

describe('prepareAppend', () => {
  const fixed = () => new Date('2026-11-25T10:00:00.000Z');

  it('builds envelopes with contiguous versions, defaults from the stream name, and JSON computed once', () => {
    const data = { amount: 12.5 };
    const prepared = prepareAppend(
      'invoice-42',
      [
        { id: 'e1', type: 'billing.invoice.issued', data },
        { id: 'e2', type: 'billing.invoice.paid', data: undefined, metadata: { by: 'ü' }, timestamp: 'kept as given', correlationId: 'c', causationId: 'e1', aggregateId: 'x', aggregateType: 'y' },
      ],
      5,
      1024 * 1024,
      fixed,
    );
    expect(prepared.map((p) => p.envelope.version)).toEqual([5, 6]);
    expect(prepared[0]!.envelope).toEqual({
      id: 'e1',
      type: 'billing.invoice.issued',
      timestamp: '2026-11-25T10:00:00.000Z',
      correlationId: 'e1',
      aggregateId: '42',
      aggregateType: 'invoice',
      version: 5,
      data,
      metadata: {},
    });
    expect(prepared[0]!.dataJson).toBe('{"amount":12.5}');
    expect(prepared[0]!.metadataJson).toBe('{}');
    expect(prepared[1]!.envelope).toMatchObject({ timestamp: 'kept as given', correlationId: 'c', causationId: 'e1', aggregateId: 'x', aggregateType: 'y', data: null });
    expect(prepared[1]!.dataJson).toBe('null');
    expect(prepared[1]!.bytes).toBe(Buffer.byteLength('null') + Buffer.byteLength('{"by":"ü"}') + 256);
  });

  it('names the bad field of the first bad event', () => {
    const good = { id: 'ok', type: 'case.intake', data: {} };
    expect(() => prepareAppend('case-1', [good, { id: 'x', type: 'Bad Type', data: {} }], 1, 1e6)).toThrow(/events\[1\]\.type/);
    expect(() => prepareAppend('case-1', [good, { type: 'case.intake', data: {} } as never], 1, 1e6)).toThrow(/events\[1\]\.id/);
    expect(() => prepareAppend('case-1', [good, { id: 'y', type: 'case.intake', data: { n: 1n } }], 1, 1e6)).toThrow(/events\[1\]\.data/);
    expect(() => prepareAppend('case-1', [good, { id: 'z', type: 'case.intake', data: {}, metadata: [] as never }], 1, 1e6)).toThrow(/events\[1\]\.metadata/);
    expect(() => prepareAppend('case-1', [good, good], 1, 1e6)).toThrow(/appears twice/);
    expect(() => prepareAppend('case-1', [], 1, 1e6)).toThrow(/non-empty/);
    expect(() => prepareAppend('nodash', [good], 1, 1e6)).toThrow(/invalid stream name/);
  });

  it('refuses an event over maxEventBytes, saying the size and the limit', () => {
    // 2000 characters + 2 quotes, "{}" metadata, 256 for the envelope = 2260.
    const big = { id: 'big', type: 'case.intake', data: 'x'.repeat(2000) };
    expect(() => prepareAppend('case-1', [big], 1, 2000)).toThrow(ConfigError);
    expect(() => prepareAppend('case-1', [big], 1, 2000)).toThrow(/2260 bytes.*limit of 2000/);
    expect(prepareAppend('case-1', [big], 1, 2260)).toHaveLength(1);
  });

  it('accepts exactly the events NewEventSchema accepts, and asks zod only about the others', () => {
    class Custom {
      id = 'c1';
      type = 'case.intake';
      data = {};
    }
    const withGetter = Object.defineProperty({ type: 'case.intake', data: 1 }, 'id', { get: () => 'g1', enumerable: true });
    const cases: unknown[] = [
      { id: 'a', type: 'case.intake', data: { x: 1 } },
      { id: 'x'.repeat(128), type: 'a.b.c.d.e.f.g.h', data: undefined },
      { id: 'a', type: 'case.intake', data: 1, timestamp: 't', correlationId: 'c', causationId: 'd', aggregateId: 'e', aggregateType: 'f'.repeat(64) },
      { id: 'a', type: 'case.intake', data: 1, metadata: { k: 'v' } },
      { id: 'a', type: 'case.intake', data: 1, correlationId: undefined, metadata: undefined },
      new Custom(),
      withGetter,
      { id: '', type: 'case.intake', data: 1 },
      { id: 'x'.repeat(129), type: 'case.intake', data: 1 },
      { id: 1, type: 'case.intake', data: 1 },
      { type: 'case.intake', data: 1 },
      { id: 'a', type: 'case.intake' },
      Object.assign(Object.create({ data: 1 }), { id: 'a', type: 'case.intake' }),
      Object.assign(() => 1, { id: 'a', type: 'case.intake', data: 1 }),
      { id: 'a', type: 'Case Intake', data: 1 },
      { id: 'a', type: 'a.b.c.d.e.f.g.h.i', data: 1 },
      { id: 'a', type: 7, data: 1 },
      { id: 'a', type: 'case.intake', data: 1, timestamp: '' },
      { id: 'a', type: 'case.intake', data: 1, correlationId: '' },
      { id: 'a', type: 'case.intake', data: 1, causationId: 'x'.repeat(129) },
      { id: 'a', type: 'case.intake', data: 1, aggregateId: null },
      { id: 'a', type: 'case.intake', data: 1, aggregateType: 'f'.repeat(65) },
      { id: 'a', type: 'case.intake', data: 1, metadata: null },
      { id: 'a', type: 'case.intake', data: 1, metadata: [] },
      { id: 'a', type: 'case.intake', data: 1, metadata: new Map() },
      { id: 'a', type: 'case.intake', data: 1, metadata: { [Symbol('s')]: 1 } },
      ['a', 'case.intake'],
      null,
      'event',
    ];
    for (const e of cases) {
      const schemaSays = NewEventSchema.safeParse(e).success;
      let accepted = true;
      try {
        prepareAppend('case-1', [e as never], 1, 1e6);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        accepted = false;
      }
      expect({ e, accepted }).toEqual({ e, accepted: schemaSays });
    }
    // A plain valid event (every append's case) is checked without zod: its parse is ~400 bytes of garbage.
    const parse = vi.spyOn(NewEventSchema, 'safeParse');
    try {
      prepareAppend('case-1', [{ id: 'fast', type: 'case.intake', data: { a: 1 }, correlationId: 'c' }], 1, 1e6);
      expect(parse).not.toHaveBeenCalled();
      expect(() => prepareAppend('case-1', [{ id: '', type: 'case.intake', data: {} }], 1, 1e6)).toThrow(/events\[0\]\.id/);
      expect(parse).toHaveBeenCalledTimes(1);
    } finally {
      parse.mockRestore();
    }
  });

  it('prepareEvents takes a parsed stream name and builds the same envelopes', () => {
    const events = [{ id: 'e1', type: 'case.intake', data: { a: 1 } }];
    const fixed = () => new Date('2026-11-25T10:00:00.000Z');
    expect(prepareEvents(parseStreamName('case-9'), events, 3, 1e6, fixed)).toEqual(prepareAppend('case-9', events, 3, 1e6, fixed));
  });
});

describe('matchesExpectedVersion: the one expected-version rule', () => {
  it.each([
    ['any', 0, true],
    ['any', 7, true],
    ['no_stream', 0, true],
    ['no_stream', 1, false],
    ['exists', 0, false],
    ['exists', 3, true],
    [0, 0, true],
    [0, 1, false],
    [4, 4, true],
    [4, 5, false],
    [4, 3, false],
  ] as const)('expected %j on a stream at %i: %s', (expected, actual, ok) => {
    expect(matchesExpectedVersion(expected, actual)).toBe(ok);
  });
});

describe('read options, checked once for every backend', () => {
  it('applies the defaults', () => {
    expect(checkReadStreamOptions('case-1', undefined)).toEqual({ direction: 'forward', fromVersion: undefined, limit: Infinity });
    expect(checkReadStreamOptions('case-1', { direction: 'backward', fromVersion: 3, limit: 0 })).toEqual({ direction: 'backward', fromVersion: 3, limit: 0 });
    expect(checkReadAllOptions(undefined)).toEqual({ fromPosition: 0, limit: Infinity, category: undefined });
    expect(checkReadAllOptions({ category: 'case', fromPosition: 9, limit: 2 })).toEqual({ fromPosition: 9, limit: 2, category: 'case' });
  });

  it.each([
    [{ direction: 'sideways' }, /direction must be "forward" or "backward", got "sideways"/],
    [{ limit: -1 }, /limit must be an integer >= 0, got -1/],
    [{ limit: 10n }, /limit must be an integer >= 0, got 10n/],
    [{ fromVersion: 1.5 }, /fromVersion must be an integer >= 0, got 1.5/],
    [null, /options must be an object/],
  ])('readStream refuses %o naming the field', (options, message) => {
    expect(() => checkReadStreamOptions('case-1', options as never)).toThrow(ConfigError);
    expect(() => checkReadStreamOptions('case-1', options as never)).toThrow(message);
  });

  it.each([
    [{ limit: -2 }, /readAll: limit/],
    [{ fromPosition: Number.NaN }, /readAll: fromPosition/],
    [{ category: 'a-b' }, /invalid category/],
  ])('readAll refuses %j naming the field', (options, message) => {
    expect(() => checkReadAllOptions(options as never)).toThrow(message);
  });
});
