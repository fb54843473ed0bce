/**
 * The CQRS read model of the debt cases: cases by status, decision, outcome and priority, and savings
 * totals. It is built either live (a durable subscription) or by replaying the `case` category from
 * position 0; both give the same summary, because:
 * - each case keeps at most one fact per event type (the first seen; redeliveries are ignored), so the
 *   result does not depend on delivery order or on at-least-once duplicates;
 * - money is summed in integer cents, so the totals do not depend on the order of additions.
 */
import type { EventStore, RecordedEvent, Subscription, SubscriptionOptions } from '../../core/event-store.ts';
import {
  CASE_CATEGORY,
  CASE_EVENT_TYPES,
  DECISION_VALUES,
  OUTCOME_VALUES,
  PRIORITY_VALUES,
  type CaseAnalysis,
  type CaseCompleted,
  type CaseDecision,
  type CaseIntake,
  type Decision,
  type Outcome,
  type Priority,
} from './events.ts';

export const CASE_STATUSES = ['intake', 'analysed', 'decided', 'completed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

interface CaseRecord {
  debtCents?: number;
  priority?: Priority;
  estimatedSavingsCents?: number;
  decision?: Decision;
  escalated?: boolean;
  outcome?: Outcome;
  totalSavingsCents?: number;
  durationSeconds?: number;
}

export interface CaseSummary {
  cases: number;
  byStatus: Record<CaseStatus, number>;
  byDecision: Record<Decision, number>;
  byOutcome: Record<Outcome, number>;
  byPriority: Record<Priority, number>;
  escalated: number;
  /** Euros, from integer cents. */
  totalDebt: number;
  estimatedSavings: number;
  realisedSavings: number;
  /** Mean simulated case duration of completed cases, days (2 decimals). */
  meanDurationDays: number;
}

const cents = (euros: number): number => Math.round(euros * 100);
const zeros = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

export class CaseProjection {
  private readonly cases = new Map<string, CaseRecord>();
  /** Events applied (first sight of a case fact) and ignored (redeliveries, other types). */
  applied = 0;
  ignored = 0;

  private record(caseId: string): CaseRecord {
    let r = this.cases.get(caseId);
    if (!r) {
      r = {};
      this.cases.set(caseId, r);
    }
    return r;
  }

  apply(event: RecordedEvent): void {
    const caseId = (event.data as { case_id?: unknown } | null)?.case_id;
    if (typeof caseId !== 'string') {
      this.ignored++;
      return;
    }
    const r = this.record(caseId);
    switch (event.type) {
      case CASE_EVENT_TYPES.intake: {
        if (r.debtCents !== undefined) break;
        const d = event.data as CaseIntake;
        r.debtCents = cents(d.debt_amount);
        r.priority = d.priority;
        this.applied++;
        return;
      }
      case CASE_EVENT_TYPES.analysis: {
        if (r.estimatedSavingsCents !== undefined) break;
        r.estimatedSavingsCents = cents((event.data as CaseAnalysis).estimated_savings);
        this.applied++;
        return;
      }
      case CASE_EVENT_TYPES.decision: {
        if (r.decision !== undefined) break;
        const d = event.data as CaseDecision;
        r.decision = d.decision;
        r.escalated = d.escalated === true;
        this.applied++;
        return;
      }
      case CASE_EVENT_TYPES.completed: {
        if (r.outcome !== undefined) break;
        const d = event.data as CaseCompleted;
        r.outcome = d.outcome;
        r.totalSavingsCents = cents(d.total_savings);
        r.durationSeconds = d.duration_seconds;
        this.applied++;
        return;
      }
    }
    this.ignored++;
  }

  isCompleted(caseId: string): boolean {
    return this.cases.get(caseId)?.outcome !== undefined;
  }

  /** Cases that have a `case.completed`. */
  get completed(): number {
    let n = 0;
    for (const r of this.cases.values()) if (r.outcome !== undefined) n++;
    return n;
  }

  summary(): CaseSummary {
    const s: CaseSummary = {
      cases: 0,
      byStatus: zeros(CASE_STATUSES),
      byDecision: zeros(DECISION_VALUES),
      byOutcome: zeros(OUTCOME_VALUES),
      byPriority: zeros(PRIORITY_VALUES),
      escalated: 0,
      totalDebt: 0,
      estimatedSavings: 0,
      realisedSavings: 0,
      meanDurationDays: 0,
    };
    let debt = 0;
    let estimated = 0;
    let realised = 0;
    let duration = 0;
    for (const r of this.cases.values()) {
      s.cases++;
      const status: CaseStatus =
        r.outcome !== undefined ? 'completed' : r.decision !== undefined ? 'decided' : r.estimatedSavingsCents !== undefined ? 'analysed' : 'intake';
      s.byStatus[status]++;
      if (r.decision) s.byDecision[r.decision]++;
      if (r.escalated) s.escalated++;
      if (r.outcome) s.byOutcome[r.outcome]++;
      if (r.priority) s.byPriority[r.priority]++;
      debt += r.debtCents ?? 0;
      estimated += r.estimatedSavingsCents ?? 0;
      realised += r.totalSavingsCents ?? 0;
      duration += r.durationSeconds ?? 0;
    }
    s.totalDebt = debt / 100;
    s.estimatedSavings = estimated / 100;
    s.realisedSavings = realised / 100;
    s.meanDurationDays = s.byStatus.completed ? Math.round((duration / s.byStatus.completed / 86_400) * 100) / 100 : 0;
    return s;
  }
}

/** Rebuilds the read model from position 0 of the `case` category, page by page. */
export async function replayProjection(store: EventStore, options: { pageSize?: number } = {}): Promise<CaseProjection> {
  const projection = new CaseProjection();
  const limit = options.pageSize ?? 1000;
  let fromPosition = 0;
  for (let page = 0; page < 10_000_000; page++) {
    const events = await store.readAll({ category: CASE_CATEGORY, fromPosition, limit });
    for (const e of events) projection.apply(e);
    if (events.length < limit) break;
    fromPosition = events[events.length - 1]!.position;
  }
  return projection;
}

/** The live read model: a durable subscription (default name `case-projection`) that applies every case event. */
export async function startLiveProjection(
  store: EventStore,
  options: { name?: string; subscription?: Omit<SubscriptionOptions, 'category'> } = {},
): Promise<{ projection: CaseProjection; subscription: Subscription }> {
  const projection = new CaseProjection();
  const subscription = await store.subscribe(options.name ?? 'case-projection', (event) => projection.apply(event), {
    ...options.subscription,
    category: CASE_CATEGORY,
  });
  return { projection, subscription };
}
