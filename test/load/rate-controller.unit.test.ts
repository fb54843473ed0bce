/**
 * The max search's rate controller (pure): doubling while steps pass, bisecting between the last good
 * and the first bad rate, stopping within the resolution, and saying whether a limit was found at all.
 */
import { describe, expect, it } from 'vitest';
import { createRateController } from '../../src/runners/load/rate-controller.ts';

/** Runs the controller against a system that sustains `capacity`/s: the sequence of rates it tries. */
function search(initialRate: number, capacity: number, maxRate = 1_000_000): { rates: number[]; summary: ReturnType<ReturnType<typeof createRateController>['summary']>; reason: string } {
  const c = createRateController({ initialRate, maxRate });
  const rates: number[] = [];
  for (let i = 0; i < 100; i++) {
    rates.push(c.rate);
    const d = c.record(c.rate <= capacity);
    if (d.done) return { rates, summary: c.summary(), reason: d.reason };
  }
  throw new Error('the search did not end');
}

describe('rate controller', () => {
  it('doubles while steps pass', () => {
    const { rates } = search(100, 1000);
    expect(rates.slice(0, 5)).toEqual([100, 200, 400, 800, 1600]);
  });

  it('then bisects between the last good and the first bad rate until within 10 %', () => {
    const { rates, summary } = search(100, 1000);
    // 800 passed, 1600 failed: 1200 (fail), 1000 (pass), 1100 (fail): 1100 / 1000 <= 1.1.
    expect(rates.slice(4)).toEqual([1600, 1200, 1000, 1100]);
    expect(summary).toEqual({ sustainableRate: 1000, limitFound: true, firstFailedRate: 1100 });
  });

  it('halves from a first step that fails, then bisects upwards', () => {
    const { rates, summary } = search(1000, 300);
    expect(rates.slice(0, 3)).toEqual([1000, 500, 250]);
    expect(rates[3]).toBe(375);
    expect(summary.limitFound).toBe(true);
    expect(summary.sustainableRate).toBeGreaterThanOrEqual(250);
    expect(summary.sustainableRate).toBeLessThanOrEqual(300);
  });

  it('stops at the rate limit without a limit found when every step passes', () => {
    const { rates, summary, reason } = search(300_000, Number.POSITIVE_INFINITY, 1_000_000);
    expect(rates).toEqual([300_000, 600_000, 1_000_000]);
    expect(summary).toEqual({ sustainableRate: 1_000_000, limitFound: false, firstFailedRate: null });
    expect(reason).toMatch(/rate limit/);
  });

  it('gives up below the minimum rate when nothing passes', () => {
    const { summary } = search(4, 0);
    expect(summary).toEqual({ sustainableRate: null, limitFound: true, firstFailedRate: expect.any(Number) });
  });
});
