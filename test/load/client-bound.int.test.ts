/**
 * Client-bound detection: a run whose load side is the bottleneck is marked client-bound, an ordinary
 * run is not, and every result carries each load thread's event-loop utilisation and CPU.
 *
 * The bottleneck is made by asking the memory backend (no server: an append costs almost nothing) for
 * far more than one Node thread can generate and send; the load thread saturates, sends leave late and
 * are dropped. In the servers project because it asserts wall-clock behaviour (as load-accuracy does).
 */
import { describe, expect, it } from 'vitest';
import { backendResultSchema } from '../../src/report/load-result.ts';
import { runLoad } from '../../src/runners/load/run.ts';
import type { LoadScenario } from '../../src/runners/load/scenario.ts';
import { testPgUrl, uniqueName } from '../support/servers.ts';

function scenario(rate: number, durationMs: number, workers = 1): LoadScenario {
  return { executor: 'constant', workload: 'synthetic', seed: 5, runId: uniqueName('r'), rate, durationMs, warmupMs: 0, maxInFlight: 1000, workers, drainTimeoutMs: 2000, consumer: false, metrics: false };
}

describe('client-bound detection', () => {
  it('a run the load thread cannot drive is client-bound; a low-rate run is not', { timeout: 30_000 }, async () => {
    const flooded = await runLoad({ backend: 'memory', backendOptions: { namespace: uniqueName('cb') }, scenario: scenario(200_000, 2000) });
    backendResultSchema.parse(flooded);
    expect(flooded.clientBound?.bound).toBe(true);
    expect(flooded.clientBound?.perWorker).toHaveLength(1);
    expect(flooded.clientBound?.perWorker[0]).toMatchObject({ thread: 'main', saturated: true });
    expect(flooded.clientBound?.reason).toMatch(/event loop \d+ % busy/);
    expect(flooded.throughput.appendsPerSec).toBeLessThan(0.95 * 200_000);

    const calm = await runLoad({ backend: 'memory', backendOptions: { namespace: uniqueName('cb') }, scenario: scenario(50, 2000) });
    expect(calm.clientBound?.bound).toBe(false);
    expect(calm.clientBound?.reason).toMatch(/no load thread saturated/);
    expect(calm.clientBound?.perWorker[0]!.elu).toBeLessThan(0.9);
    expect(calm.clientBound?.perWorker[0]!.seconds).toBeGreaterThan(1.5);
  });

  it('with worker threads every worker reports its own thread, and pregenerated appends are recorded', { timeout: 40_000 }, async () => {
    const r = await runLoad({
      backend: 'postgres',
      backendOptions: { namespace: uniqueName('cb'), pgUrl: testPgUrl() },
      scenario: scenario(100, 2000, 2),
      pregenerate: true,
    });
    backendResultSchema.parse(r);
    expect(r.clientBound?.bound).toBe(false);
    expect(r.clientBound?.perWorker.map((w) => [w.worker, w.thread])).toEqual([
      [0, 'worker'],
      [1, 'worker'],
    ]);
    for (const w of r.clientBound!.perWorker) expect(w.cpuCores).not.toBeNull();
    // 100/s for 2 s over 2 workers: each side built its share plus the slack, none generated live.
    expect(r.pregenerated).toMatchObject({ generatedLive: 0 });
    expect(r.pregenerated!.appends).toBeGreaterThanOrEqual(200);
    expect(r.pregenerated!.bytes).toBeGreaterThan(200 * 500);
    expect(r.totals.sent).toBe(200);
  });
});
