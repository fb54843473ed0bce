/**
 * The coordinated-omission accounting, on a virtual clock (deterministic, no servers): a store that
 * stops answering for 1 s must show up as ~1 s latencies in open loop, and almost vanish from the
 * percentiles in closed loop, which is exactly why open loop is the default.
 */
import { describe, expect, it } from 'vitest';
import type { AppendResult, EventStore } from '../../src/core/event-store.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import type { PlannedAppend } from '../../src/workloads/workload.ts';
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

describe('open loop keeps each stream in order', () => {
  /**
   * 20 streams, each written in turn with the version the previous append leaves (as the invoices and
   * domain-events generators plan them), at 200/s against a memory store on a virtual clock. Every 7th
   * append follows the one before it on the same stream 5 ms later; that one takes 30 ms to be stored,
   * every other append 2 ms. Sent at its intended time, the follow-up would reach the store first and
   * fail as a version conflict the store did not cause.
   */
  async function ordered() {
    const clock = createVirtualClock();
    const start = clock.now();
    const memory = await createMemoryStore({ namespace: `ordered-${process.pid}-${Date.now()}` });
    const store = {
      async appendToStream(...args: Parameters<EventStore['appendToStream']>): Promise<AppendResult> {
        const k = (args[1][0]!.data as { k: number }).k;
        await clock.sleep(k % 7 === 5 ? 30 : 2);
        return memory.appendToStream(...args);
      },
    } as unknown as EventStore;
    const versions = new Map<string, number>();
    let n = 0;
    const generator = {
      next(): PlannedAppend {
        const k = n++;
        const stream = `s-${(k % 7 === 6 ? k - 1 : k) % 20}`;
        const version = versions.get(stream) ?? 0;
        versions.set(stream, version + 1);
        return { stream, events: [{ id: `evt-${k}`, type: 'test.happened', data: { k } }], expectedVersion: version === 0 ? 'no_stream' : version };
      },
    };
    const exec = new LoadExecutor(store, generator, createNoopMetrics(), clock);
    const spec: PhaseSpec = {
      kind: 'open',
      startAt: start,
      durationMs: 5000,
      segments: constantSegments(200, 5000),
      windows: [{ name: 'measure', endOffsetMs: Number.MAX_SAFE_INTEGER }],
      maxInFlight: 10_000,
      drainTimeoutMs: 5000,
    };
    const r = (await exec.runPhase(spec, new AbortController().signal)).measure!;
    await memory.close();
    return { r, latency: summarize(decodeHistogram(r.latency)) };
  }

  it('sends a follow-up only after the append in flight to its stream has its outcome: no conflicts the store did not cause', async () => {
    const { r, latency } = await ordered();
    expect(r.sent).toBe(1000);
    expect(r.errors).toMatchObject({ conflict: 0, other: 0 });
    expect(r.appends).toBe(1000);
    // The wait is part of what the caller saw: a follow-up due 5 ms after a 30 ms append waits ~25 ms.
    expect(latency.max).toBeGreaterThanOrEqual(26);
    expect(latency.p50).toBeLessThan(5);
  });
});
