/**
 * `projection-rebuild`: after a load run of debt cases, the time to rebuild the case read model
 * (src/workloads/debt-cases/projection.ts) from position 0: every case event read back and applied, as a
 * service does after a schema change or with a new read model. Only the debt-cases workload has one.
 */
import type { EventStore } from '../../core/event-store.ts';
import { CaseProjection } from '../../workloads/debt-cases/index.ts';
import type { Clock } from '../load/clock.ts';
import { readFromStart, type ReplayResult } from './catch-up.ts';

export const PROJECTION_WORKLOAD = 'debt-cases';

export async function measureProjectionRebuild(store: EventStore, options: { category: string; expected: number; clock: Clock; signal?: AbortSignal }): Promise<ReplayResult> {
  const projection = new CaseProjection();
  const read = await readFromStart(store, { ...options, kind: 'projection-rebuild', onPage: (events) => events.forEach((e) => projection.apply(e)) });
  return { ...read, cases: projection.summary().cases };
}
