/**
 * The coordinated-omission accounting, on a virtual clock (deterministic, no servers): a store that
 * stops answering for 1 s must show up as ~1 s latencies in open loop, and almost vanish from the
 * percentiles in closed loop, which is exactly why open loop is the default.
 */
import { describe, expect, it } from 'vitest';
import type { AppendResult, EventStore } from '../../src/core/event-store.ts';
import { createNoopMetrics } from '../../src/core/metrics.ts';
import { createVirtualClock, type Clock } from '../../src/runners/load/clock.ts';
import { LoadExecutor, type PhaseSpec } from '../../src/runners/load/executor.ts';
import { decodeHistogram, summarize } from '../../src/report/histogram.ts';
import { constantSegments } from '../../src/runners/load/schedule.ts';
import { syntheticWorkload } from '../../src/workloads/synthetic.ts';

/** A store whose appends take 1 ms of virtual time, and hang while `stalled` (a SIGSTOPped server). */
function stallingStore(clock: Clock, stall: { from: number; to: number }): EventStore {
  let version = 0;
  const store = {
    async appendToStream(): Promise<AppendResult> {
      await clock.sleep(1);
      const now = clock.now();
      if (now >= stall.from && now < stall.to) await clock.sleep(stall.to - now);
      version += 1;
      return { streamVersion: 1, positions: [version], duplicate: false };
    },
  };
  return store as unknown as EventStore;
}

async function run(kind: 'open' | 'closed', maxInFlight = 10_000) {
  const clock = createVirtualClock();
  const start = clock.now();
  const store = stallingStore(clock, { from: start + 4000, to: start + 5000 });
  const exec = new LoadExecutor(store, syntheticWorkload.create({ seed: 1 }), createNoopMetrics(), clock);
  const spec: PhaseSpec = {
    kind,
    startAt: start,
    durationMs: 10_000,
    windows: [{ name: 'measure', endOffsetMs: Number.MAX_SAFE_INTEGER }],
    maxInFlight,
    drainTimeoutMs: 5000,
    ...(kind === 'open' ? { segments: constantSegments(200, 10_000) } : { writers: 2 }),
  };
  const r = (await exec.runPhase(spec, new AbortController().signal)).measure!;
  return { r, latency: summarize(decodeHistogram(r.latency)), service: summarize(decodeHistogram(r.serviceTime)) };
}

describe('coordinated omission (virtual clock)', () => {
  it('open loop measures from the intended send time: a 1 s stall shows in p99', async () => {
    const open = await run('open');
    expect(open.r.appends).toBe(2000);
    expect(open.latency.p99).toBeGreaterThan(900);
    expect(open.latency.max).toBeGreaterThanOrEqual(999);
    expect(open.r.errors).toMatchObject({ conflict: 0, other: 0 });
  });

  it('closed loop hides the same stall from its percentiles (only max sees it)', async () => {
    const open = await run('open');
    const closed = await run('closed');
    expect(closed.latency.max).toBeGreaterThan(900);
    expect(closed.latency.p99).toBeLessThan(10);
    expect(open.latency.p99).toBeGreaterThan(closed.latency.p99 * 50);
  });

  it('counts dropped sends when the in-flight limit is reached, and never sends them', async () => {
    const limited = await run('open', 50);
    // 200/s for 1 s of stall: ~200 due, 50 allowed in flight, the rest dropped.
    expect(limited.r.dropped).toBeGreaterThan(100);
    expect(limited.r.sent + limited.r.dropped).toBe(2000);
    expect(limited.r.appends).toBe(limited.r.sent);
  });
});
