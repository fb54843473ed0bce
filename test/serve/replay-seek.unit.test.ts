/**
 * The replay's seek by time (src/runners/serve/replay.ts `pageAt`) over the in-process store: it starts at
 * the first event, in the source's order, whose timestamp is at or after the time, with the read model
 * of every event before it applied; writers' timestamps need not grow with the position (so no binary
 * search: an older timestamp after a newer one is passed over, not jumped to); a time after every event
 * gives an empty page; a stream seeks by version the same way.
 */
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/core/event-store.ts';
import { Replayer } from '../../src/runners/serve/replay.ts';
import { createStore } from '../../src/store/index.ts';

const at = (minute: number) => `2026-12-04T10:${String(minute).padStart(2, '0')}:00.000Z`;
const ev = (id: string, type: string, minute: number, data: Record<string, unknown> = {}): NewEvent => ({ id, type, timestamp: at(minute), data: { case_id: 'c1', ...data } });

describe('Replayer.pageAt', () => {
  it('starts at the first event at or after a time, with the model of what came before', async () => {
    const store = await createStore('memory', {});
    await store.init();
    try {
      // Minutes in position order: 1, 5, 3, 7 (the third was written with an older time than the second).
      await store.appendToStream('case-c1', [ev('a', 'case.intake', 1, { debt_amount: 100, priority: 'normal' })], { expectedVersion: 'no_stream' });
      await store.appendToStream('case-c1', [ev('b', 'case.analysis', 5, { estimated_savings: 10 })], { expectedVersion: 1 });
      await store.appendToStream('case-c1', [ev('c', 'case.decision', 3, { decision: 'forgive', escalated: false })], { expectedVersion: 2 });
      await store.appendToStream('case-c1', [ev('d', 'case.completed', 7, { outcome: 'resolved', total_savings: 10, duration_seconds: 60 })], { expectedVersion: 3 });
      const all = (await new Replayer(store).page({ category: 'case' }, 0, 10)).steps;
      const replayer = new Replayer(store);

      // 10:03: the first event at or after it is the second (10:05), not the third (10:03 itself, later in order).
      const p = await replayer.pageAt({ category: 'case' }, Date.parse(at(3)), 2);
      expect(p.seek).toEqual({ at: at(3), position: all[1]!.position });
      expect(p.steps.map((s) => s.type)).toEqual(['case.analysis', 'case.decision']);
      expect(p.steps[0]!.readModel).toEqual(all[1]!.readModel);
      // The next page by position continues the model built by the scan.
      const next = await replayer.page({ category: 'case' }, p.next, 10);
      expect(next.steps.map((s) => s.readModel)).toEqual([all[3]!.readModel]);

      expect((await replayer.pageAt({ category: 'case' }, Date.parse(at(0)), 1)).steps[0]!.position).toBe(all[0]!.position);
      expect(await replayer.pageAt({ category: 'case' }, Date.parse(at(8)), 5)).toMatchObject({ steps: [], done: true, next: all[3]!.position, seek: { position: null } });

      const inStream = await replayer.pageAt({ stream: 'case-c1' }, Date.parse(at(6)), 5);
      expect(inStream.seek!.position).toBe(4);
      expect(inStream.steps.map((s) => [s.version, s.readModel.events])).toEqual([[4, 4]]);
      expect(inStream.steps[0]!.readModel.cases!.byStatus.completed).toBe(1);
    } finally {
      await store.close();
    }
  });
});
