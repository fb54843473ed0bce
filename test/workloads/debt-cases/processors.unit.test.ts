/**
 * The processors and the read model on the in-process memory backend (no servers): fast checks of the
 * idempotency mechanisms one by one. The end-to-end proof on PostgreSQL and JetStream is
 * test/workloads/debt-cases.int.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EventStore, RecordedEvent } from '../../../src/core/event-store.ts';
import { createStore } from '../../../src/store/index.ts';
import { dropMemoryNamespace } from '../../../src/store/memory/index.ts';
import { Random } from '../../../src/core/random.ts';
import { runGenerate } from '../../../src/runners/generate.ts';
import { CaseSimulator, intakeAppend } from '../../../src/workloads/debt-cases/generator.ts';
import { applyEffect, startCaseProcessors } from '../../../src/workloads/debt-cases/processors.ts';
import { CaseProjection, replayProjection } from '../../../src/workloads/debt-cases/projection.ts';
import { CASE_CATEGORY } from '../../../src/workloads/debt-cases/events.ts';

let store: EventStore | undefined;
let namespace = '';
const open = async () => {
  namespace = `unit_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  store = await createStore('memory', { namespace });
  return store;
};
afterEach(async () => {
  await store?.close();
  dropMemoryNamespace(namespace);
});

const waitFor = async (cond: () => boolean | Promise<boolean>, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('case processors on memory', () => {
  it('a redelivered cause appends the same derived id: duplicate, not a second effect', async () => {
    const s = await open();
    const a = intakeAppend(new CaseSimulator({ seed: 1 }).next());
    await s.appendToStream(a.stream, a.events, { expectedVersion: a.expectedVersion });
    const [cause] = await s.readStream(a.stream);
    const next = { type: 'case.analysis', data: { x: 1 }, timestamp: '2025-01-06T10:00:00.000Z' };
    expect((await applyEffect(s, cause!, 'analysis', next)).result).toBe('applied');
    expect((await applyEffect(s, cause!, 'analysis', next)).result).toBe('duplicate');
    // Another writer got there first (natural key: one case.analysis per case): superseded.
    const other = await s.readStream(a.stream);
    expect(other).toHaveLength(2);
    const fake: RecordedEvent = { ...cause!, id: 'another-cause' };
    expect((await applyEffect(s, fake, 'analysis', next)).result).toBe('superseded');
    expect(await s.readStream(a.stream)).toHaveLength(2);
  });

  it('300 cases with failures after every effect at 30 % and 3 competing instances: each effect once', async () => {
    const s = await open();
    const r = await runGenerate(s, {
      workload: 'debt-cases',
      count: 300,
      seed: 5,
      process: true,
      processors: { instances: 3, failureRate: 0.3, subscription: { backoffMs: [1, 5], maxDeliver: 20 } },
    });
    const p = r.processing!;
    expect(p.completed).toBe(300);
    expect(p.effects.analysis.applied).toBe(300);
    expect(p.effects.decision.applied).toBe(300);
    expect(p.effects.completion.applied).toBe(300);
    expect(p.effects.analysis.duplicate + p.effects.decision.duplicate + p.effects.completion.duplicate).toBeGreaterThan(50);
    expect(p.deadLetters).toEqual([]);
    expect(p.replayMatches).toBe(true);
    expect((await s.readAll({ category: CASE_CATEGORY })).length).toBe(1200);
  });

  it('failures before the effect end in the dead letters with the reason, and the case stays open', async () => {
    const s = await open();
    const a = intakeAppend(new CaseSimulator({ seed: 2 }).next());
    await s.appendToStream(a.stream, a.events, { expectedVersion: a.expectedVersion });
    const procs = await startCaseProcessors(s, { failureRate: 1, failurePoint: 'before', subscription: { backoffMs: [1], maxDeliver: 3 } });
    try {
      await waitFor(async () => (await procs.deadLetters()).length === 1);
      const [dl] = await procs.deadLetters();
      expect(dl!.deliveries).toBe(3);
      expect(dl!.reason).toMatch(/injected failure before analysis/);
      expect(await s.readStream(a.stream)).toHaveLength(1);
    } finally {
      await procs.close();
    }
  });

  it('a decision that misses the deadline is escalated by the saga; the late decision loses', async () => {
    const s = await open();
    const a = intakeAppend(new CaseSimulator({ seed: 3 }).next());
    await s.appendToStream(a.stream, a.events, { expectedVersion: a.expectedVersion });
    const procs = await startCaseProcessors(s, { decisionDeadlineMs: 50, manualReviewRate: 1, manualReviewDelayMs: 300 });
    try {
      await waitFor(async () => (await procs.lag()) === 0 && procs.stats.effects.completion.applied === 1);
      const events = await s.readStream(a.stream);
      expect(events.map((e) => e.type)).toEqual(['case.intake', 'case.analysis', 'case.decision', 'case.completed']);
      expect(events[2]!.data).toMatchObject({ escalated: true, decided_by: expect.stringMatching(/^cw_\d{4}$/) });
      expect(events[3]!.data).toMatchObject({ outcome: 'escalated' });
      expect(procs.stats.effects.escalation.applied).toBe(1);
      expect(procs.stats.effects.decision.superseded).toBe(1);
    } finally {
      await procs.close();
    }
  });

  it('handle cases side by side and take earlier case events from what was delivered, not from reads', async () => {
    const s = await open();
    // Count reads, and appends running at once (each follow-up append is held 5 ms).
    let reads = 0;
    let appending = 0;
    let maxAppending = 0;
    const counted: EventStore = new Proxy(s, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (prop === 'readStream') return (...args: Parameters<EventStore['readStream']>) => (reads++, target.readStream(...args));
        if (prop === 'appendToStream') {
          return async (...args: Parameters<EventStore['appendToStream']>) => {
            maxAppending = Math.max(maxAppending, ++appending);
            try {
              await new Promise((r) => setTimeout(r, 5));
              return await target.appendToStream(...args);
            } finally {
              appending--;
            }
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const sim = new CaseSimulator({ seed: 9 });
    for (let i = 0; i < 40; i++) {
      const a = intakeAppend(sim.next());
      await s.appendToStream(a.stream, a.events, { expectedVersion: a.expectedVersion });
    }
    const procs = await startCaseProcessors(counted, {});
    try {
      await waitFor(() => procs.stats.effects.completion.applied === 40);
      expect(maxAppending, 'one instance of each processor still appends for several cases at once').toBeGreaterThan(3);
      expect(reads, 'the analysis and workflow steps found the intake and analysis among their deliveries').toBe(0);
    } finally {
      await procs.close();
    }
  });
});

describe('the read model', () => {
  it('does not depend on delivery order or duplicates: shuffled and redelivered events give the same summary', async () => {
    const s = await open();
    await runGenerate(s, { workload: 'debt-cases', count: 100, seed: 8, process: true });
    const events = await s.readAll({ category: CASE_CATEGORY });
    const inOrder = (await replayProjection(s)).summary();
    const rng = new Random(1);
    const shuffled = [...events, ...events.slice(0, 50)];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const p = new CaseProjection();
    for (const e of shuffled) p.apply(e);
    expect(p.summary()).toEqual(inOrder);
    expect(inOrder.byStatus.completed).toBe(100);
    expect(p.ignored).toBe(50);
  });
});
