/**
 * Each bench round has a namespace of its own (src/runners/bench/rounds.ts): adapter and baseline, run
 * after run, backend after backend, so a replay or a storage count covers one round's events only.
 */
import { describe, expect, it } from 'vitest';
import { planRounds } from '../../src/runners/bench/rounds.ts';

describe('bench round namespaces', () => {
  it('no two rounds share one; each derives from the run namespace', () => {
    const plan = planRounds(['postgres', 'jetstream'], { runs: 2, baseline: true }, 'rid', 'ns');
    expect(plan.map((r) => `${r.store}:${r.namespace}`)).toEqual([
      'postgres:ns_1a0',
      'raw-postgres:ns_1r0',
      'jetstream:ns_1a1',
      'raw-jetstream:ns_1r1',
      'postgres:ns_2a0',
      'raw-postgres:ns_2r0',
      'jetstream:ns_2a1',
      'raw-jetstream:ns_2r1',
    ]);
  });

  it('stays a valid schema / stream prefix for the longest --namespace and --runs', () => {
    const longest = `a${'b'.repeat(40)}`;
    const plan = planRounds(['postgres', 'jetstream'], { runs: 20, baseline: true }, 'rid', longest);
    for (const r of plan) expect(r.namespace).toMatch(/^[A-Za-z][A-Za-z0-9_]{0,62}$/);
    expect(new Set(plan.map((r) => r.namespace)).size).toBe(plan.length);
  });
});
