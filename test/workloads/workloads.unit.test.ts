/**
 * Every registered workload: every generated event validates against its schema, stream names and
 * event types satisfy the contract's patterns, output is deterministic per seed, and a schema violation
 * is rejected with a ConfigError naming the field.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { ConfigError, EVENT_TYPE_PATTERN, NewEventSchema, STREAM_NAME_PATTERN, type NewEvent } from '../../src/core/event-store.ts';
import { WORKLOAD_NAMES, workloads } from '../../src/workloads/index.ts';
import { CaseSimulator } from '../../src/workloads/debt-cases/generator.ts';
import { analyse } from '../../src/workloads/debt-cases/risk-model.ts';
import { decide, DEFAULT_RULES, parseRules } from '../../src/workloads/debt-cases/rules.ts';
import { CASE_SCHEMAS } from '../../src/workloads/debt-cases/events.ts';
import { validateData } from '../../src/workloads/schema.ts';
import { seededFaker } from '../../src/workloads/common.ts';

const OURS = ['debt-cases', 'documents', 'file-uploads', 'domain-events', 'invoices'] as const;

describe.each(WORKLOAD_NAMES)('workload %s', (name) => {
  const w = workloads[name];

  it('every generated event validates; streams and types satisfy the contract', () => {
    const gen = w.create({ seed: 11 });
    const types = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const a = gen.next();
      expect(a.stream).toMatch(STREAM_NAME_PATTERN);
      expect(a.stream.slice(0, a.stream.indexOf('-'))).toBe(w.category);
      for (const e of a.events) {
        expect(NewEventSchema.safeParse(e).success).toBe(true);
        expect(e.type).toMatch(EVENT_TYPE_PATTERN);
        expect(w.eventTypes).toContain(e.type);
        w.validate(e);
        types.add(e.type);
      }
    }
    // Every type a generator emits is exercised (debt-cases: only case.intake; the processors emit the rest).
    if ((OURS as readonly string[]).includes(name) && name !== 'debt-cases') expect(types.size).toBe(w.eventTypes.length);
  });

  it('same seed, same bytes', () => {
    const digest = (seed: number) => {
      const gen = w.create({ seed });
      const h = createHash('sha256');
      for (let i = 0; i < 500; i++) h.update(JSON.stringify(gen.next()));
      return h.digest('hex');
    };
    expect(digest(5)).toBe(digest(5));
    expect(digest(5)).not.toBe(digest(6));
  });
});

describe('schema violations name the field', () => {
  const first = (name: keyof typeof workloads, type?: string): NewEvent => {
    const gen = workloads[name].create({ seed: 1 });
    for (let i = 0; i < 10_000; i++) {
      const e = gen.next().events.find((x) => !type || x.type === type);
      if (e) return structuredClone(e);
    }
    throw new Error(`no ${type} event`);
  };
  const rejects = (name: keyof typeof workloads, event: NewEvent, field: string) => {
    let err: unknown;
    try {
      workloads[name].validate(event);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(field);
    return (err as Error).message;
  };

  it('case.intake: a BSN failing the 11-check, a negative debt amount, a typo field, a bad allowed value', () => {
    const e = first('debt-cases');
    const d = e.data as Record<string, unknown>;
    const bsn = d.citizen_bsn as string;
    d.citizen_bsn = bsn.slice(0, 8) + String((Number(bsn[8]) + 1) % 10);
    expect(rejects('debt-cases', e, 'data.citizen_bsn')).toMatch(/case\.intake: data\.citizen_bsn: .*elfproef/);
    d.citizen_bsn = bsn;
    workloads['debt-cases'].validate(e);
    (d.debts as { amount: number }[])[0]!.amount = -5;
    rejects('debt-cases', e, 'data.debts[0].amount');
    const e2 = first('debt-cases');
    (e2.data as Record<string, unknown>).priority = 'asap';
    rejects('debt-cases', e2, 'data.priority');
    const e3 = first('debt-cases');
    (e3.data as Record<string, unknown>).debtAmount = 1;
    rejects('debt-cases', e3, 'debtAmount');
  });

  it('case.analysis / decision / completed from the processors\' pure parts validate, and violations name the field', () => {
    const sim = new CaseSimulator({ seed: 2 });
    for (let i = 0; i < 2000; i++) {
      const intake = sim.next().intake;
      const analysis = validateData(CASE_SCHEMAS, 'case.analysis', analyse(intake));
      validateData(CASE_SCHEMAS, 'case.decision', decide(DEFAULT_RULES, intake, analysis as never));
    }
    const a = analyse(sim.next().intake);
    expect(() => validateData(CASE_SCHEMAS, 'case.analysis', { ...a, risk_score: 101 })).toThrow(/case\.analysis: data\.risk_score/);
    expect(() =>
      validateData(CASE_SCHEMAS, 'case.decision', { case_id: a.case_id, decision: 'settle', decided_by: 'system', reason: 'x', next_steps: [] }),
    ).toThrow(/data\.decision/);
    expect(() =>
      validateData(CASE_SCHEMAS, 'case.completed', { case_id: a.case_id, outcome: 'resolved', duration_seconds: 1.5, total_savings: 0 }),
    ).toThrow(/data\.duration_seconds/);
    expect(() => validateData(CASE_SCHEMAS, 'case.closed', {})).toThrow(/type: unknown event type "case.closed"/);
  });

  it('the other workloads', () => {
    const doc = first('documents');
    (doc.data as { document: { size: number } }).document.size = -1;
    rejects('documents', doc, 'data.document.size');
    const up = first('file-uploads');
    (up.data as Record<string, unknown>).email = 'not-an-email';
    rejects('file-uploads', up, 'data.email');
    const cim = first('domain-events');
    (cim.data as Record<string, unknown>).subject = 'dev.domain.sales';
    rejects('domain-events', cim, 'data.subject');
    const inv = first('invoices', 'billing.invoice.issued');
    (inv.data as Record<string, unknown>).amount = 12.5;
    rejects('invoices', inv, 'data.amount');
    rejects('invoices', { ...inv, type: 'billing.invoice.refunded' }, 'type');
  });

  it('a rule set is data and is checked', () => {
    expect(() => parseRules([{ id: 'x', when: { fact: 'risk_score', op: 'gt', value: 5 }, then: { decision: 'forgive', reason: 'r', next_steps: [] } }])).toThrow(
      /last rule .* always/,
    );
    expect(() => parseRules([{ id: 'x', when: { always: true }, then: { decision: 'pay', reason: 'r', next_steps: [] } }])).toThrow(/rules\[0\.then\.decision\]/);
  });
});

describe('isoDate (the generators\' fast timestamp formatter)', () => {
  it('equals Date#toISOString byte for byte', async () => {
    const { isoDate } = await import('../../src/workloads/common.ts');
    const rng = new (await import('../../src/core/random.ts')).Random(3);
    let ms = Date.parse('1999-12-31T23:00:00Z');
    for (let i = 0; i < 200_000; i++) {
      ms += rng.int(0, 100_000);
      if (isoDate(ms) !== new Date(ms).toISOString()) expect(isoDate(ms)).toBe(new Date(ms).toISOString());
    }
    for (const x of [0, 1, 999, 86_399_999, -1, Date.parse('2024-02-29T23:59:59.999Z'), 1.5, -0.5, 1_736_150_400_123.7]) expect(isoDate(x)).toBe(new Date(x).toISOString());
    // Alternating between days (an invoice's time and its due date) and days eight apart share cache slots.
    for (let i = 0; i < 10_000; i++) {
      const x = ms + rng.int(-20, 20) * 86_400_000 + rng.int(0, 86_399_999);
      if (isoDate(x) !== new Date(x).toISOString()) expect(isoDate(x)).toBe(new Date(x).toISOString());
    }
  });

  it('isoDay is its date and midnights come from the cache, also outside 0000-9999', async () => {
    const { isoDate, isoDay } = await import('../../src/workloads/common.ts');
    const rng = new (await import('../../src/core/random.ts')).Random(4);
    for (let i = 0; i < 20_000; i++) {
      const day = rng.int(-800_000, 3_000_000);
      const x = day * 86_400_000 + (i % 2 ? 0 : rng.int(0, 86_399_999));
      const iso = new Date(x).toISOString();
      if (isoDay(x) !== iso.slice(0, 10) || isoDate(x) !== iso) expect([isoDay(x), isoDate(x)]).toEqual([iso.slice(0, 10), iso]);
    }
    expect(isoDay(Date.parse('2025-03-03T23:59:59.999Z'))).toBe('2025-03-03');
  });
});

describe('ids kept as random words', () => {
  it('formatUuid and formatHex spell the words as Random.uuid and Random.hex do', async () => {
    const { formatHex, formatUuid, Random } = await import('../../src/core/random.ts');
    const a = new Random(9);
    const b = new Random(9);
    for (let i = 0; i < 1000; i++) {
      expect(formatUuid(b.uint32(), b.uint32(), b.uint32(), b.uint32())).toBe(a.uuid());
      for (const length of [6, 20, 24]) {
        const words = Array.from({ length: Math.ceil(length / 8) }, () => b.uint32());
        expect(formatHex([0, ...words], 1, length)).toBe(a.hex(length));
      }
    }
  });
});

describe('HexFormat and formatUuid (text built from character codes) equal the library spelling', () => {
  /** The hex of 32-bit words, most significant first, as Node's Buffer spells it. */
  const bufferHex = (words: number[]): string => {
    const b = Buffer.alloc(words.length * 4);
    words.forEach((w, i) => b.writeUInt32BE(w, i * 4));
    return b.toString('hex');
  };

  it('a prefix and the first n hex digits of the words, for every length, twice in a row', async () => {
    const { HexFormat, Random } = await import('../../src/core/random.ts');
    const rng = new Random(11);
    for (const prefix of ['', 'evt_', 'corr_']) {
      for (let digits = 1; digits <= 64; digits++) {
        const format = new HexFormat(prefix, digits);
        for (let i = 0; i < 20; i++) {
          const words = [rng.uint32(), ...Array.from({ length: Math.ceil(digits / 8) }, () => rng.uint32())];
          const expected = prefix + bufferHex(words.slice(1)).slice(0, digits);
          expect(format.format(words, 1)).toBe(expected);
          expect(format.format(words, 1)).toBe(expected);
        }
      }
    }
    expect(new HexFormat('x', 8).format([0, 0xffffffff, 0x0000000f])).toBe('x00000000');
    expect(() => new HexFormat('x', 0)).toThrow(/digits/);
  });

  it('formatUuid is the version 4 layout of the words (version and variant bits set), as Buffer spells them', async () => {
    const { formatUuid, Random } = await import('../../src/core/random.ts');
    const rng = new Random(12);
    for (let i = 0; i < 5000; i++) {
      const w = [rng.uint32(), rng.uint32(), rng.uint32(), rng.uint32()];
      const b = Buffer.alloc(16);
      w.forEach((x, k) => b.writeUInt32BE(x, k * 4));
      b[6] = (b[6]! & 0x0f) | 0x40;
      b[8] = (b[8]! & 0x3f) | 0x80;
      const h = b.toString('hex');
      const expected = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      const uuid = formatUuid(w[0]!, w[1]!, w[2]!, w[3]!);
      if (uuid !== expected) expect(uuid).toBe(expected);
      expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });
});

describe('ids spelled from character codes equal their templates', () => {
  it("invoiceNumberOf is `INV-${year}-${serial mod 10^6 padded to 6}`", async () => {
    const { invoiceNumberOf } = await import('../../src/workloads/invoices.ts');
    const { Random } = await import('../../src/core/random.ts');
    const template = (year: number, serial: number) => `INV-${year}-${String(serial % 1_000_000).padStart(6, '0')}`;
    const rng = new Random(13);
    const cases: [number, number][] = [[2025, 0], [2025, 1], [2025, 999_999], [2025, 1_000_000], [2025, 123_456_789], [1, 7], [999, 3], [1000, 3], [9999, 42], [2025, -5], [2025, 1.5], [2025.5, 1], [10_000, 5], [-1, 5]];
    for (let i = 0; i < 5000; i++) cases.push([rng.int(0, 9999), rng.int(0, 2 ** 40)]);
    for (const [year, serial] of cases) expect(invoiceNumberOf(year, serial)).toBe(template(year, serial));
  });

  it('documentEventId is `evt-${ms}-${rng.hex(6)}` for the word rng.hex(6) draws', async () => {
    const { documentEventId } = await import('../../src/workloads/documents.ts');
    const { Random } = await import('../../src/core/random.ts');
    const rng = new Random(14);
    const ms = [1e12, 1e13 - 1, 1_736_150_400_000, 999_999_999_999, 1e13, 0, 1.5e12 + 0.5];
    for (let i = 0; i < 5000; i++) ms.push(rng.int(1e12, 1e13 - 1));
    ms.forEach((m, seed) => {
      // Two generators with one seed: one gives the word, the other spells rng.hex(6) of the same word.
      expect(documentEventId(m, new Random(seed).uint32())).toBe(`evt-${m}-${new Random(seed).hex(6)}`);
    });
  });
});

describe('seededFaker', () => {
  // It builds on faker's nl locale entry (one locale loaded, not the package index with all of them).
  it('draws what a Faker on [nl, en, base] with the same seed draws', async () => {
    const { Faker, base, en, nl } = await import('@faker-js/faker');
    const draw = (f: InstanceType<typeof Faker>) =>
      Array.from({ length: 50 }, () => [
        f.person.fullName(),
        f.location.city(),
        f.internet.email(),
        f.string.alphanumeric({ length: 12, casing: 'lower' }),
        f.system.fileName({ extensionCount: 0 }),
        f.lorem.sentence(),
      ]);
    const library = new Faker({ locale: [nl, en, base] });
    library.seed(42);
    expect(draw(seededFaker(42))).toEqual(draw(library));
    // Each call is an instance of its own: drawing from one does not move another.
    const a = seededFaker(1);
    const b = seededFaker(1);
    a.person.fullName();
    expect(b.person.fullName()).toBe(seededFaker(1).person.fullName());
  });
});
