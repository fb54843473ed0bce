/** `--start-at` and `--generator-id` parsing, and how a generator id keeps seeds and run ids apart. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/event-store.ts';
import { generatorRunId, generatorSeed, parseGeneratorId, parseStartAt } from '../../src/runners/load/start-at.ts';

const now = Date.parse('2026-12-04T19:00:00Z');

describe('parseStartAt', () => {
  it('takes an ISO time with a zone or a delay from now', () => {
    expect(parseStartAt('2026-12-04T19:00:10Z', now)).toBe(now + 10_000);
    expect(parseStartAt('2026-12-04T20:00:10+01:00', now)).toBe(now + 10_000);
    expect(parseStartAt('+1m30s', now)).toBe(now + 90_000);
  });
  it('refuses the past, more than a day ahead, a time without a zone and a bad delay', () => {
    expect(() => parseStartAt('2026-12-04T18:59:59Z', now)).toThrow(/in the past/);
    expect(() => parseStartAt('2026-12-05T19:00:01Z', now)).toThrow(/more than 24 h ahead/);
    expect(() => parseStartAt('+25h', now)).toThrow(/--start-at "\+25h" is more than 24 h ahead/);
    expect(() => parseStartAt('2026-12-04T19:00:10', now)).toThrow(/with a zone/);
    expect(() => parseStartAt('+soon', now)).toThrow(ConfigError);
    expect(() => parseStartAt('tomorrow', now)).toThrow(ConfigError);
  });
});

describe('generator ids', () => {
  it('parses 0..9999 only', () => {
    expect(parseGeneratorId('3')).toBe(3);
    expect(() => parseGeneratorId('-1')).toThrow(ConfigError);
    expect(() => parseGeneratorId('10000')).toThrow(ConfigError);
  });
  it('gives every generator but 0 its own seed and every one its own run id', () => {
    expect(generatorSeed(1, undefined)).toBe(1);
    expect(generatorSeed(1, 0)).toBe(1);
    const seeds = new Set([0, 1, 2, 3].map((id) => generatorSeed(1, id)));
    expect(seeds.size).toBe(4);
    expect(generatorRunId('run', 2)).toBe('rung2');
    expect(generatorRunId('run', undefined)).toBe('run');
  });
});
