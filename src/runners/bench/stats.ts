/**
 * Numbers over repeated runs (`eventbench bench --runs N`): the median and the min-max spread of each,
 * and the verdict on a difference between backends: a difference whose ranges overlap lies inside the
 * run-to-run noise and is called `noise`, never a win.
 */
import type { MetricStat, Spread } from '../../report/load-result.ts';

const round = (v: number): number => (Math.abs(v) >= 100 ? Math.round(v * 10) / 10 : Math.round(v * 10_000) / 10_000);

/** Median (the mean of the middle two for an even count), min and max; values kept in run order. */
export function spread(values: number[]): Spread {
  if (values.length === 0) throw new Error('spread of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median: round(median), min: round(sorted[0]!), max: round(sorted[sorted.length - 1]!), values: values.map(round) };
}

/** True when the two ranges share a point: the difference between them is inside the spread. */
export function overlaps(a: Spread, b: Spread): boolean {
  return a.min <= b.max && b.min <= a.max;
}

/**
 * Between backends: the better one's name when its range is clear of every other's, `noise` when the
 * best and the runner-up overlap, null when there is nothing to judge (one backend, or one run: a
 * single value has no spread, so no difference can be told from noise).
 */
export function verdict(stores: Record<string, Spread>, better: MetricStat['better']): string | null {
  const entries = Object.entries(stores);
  if (entries.length < 2 || entries.some(([, s]) => s.values.length < 2)) return null;
  const sign = better === 'higher' ? -1 : 1;
  entries.sort(([, a], [, b]) => sign * (a.median - b.median));
  const [best, runnerUp] = entries;
  return overlaps(best![1], runnerUp![1]) ? 'noise' : best![0];
}
