/**
 * Arrival schedules for open-loop load: the intended send time of the i-th append. A segment moves its
 * rate linearly from `fromRate` to `toRate` (k6's ramping-arrival-rate); a constant rate is a segment
 * with both equal. Intended times never depend on when earlier appends finished: that is what keeps
 * coordinated omission out.
 */
export interface Segment {
  fromRate: number;
  toRate: number;
  durationMs: number;
}

export function constantSegments(rate: number, durationMs: number): Segment[] {
  return [{ fromRate: rate, toRate: rate, durationMs }];
}

/** Ramp stages (target rate, duration), starting at `startRate`. */
export function rampSegments(startRate: number, stages: { rate: number; durationMs: number }[]): Segment[] {
  let from = startRate;
  return stages.map((s) => {
    const seg = { fromRate: from, toRate: s.rate, durationMs: s.durationMs };
    from = s.rate;
    return seg;
  });
}

export function totalDurationMs(segments: Segment[]): number {
  return segments.reduce((sum, s) => sum + s.durationMs, 0);
}

/** Appends a schedule holds in total (the integral of its rate). */
export function expectedCount(segments: Segment[]): number {
  return segments.reduce((sum, s) => sum + ((s.fromRate + s.toRate) / 2) * (s.durationMs / 1000), 0);
}

/** Rate at an offset into the schedule (for the timeline's target column). */
export function rateAt(segments: Segment[], offsetMs: number): number {
  let start = 0;
  for (const s of segments) {
    if (offsetMs < start + s.durationMs) return s.fromRate + ((s.toRate - s.fromRate) * (offsetMs - start)) / s.durationMs;
    start += s.durationMs;
  }
  return 0;
}

/** Appends due in the first `offsetMs` of the schedule (the integral of the rate up to there). */
function dueBefore(segments: Segment[], offsetMs: number): number {
  let start = 0;
  let n = 0;
  for (const s of segments) {
    const tau = Math.min(Math.max(0, offsetMs - start), s.durationMs) / 1000;
    const d = s.durationMs / 1000;
    n += s.fromRate * tau + ((s.toRate - s.fromRate) * tau * tau) / (2 * d);
    start += s.durationMs;
    if (offsetMs <= start) break;
  }
  return n;
}

/**
 * How many appends have an intended offset below `offsetMs`: exactly the `i` for which
 * `new ArrivalSchedule(segments).offsetOf(i) < offsetMs` (the integral, corrected for rounding).
 */
export function countBefore(segments: Segment[], offsetMs: number): number {
  const at = (i: number): number => new ArrivalSchedule(segments).offsetOf(i);
  let count = Math.max(0, Math.ceil(dueBefore(segments, offsetMs)));
  while (count > 0 && !(at(count - 1) < offsetMs)) count -= 1;
  while (at(count) < offsetMs) count += 1;
  return count;
}

/**
 * Iterates intended offsets (ms from the schedule start) of appends 0, 1, 2, ... in order:
 * op i is due when the cumulative count N(t) = integral of the rate reaches i.
 */
export class ArrivalSchedule {
  private seg = 0;
  private segStartMs = 0;
  private countBefore = 0;

  constructor(private readonly segments: Segment[]) {}

  /** Offset of op `i` (call with increasing i), or `Infinity` when the schedule has ended. */
  offsetOf(i: number): number {
    for (;;) {
      const s = this.segments[this.seg];
      if (!s) return Number.POSITIVE_INFINITY;
      const d = s.durationMs / 1000;
      const inSeg = ((s.fromRate + s.toRate) / 2) * d;
      const n = i - this.countBefore;
      if (n < inSeg) {
        let tau: number;
        const a = (s.toRate - s.fromRate) / (2 * d);
        if (Math.abs(a) < 1e-12) tau = n / s.fromRate;
        else tau = (-s.fromRate + Math.sqrt(s.fromRate * s.fromRate + 4 * a * n)) / (2 * a);
        return this.segStartMs + tau * 1000;
      }
      this.seg += 1;
      this.segStartMs += s.durationMs;
      this.countBefore += inSeg;
    }
  }
}
