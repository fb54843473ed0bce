/** The client-bound rule (resources.ts judgeClientBound) on made-up usage: each branch of the rule. */
import { describe, expect, it } from 'vitest';
import { busiestPhase, judgeClientBound } from '../../src/runners/load/resources.ts';

const thread = (elu: number, cpuCores: number | null, worker = 0) => ({ worker, thread: 'worker' as const, elu, cpuCores, cpuSeconds: cpuCores, seconds: 1 });
const onTime = { targetPerSec: 1000, appendsPerSec: 1000, dropped: 0, sendDelayP99Ms: 1, lateThresholdMs: 10 };

describe('judgeClientBound', () => {
  it('no saturated thread: not bound, whatever the symptoms (the backend was the limit)', () => {
    const v = judgeClientBound({ executor: 'constant', perWorker: [thread(0.5, 0.4)], ...onTime, appendsPerSec: 200, dropped: 50 });
    expect(v.bound).toBe(false);
    expect(v.reason).toMatch(/no load thread saturated/);
  });

  it('a saturated thread that met its schedule on time kept up: not bound', () => {
    const v = judgeClientBound({ executor: 'constant', perWorker: [thread(0.95, 0.5)], ...onTime });
    expect(v.bound).toBe(false);
    expect(v.perWorker[0]!.saturated).toBe(true);
    expect(v.reason).toMatch(/kept up/);
  });

  it.each([
    ['the rate fell short', { appendsPerSec: 800 }, /target rate was not reached \(800 of 1000/],
    ['sends were dropped', { dropped: 3 }, /3 due sends were dropped/],
    ['sends left late', { sendDelayP99Ms: 40 }, /send delay p99 40\.0 ms > 10 ms/],
  ])('saturated (by CPU alone) and %s: bound', (_, change, reason) => {
    const v = judgeClientBound({ executor: 'ramp', perWorker: [thread(0.3, 0.2, 0), thread(0.5, 0.95, 1)], ...onTime, ...change });
    expect(v.bound).toBe(true);
    expect(v.reason).toMatch(/worker 1 event loop 50 % busy, 0\.95 cores/);
    expect(v.reason).toMatch(reason);
  });

  it.each(['closed', 'max'])('%s: a saturated thread alone is bound (it runs as fast as the load side lets it)', (executor) => {
    expect(judgeClientBound({ executor, perWorker: [thread(0.92, null)], ...onTime, targetPerSec: null }).bound).toBe(true);
    expect(judgeClientBound({ executor, perWorker: [thread(0.6, null)], ...onTime, targetPerSec: null }).bound).toBe(false);
  });

  it('the busiest phase of at least half a second counts (a max search: its busiest step)', () => {
    const p = (elu: number, seconds: number) => ({ elu, cpuCores: 0.1, cpuSeconds: 0.1, seconds });
    expect(busiestPhase([p(0.2, 5), p(0.97, 0.1), p(0.6, 2)])?.elu).toBe(0.6);
    expect(busiestPhase([p(0.97, 0.1)])?.elu).toBe(0.97);
    expect(busiestPhase([])).toBeNull();
  });
});
