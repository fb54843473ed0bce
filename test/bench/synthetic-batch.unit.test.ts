/**
 * The synthetic workload's `--batch n`: each append carries its stream's next n versions (expected
 * versions advance by n), every event id is unique, and batch 1 is the workload as it always was, byte
 * for byte (runs stay reproducible across the change).
 */
import { describe, expect, it } from 'vitest';
import { syntheticWorkload } from '../../src/workloads/synthetic.ts';
import type { PlannedAppend } from '../../src/workloads/workload.ts';

const take = (n: number, options: Parameters<typeof syntheticWorkload.create>[0]): PlannedAppend[] => {
  const gen = syntheticWorkload.create(options);
  return Array.from({ length: n }, () => gen.next());
};

describe('synthetic --batch', () => {
  it('100 events per append, expected versions advancing by 100 per stream, ids unique', () => {
    const appends = take(6, { seed: 7, streams: 3, batch: 100, runId: 'b' } as never);
    expect(appends.map((a) => a.events.length)).toEqual([100, 100, 100, 100, 100, 100]);
    expect(appends.map((a) => a.expectedVersion)).toEqual(['no_stream', 'no_stream', 'no_stream', 100, 100, 100]);
    const ids = appends.flatMap((a) => a.events.map((e) => e.id));
    expect(new Set(ids).size).toBe(600);
    for (const e of appends.flatMap((a) => a.events)) syntheticWorkload.validate(e);
  });

  it('batch 1 is the unbatched workload byte for byte', () => {
    expect(JSON.stringify(take(50, { seed: 3, streams: 7, batch: 1, runId: 'x' } as never))).toBe(JSON.stringify(take(50, { seed: 3, streams: 7, runId: 'x' } as never)));
  });

  it('learns from the store: a conflict resets the plan to the actual version, a retried success moves it up', async () => {
    const { VersionConflictError } = await import('../../src/core/event-store.ts');
    const gen = syntheticWorkload.create({ seed: 1, streams: 1, runId: 'r' } as never);
    const first = gen.next();
    expect(first.expectedVersion).toBe('no_stream');
    const second = gen.next(); // planned at 1, another writer got there first: the stream is at 3
    gen.observe!(second, { ok: false, error: new VersionConflictError(second.stream, 1, 3) });
    expect(gen.next().expectedVersion).toBe(3);
    // The conflicted append, retried after re-reading the version, landed at 5 (an append planned at 3 is
    // in flight too): the next plan starts after the store's 5, not at the stale 4.
    gen.observe!(second, { ok: true, result: { streamVersion: 5, position: 5 } as never });
    expect(gen.next().expectedVersion).toBe(5);
    // A success below the plan does not move it back.
    gen.observe!(first, { ok: true, result: { streamVersion: 1, position: 1 } as never });
    expect(gen.next().expectedVersion).toBe(6);
  });

  it('refuses a batch outside 1-1000', () => {
    expect(() => syntheticWorkload.create({ seed: 1, batch: 0 } as never)).toThrow(/batch must be a whole number from 1 to 1000/);
    expect(() => syntheticWorkload.create({ seed: 1, batch: 1001 } as never)).toThrow(/batch/);
  });
});
