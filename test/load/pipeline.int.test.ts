/**
 * A load run with the case processors on (`processors: true`, debt-cases) reports a well-formed
 * `pipeline` block on every backend: every case the load started completed, some inside the measured
 * window, latency percentiles ordered, per-step counts that add up; the run's processor subscriptions are
 * deleted afterwards. A workload without processors is refused before anything starts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/event-store.ts';
import { backendResultSchema } from '../../src/report/load-result.ts';
import { runLoad } from '../../src/runners/load/run.ts';
import type { LoadScenario } from '../../src/runners/load/scenario.ts';
import { createStore, type BackendName } from '../../src/store/index.ts';
import { dropMemoryNamespace } from '../../src/store/memory/index.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';
import { deleteStreams } from '../jetstream/helpers.ts';
import { dropSchema } from '../postgres/helpers.ts';

const BACKENDS: { name: BackendName; cleanup: (ns: string) => Promise<unknown> }[] = [
  { name: 'memory', cleanup: async (ns) => dropMemoryNamespace(ns) },
  { name: 'postgres', cleanup: (ns) => dropSchema(ns) },
  { name: 'jetstream', cleanup: (ns) => deleteStreams(testNatsUrl(), `${ns}-`) },
];

function scenario(runId: string): LoadScenario {
  return { executor: 'constant', workload: 'debt-cases', seed: 3, runId, rate: 50, durationMs: 2000, warmupMs: 0, maxInFlight: 1000, workers: 1, drainTimeoutMs: 15_000, consumer: false, metrics: false, processors: true };
}

describe.each(BACKENDS)('load with the case processors on $name', ({ name, cleanup }) => {
  const namespace = uniqueName('pl');
  afterAll(() => cleanup(namespace));

  it('reports the pipeline: cases started and completed, cases/s in the window, ordered latency, step counts', { timeout: 40_000 }, async () => {
    const runId = uniqueName('r');
    const backendOptions = { namespace, pgUrl: testPgUrl(), natsUrl: testNatsUrl() };
    const r = await runLoad({ backend: name, backendOptions, scenario: scenario(runId) });
    backendResultSchema.parse(r);
    const p = r.pipeline!;
    expect(p).toBeTruthy();
    expect(p.casesStarted).toBe(r.totals.wholeRun.appends);
    expect(p.casesStarted).toBeGreaterThanOrEqual(90);
    expect(p.caughtUp).toBe(true);
    expect(p.casesCompleted).toBe(p.casesStarted);
    expect(p.completedInWindow).toBeGreaterThan(0);
    expect(p.casesPerSec).toBeGreaterThan(0);
    expect(p.measuredSeconds).toBeGreaterThan(1.5);
    expect(p.latency.count).toBeGreaterThan(0);
    expect(p.latency.p50).toBeLessThanOrEqual(p.latency.p90);
    expect(p.latency.p90).toBeLessThanOrEqual(p.latency.p99);
    expect(p.latency.p99).toBeLessThanOrEqual(p.latency.max);
    expect(p.latency.p50).toBeGreaterThan(0);
    expect(p.steps.analysis.applied).toBe(p.casesStarted);
    expect(p.steps.decision.applied + p.steps.escalation.applied).toBe(p.casesStarted);
    expect(p.steps.completion.applied).toBe(p.casesCompleted);
    // Each completed case was delivered to each processor at least for the step it handles.
    expect(p.deliveries).toBeGreaterThanOrEqual(3 * p.casesCompleted);

    // The run's processor subscriptions are gone: nothing left to resume.
    if (name !== 'memory') {
      const store = await createStore(name, backendOptions);
      try {
        for (const step of ['intake', 'analysis', 'workflow']) {
          expect(await store.deleteSubscription(`pipe_${runId}-${step}`, { category: 'case' })).toBe(false);
        }
      } finally {
        await store.close();
      }
    }
  });
});

describe('load with processors on a workload that has none', () => {
  it('is refused with a ConfigError before anything starts', async () => {
    const s: LoadScenario = { ...scenario(uniqueName('r')), workload: 'synthetic' };
    await expect(runLoad({ backend: 'memory', backendOptions: { namespace: uniqueName('pl') }, scenario: s })).rejects.toThrow(ConfigError);
  });
});
