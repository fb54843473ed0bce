import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/event-store.ts';
import { parseDuration, parseRate, parseStages } from '../../src/runners/load/parse.ts';
import { describeOutcome, evaluateThresholds, parseThreshold } from '../../src/runners/load/thresholds.ts';
import { executorFromFlags } from '../../src/runners/load/executors/index.ts';
import { ArrivalSchedule, constantSegments, expectedCount, rampSegments } from '../../src/runners/load/schedule.ts';
import { decodeHistogram, encodeHistogram, mergeEncoded, newHistogram, recordMs, summarize } from '../../src/report/histogram.ts';

describe('load input parsing', () => {
  it('reads rates in the forms users type, 100/sec (docs/case-processing.md) included', () => {
    expect(parseRate('100/s')).toBe(100);
    expect(parseRate('100/sec')).toBe(100);
    expect(parseRate('1.5k/s')).toBe(1500);
    expect(parseRate('6000/min')).toBe(100);
    for (const bad of ['abc', '100', '-5/s', '0/s', '10/fortnight']) expect(() => parseRate(bad)).toThrow(ConfigError);
  });

  it('reads durations and refuses negative ones', () => {
    expect(parseDuration('60s')).toBe(60_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('2')).toBe(2000);
    expect(parseDuration('0s', '--warmup', { allowZero: true })).toBe(0);
    for (const bad of ['-1', '0s', '10x', '', '1s foo']) expect(() => parseDuration(bad)).toThrow(/--duration/);
  });

  it('reads ramp stages', () => {
    expect(parseStages('100/s:10s,1000/s:20s')).toEqual([
      { rate: 100, durationMs: 10_000 },
      { rate: 1000, durationMs: 20_000 },
    ]);
    expect(parseStages('0:5s')).toEqual([{ rate: 0, durationMs: 5000 }]);
    expect(() => parseStages('100/s')).toThrow(ConfigError);
  });

  it('reads k6-style thresholds and says by how much one broke', () => {
    expect(parseThreshold('p99<50ms')).toMatchObject({ metric: 'p99', op: '<', value: 50 });
    expect(parseThreshold('p(99.9)<=1s')).toMatchObject({ metric: 'p999', op: '<=', value: 1000 });
    expect(parseThreshold('error_rate<0.1%')).toMatchObject({ metric: 'error_rate', value: 0.001 });
    expect(parseThreshold('rate>=990/s')).toMatchObject({ metric: 'rate', op: '>=', value: 990 });
    for (const bad of ['p99', 'p99<<5', 'foo<1', 'p99<fast', 'dropped<1.5x']) expect(() => parseThreshold(bad)).toThrow(ConfigError);
    const values = { p50: 1, p90: 2, p99: 812.4, p999: 900, max: 1000, e2e_p99: null, error_rate: 0, dropped: 0, dropped_rate: 0, rate: 500 };
    const [p99, err, e2e] = evaluateThresholds([parseThreshold('p99<50ms'), parseThreshold('error_rate<0.1%'), parseThreshold('e2e_p99<10ms')], values);
    expect(p99).toMatchObject({ passed: false, actual: 812.4 });
    expect(describeOutcome(p99!)).toBe('p99<50ms: 812.4ms, over by 762.4ms');
    expect(err!.passed).toBe(true);
    // Not measured is not a pass.
    expect(e2e).toMatchObject({ passed: false, actual: null });
  });
});

describe('arrival schedule', () => {
  it('spaces a constant rate evenly and independently of completions', () => {
    const s = new ArrivalSchedule(constantSegments(1000, 1000));
    expect([0, 1, 2, 999].map((i) => s.offsetOf(i))).toEqual([0, 1, 2, 999]);
    expect(s.offsetOf(1000)).toBe(Number.POSITIVE_INFINITY);
  });

  it('ramps linearly (k6 ramping-arrival-rate): the count is the integral of the rate', () => {
    const segs = rampSegments(0, [{ rate: 1000, durationMs: 2000 }, { rate: 1000, durationMs: 1000 }]);
    expect(expectedCount(segs)).toBe(2000);
    const s = new ArrivalSchedule(segs);
    let n = 0;
    let firstSecond = 0;
    for (let i = 0; ; i++) {
      const t = s.offsetOf(i);
      if (!(t < 3000)) break;
      n++;
      if (t < 1000) firstSecond++;
    }
    expect(n).toBe(2000);
    // 0 -> 500/s over the first second: 250 appends.
    expect(firstSecond).toBe(250);
  });
});

describe('histograms', () => {
  it('merge exactly across encode / decode (worker threads)', () => {
    const a = newHistogram();
    const b = newHistogram();
    const all = newHistogram();
    for (let i = 1; i <= 5000; i++) {
      recordMs(i % 2 ? a : b, i / 10);
      recordMs(all, i / 10);
    }
    const merged = mergeEncoded([encodeHistogram(a), encodeHistogram(b)]);
    expect(summarize(merged)).toEqual(summarize(all));
    expect(summarize(decodeHistogram(encodeHistogram(all))).p99).toBeCloseTo(495, 0);
  });
});

describe('bounds and precise refusals', () => {
  it('refuses rates above the limit and exponent notation, saying why', () => {
    expect(parseRate('1000k/s')).toBe(1_000_000);
    expect(() => parseRate('1000001/s')).toThrow(/is 1,000,001\/s, above the limit of 1,000,000\/s in total/);
    expect(() => parseRate('1e12/s')).toThrow(/exponent notation is not accepted/);
    expect(() => parseRate('1.5E3/s')).toThrow(/exponent notation is not accepted/);
  });

  it('bounds durations at 7 days', () => {
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('168h')).toBe(7 * 86_400_000);
    expect(() => parseDuration('169h')).toThrow(/--duration "169h" is longer than the limit of 7d/);
    expect(() => parseDuration('99999h')).toThrow(/longer than the limit/);
  });

  it('takes ratio thresholds as a percentage or a fraction in [0, 1], nothing else', () => {
    expect(parseThreshold('error_rate<5%')).toMatchObject({ value: 0.05 });
    expect(parseThreshold('error_rate<0.05')).toMatchObject({ value: 0.05 });
    expect(parseThreshold('dropped_rate<=1')).toMatchObject({ value: 1 });
    expect(() => parseThreshold('error_rate<5')).toThrow(/"5" is a fraction above 1; a ratio is a percentage up to 100% \(e\.g\. 5%\)/);
    expect(() => parseThreshold('error_rate<101%')).toThrow(/over 100%/);
  });
});

describe('executor flags', () => {
  const defaults = { rate: '100/s', durationMs: 10_000 };
  it('infers the executor from the flags and refuses flags of another executor, both ways', () => {
    expect(executorFromFlags(undefined, { stages: '10/s:1s' }, defaults).executor).toBe('ramp');
    expect(executorFromFlags(undefined, { writers: '3' }, defaults)).toMatchObject({ executor: 'closed', fields: { writers: 3 }, notices: [] });
    expect(executorFromFlags(undefined, {}, defaults)).toMatchObject({ executor: 'constant', fields: { rate: 100 } });
    const refused: [string | undefined, Record<string, string>][] = [
      [undefined, { writers: '4', rate: '10/s' }],
      [undefined, { writers: '4', stages: '10/s:1s' }],
      ['max', { writers: '4' }],
      ['constant', { writers: '4' }],
      ['ramp', { stages: '10/s:1s', writers: '4' }],
      ['closed', { rate: '10/s' }],
      ['closed', { stages: '10/s:1s' }],
      ['constant', { stages: '10/s:1s' }],
      [undefined, { slo: 'p99<5ms' }],
      [undefined, { stepDuration: '1s' }],
      ['ramp', { stages: '10/s:1s', slo: 'p99<5ms' }],
    ];
    for (const [executor, flags] of refused) expect(() => executorFromFlags(executor, flags, defaults), JSON.stringify([executor, flags])).toThrow(/cannot be combined with/);
  });

  it('says which default closed uses without --writers', () => {
    expect(executorFromFlags('closed', {}, defaults)).toMatchObject({ fields: { writers: 10 }, notices: ['closed loop with 10 writers (the default; set --writers to choose)'] });
  });
});
