/**
 * Result assembly: the timeline has a row for every second of the measured window, also for a second in
 * which nothing was acknowledged (a closed loop against a stopped server), so the stall is visible.
 */
import { describe, expect, it } from 'vitest';
import { ERROR_KINDS, type ErrorKind } from '../../src/core/metrics.ts';
import { encodeHistogram, newHistogram, recordMs } from '../../src/report/histogram.ts';
import { assembleBackendResult, type MeasuredRun } from '../../src/report/result-assembly.ts';

function secondWith(second: number, appends: number): MeasuredRun['measured']['timeline'][number] {
  const h = newHistogram();
  for (let i = 0; i < appends; i++) recordMs(h, 2);
  return { second, appends, events: appends, errors: 0, dropped: 0, latency: encodeHistogram(h) };
}

function run(timeline: MeasuredRun['measured']['timeline'], measuredMs: number): MeasuredRun {
  const empty = encodeHistogram(newHistogram());
  const errors = Object.fromEntries(ERROR_KINDS.map((k) => [k, 0])) as Record<ErrorKind, number>;
  const appends = timeline.reduce((a, t) => a + t.appends, 0);
  return {
    backend: 'memory',
    capabilities: {} as MeasuredRun['capabilities'],
    interrupted: false,
    measured: { sent: appends, appends, events: appends, eventsAckedInWindow: appends, errors, dropped: 0, late: 0, unfinished: 0, latency: empty, serviceTime: empty, sendDelay: empty, timeline },
    measuredMs,
    target: null,
    wholeRun: { sent: appends, appends, events: appends, errors: 0, dropped: 0 },
    lateThresholdMs: 1000,
    lagSamples: new Map([[2, 7]]),
    consumer: null,
    storage: null as unknown as MeasuredRun['storage'],
    resources: null as unknown as MeasuredRun['resources'],
    maxSearch: null,
  };
}

describe('assembleBackendResult timeline', () => {
  it('has a zero row for a second in which nothing was acknowledged, and one row per second of the window', () => {
    const result = assembleBackendResult(run([secondWith(0, 5), secondWith(1, 6), secondWith(3, 4)], 4000));
    expect(result.timeline.map((t) => t.second)).toEqual([0, 1, 2, 3]);
    expect(result.timeline.map((t) => t.appends)).toEqual([5, 6, 0, 4]);
    expect(result.timeline[2]).toMatchObject({ events: 0, errors: 0, dropped: 0, p50: 0, p99: 0, max: 0, lag: 7 });
    expect(result.timeline[1]!.p99).toBeGreaterThan(0);
  });

  it('leaves out what was recorded after the window (acks of the drain)', () => {
    const result = assembleBackendResult(run([secondWith(0, 5), secondWith(2, 3)], 2000));
    expect(result.timeline.map((t) => t.appends)).toEqual([5, 0]);
  });
});
