/**
 * The human side of a result: rates printed as people write them (100/min is 1.67/s, not
 * 1.6666666666666667/s), the errors column says their kinds, no percentile above max, and a max search
 * that never failed reads as a lower bound.
 */
import { describe, expect, it } from 'vitest';
import { formatErrors, formatMaxSearch, formatTerminalSummary } from '../../src/report/load-summary.ts';
import type { LoadResult } from '../../src/report/load-result.ts';
import { newHistogram, summarize } from '../../src/report/histogram.ts';
import { formatRate } from '../../src/report/format.ts';
import { parseRate } from '../../src/runners/load/parse.ts';

describe('load summary formatting', () => {
  it('prints rates sensibly', () => {
    expect(formatRate(parseRate('100/min'))).toBe('1.67/s');
    expect(formatRate(100)).toBe('100/s');
    expect(formatRate(1500)).toBe('1,500/s');
    expect(formatRate(1234.5678)).toBe('1,235/s');
    expect(formatRate(0.5)).toBe('0.5/s');
  });

  it('says the kinds of errors', () => {
    const errors = { conflict: 10, unavailable: 2, unknown_outcome: 0, duplicate: 0, other: 0, total: 12, rate: 0.01 };
    expect(formatErrors(errors)).toBe('12 (conflict 10, unavailable 2)');
    expect(formatErrors({ ...errors, conflict: 0, unavailable: 0, total: 0, rate: 0 })).toBe('0');
  });

  it('never reports a percentile above max', () => {
    // Values whose 99.9th percentile falls into the bucket of the maximum (highest equivalent 49.599 ms).
    const h = newHistogram();
    for (let i = 0; i < 998; i++) h.recordValue(1000);
    h.recordValue(49_570);
    h.recordValue(49_590);
    const s = summarize(h);
    expect(s.p999).toBeLessThanOrEqual(s.max);
    expect(s.p99).toBeLessThanOrEqual(s.p999);
    expect(s.mean).toBeLessThanOrEqual(s.max);
  });

  it('a max search without a failed step is a lower bound', () => {
    const steps = [{ step: 1, targetRate: 100, achievedRate: 100, p50: 1, p99: 2, errors: 0, dropped: 0, unfinished: 0, lag: 0, passed: true, reason: 'ok' }];
    const hint = 'no step failed, so this is a lower bound: raise --duration or --rate to find the limit';
    expect(formatMaxSearch({ slo: 'p99<50ms', sustainableRate: 3200, limitFound: false, hint, steps })).toBe(`max sustainable rate under p99<50ms: at least 3,200/s (${hint})`);
    expect(formatMaxSearch({ slo: 'p99<50ms', sustainableRate: 3200, limitFound: true, hint: null, steps })).toBe('max sustainable rate under p99<50ms: 3,200/s');
  });

  it('shows a 100/min scenario as 1.67/s in the terminal summary', () => {
    const result = {
      scenario: { command: 'load', executor: 'constant', workload: 'synthetic', seed: 1, runId: 'r', namespace: 'n', rate: 100 / 60, stages: null, writers: null, durationMs: 1000, warmupMs: 0, maxInFlight: 1000, workers: 1, streams: 1000, slo: null, stepDurationMs: null, drainTimeoutMs: 1000, consumer: false, metrics: false, thresholds: [], backends: [], infra: null },
      environment: { postgres: null, nats: null },
      backends: [],
    } as unknown as LoadResult;
    const text = formatTerminalSummary(result);
    expect(text).toMatch(/constant 1\.67\/s/);
    expect(text).not.toMatch(/1\.666/);
  });
});
