/**
 * HdrHistogram helpers, the results format of every latency (the `histograms` of result.json). Latencies are recorded in microseconds (integers, 3 significant digits, auto
 * resizing, so a paused server's 10 s latency is as exact as a 200 µs one) and reported in ms.
 * Histograms cross worker threads as compressed base64 and merge exactly with `add`.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

export type { Histogram };

export function newHistogram(): Histogram {
  return build({ bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3, useWebAssembly: false });
}

/** Records a latency given in ms (float); negative values (clock noise) count as 0. */
export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(ms > 0 ? Math.round(ms * 1000) : 0);
}

export function encodeHistogram(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  const decoded = decodeFromCompressedBase64(encoded, 32, false);
  const h = newHistogram();
  h.add(decoded);
  return h;
}

export function mergeEncoded(encoded: Iterable<string>): Histogram {
  const h = newHistogram();
  for (const e of encoded) h.add(decodeFromCompressedBase64(e, 32, false));
  return h;
}

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

const ms = (us: number): number => Math.round(us) / 1000;

/**
 * Percentiles in ms. An empty histogram reports zeros with count 0 (so the count says "not measured").
 * Every value is a bucket's highest equivalent value (3 significant digits), max included (percentile
 * 100, not `maxValue`: the same value before and after an encode or a merge), and no percentile is
 * reported above max or above the next higher percentile: a table never shows p99.9 > max.
 */
export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  const max = ms(h.getValueAtPercentile(100));
  const p999 = Math.min(max, ms(h.getValueAtPercentile(99.9)));
  const p99 = Math.min(p999, ms(h.getValueAtPercentile(99)));
  const p90 = Math.min(p99, ms(h.getValueAtPercentile(90)));
  const p50 = Math.min(p90, ms(h.getValueAtPercentile(50)));
  return { count: h.totalCount, mean: Math.min(max, Math.round(h.mean) / 1000), p50, p90, p99, p999, max };
}
