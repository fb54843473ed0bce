/**
 * `--replay`: after the load, everything the run stored is read back from position 0 (catch-up) or the
 * debt-case read model is rebuilt from it (projection-rebuild), timed, and recorded in the result.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/event-store.ts';
import { backendResultSchema } from '../../src/report/load-result.ts';
import { runLoad } from '../../src/runners/load/run.ts';
import type { LoadScenario } from '../../src/runners/load/scenario.ts';
import type { WorkloadName } from '../../src/workloads/index.ts';
import { testPgUrl, uniqueName } from '../support/servers.ts';

function scenario(workload: WorkloadName, rate: number): LoadScenario {
  return { executor: 'constant', workload, seed: 2, runId: uniqueName('r'), rate, durationMs: 1000, warmupMs: 0, maxInFlight: 1000, workers: 1, drainTimeoutMs: 5000, consumer: false, metrics: false };
}

describe('--replay', () => {
  it('catch-up reads back every event the run stored, on PostgreSQL', { timeout: 30_000 }, async () => {
    const r = await runLoad({ backend: 'postgres', backendOptions: { namespace: uniqueName('rp'), pgUrl: testPgUrl() }, scenario: scenario('synthetic', 300), replay: 'catch-up' });
    backendResultSchema.parse(r);
    expect(r.replay).toMatchObject({ kind: 'catch-up', events: 300, expected: 300, complete: true, cases: null, pageSize: 1000 });
    expect(r.replay!.pages).toBe(1);
    expect(r.replay!.eventsPerSec).toBeGreaterThan(0);
    expect(r.replay!.pageLatency.count).toBe(1);
  });

  it('projection-rebuild rebuilds the case read model from position 0', { timeout: 30_000 }, async () => {
    const r = await runLoad({ backend: 'memory', backendOptions: { namespace: uniqueName('rp') }, scenario: scenario('debt-cases', 1500), replay: 'projection-rebuild' });
    expect(r.replay).toMatchObject({ kind: 'projection-rebuild', events: 1500, complete: true, cases: 1500, pages: 2 });
  });

  it('without --replay there is no replay block; projection-rebuild needs debt cases', async () => {
    await expect(runLoad({ backend: 'memory', backendOptions: { namespace: uniqueName('rp') }, scenario: scenario('synthetic', 10), replay: 'projection-rebuild' })).rejects.toThrow(ConfigError);
    const r = await runLoad({ backend: 'memory', backendOptions: { namespace: uniqueName('rp') }, scenario: scenario('synthetic', 10) });
    expect(r.replay).toBeNull();
  });
});
