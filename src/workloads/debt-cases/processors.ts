/**
 * The case processors of docs/case-processing.md, on any EventStore through durable subscriptions:
 *
 *   IntakeProcessor   (`<prefix>-intake`)   case.intake   -> risk model       -> case.analysis
 *   AnalysisProcessor (`<prefix>-analysis`) case.analysis -> rules engine     -> case.decision
 *   DecisionProcessor (`<prefix>-workflow`) case.decision -> workflow (saga)  -> case.completed
 *
 * The design names its consumers after the event they consume; each produces the next step. Each can run
 * as N competing instances (same subscription name). The workflow saga also watches deadlines: a case
 * whose decision has not arrived `decisionDeadlineMs` after the saga saw its analysis is escalated to a
 * caseworker (a `case.decision` by `cw_NNNN`, `escalated: true`), and then completes as `escalated`.
 *
 * Idempotency (both strategies of docs/outbox.md, "Idempotent consumers"):
 * - by event id: a follow-up's id is derived from its cause (`deriveId(cause.id, step)`), so a
 *   redelivered cause appends the same id again and the store answers `duplicate: true`;
 * - by natural key: a case has at most one event of each type. Every follow-up is appended with
 *   expectedVersion = the cause's version; on a conflict the handler reads the case stream, and if an
 *   event of that type is already there (e.g. the saga escalated first) the effect is `superseded`.
 * Causation and correlation ids are chained: causationId = the cause's id, correlationId = the case id.
 *
 * Reads: the analysis and decision steps need the case's earlier events. Every processor's subscription is
 * delivered every event of the `case` category (it ignores the types it does not handle), so the
 * processors of one call share a bounded memory of the intakes and analyses delivered to them
 * (`CaseMemory`) and read the case stream only when it lacks what a step needs (another process got the
 * event, or this one restarted). Events are immutable: a remembered event is what the read would return;
 * the append is still checked by expected version. Measured (1,000 cases live, 2 instances, shared
 * 2-core machine): a JetStream `readStream` (tip lookup + an ordered consumer) took 7-10 ms on average
 * and 2,000 of them were most of the analysis and workflow steps' time; PostgreSQL's took 2.3 ms.
 *
 * Time: every follow-up carries a SIMULATED timestamp (cause timestamp + a modelled delay: appointment
 * waits from source I, preparation phase from M, docs/debt-figures.md), so the case history is
 * deterministic for a seed and `duration_seconds` is a case duration, not a processing latency. Deadlines
 * are real time.
 */
import {
  VersionConflictError,
  type DeadLetter,
  type EventStore,
  type RecordedEvent,
  type Subscription,
  type SubscriptionOptions,
} from '../../core/event-store.ts';
import { hashString, Random } from '../../core/random.ts';
import { deriveId } from '../ids.ts';
import { validateData } from '../schema.ts';
import {
  CASE_CATEGORY,
  CASE_EVENT_TYPES,
  CASE_SCHEMAS,
  type CaseAnalysis,
  type CaseCompleted,
  type CaseDecision,
  type CaseIntake,
  type Outcome,
} from './events.ts';
import { CRISIS_WAIT_DAYS, MEAN_WAIT_FIRST_APPOINTMENT_DAYS, PREPARATION_PHASE_DAYS, WITHDRAWAL_RATE } from './figures.ts';
import { analyse } from './risk-model.ts';
import { decide, DEFAULT_RULES, type Rule } from './rules.ts';

export const STEPS = ['analysis', 'decision', 'escalation', 'completion'] as const;
export type Step = (typeof STEPS)[number];
export type EffectResult = 'applied' | 'duplicate' | 'superseded';

export interface EffectRecord {
  step: Step;
  caseId: string;
  result: EffectResult;
  eventId: string;
  /** The event the effect follows from (its metadata carries what the producer put there, e.g. a load run's intended send time). */
  cause: RecordedEvent;
}

export interface CaseProcessorOptions {
  /** Competing instances of each processor (default 1). */
  instances?: number;
  /** Subscription names are `<prefix>-intake|analysis|workflow` (default `case`). */
  prefix?: string;
  rules?: readonly Rule[];
  /** Seed for failure injection and per-case simulated delays (default 1). */
  seed?: number;
  /** Probability that a handler throws (default 0): exercises retry, backoff and the dead-letter path. */
  failureRate?: number;
  /**
   * Where the injected failure happens: `after` the effect (default: the effect is applied, the delivery
   * fails, the redelivery must not apply it again) or `before` it (the event may end as a dead letter).
   */
  failurePoint?: 'before' | 'after';
  /** Real-time deadline for a decision after the saga saw the analysis (default 30 s). */
  decisionDeadlineMs?: number;
  /** Share of cases sent to a slow manual review in the decision step (default 0). */
  manualReviewRate?: number;
  /** How long a manual review takes, real time (default 2 x the deadline, so it misses it). Reviews do not block the subscription. */
  manualReviewDelayMs?: number;
  /** Subscription settings passed to every processor (maxDeliver, backoffMs, ackWaitMs, maxInFlight, ...). */
  subscription?: Omit<SubscriptionOptions, 'category'>;
  /** Called once per effect attempt outcome (for metrics and latency). */
  onEffect?: (effect: EffectRecord) => void;
}

export interface ProcessorStats {
  effects: Record<Step, Record<EffectResult, number>>;
  injectedFailures: number;
  /** Manual reviews whose late decision could not be appended (store error); the saga escalated them. */
  lostReviews: number;
  /** Deliveries handled (including retries and events a processor ignores). */
  deliveries: number;
}

export interface CaseProcessors {
  readonly subscriptionNames: readonly string[];
  readonly stats: ProcessorStats;
  /** Total lag of the processors' subscriptions plus deadlines still armed and manual reviews in progress. */
  lag(): Promise<number>;
  deadLetters(): Promise<DeadLetter[]>;
  close(): Promise<void>;
}

/** Simulated delays (days) of each step. */
const ANALYSIS_DELAY_SECONDS = [60, 900] as const; // assumption, no published figure
/** Simulated time from analysis to an escalated decision: assumption, no published figure. */
const ESCALATION_AFTER_DAYS = 21;
/** Simulated days from decision to completion per decision (payment_plan: preparation phase, M; others assumption). */
const COMPLETION_DAYS = { collect: 14, forgive: 30, refer_assistance: 45, payment_plan: PREPARATION_PHASE_DAYS } as const;
const DAY_MS = 86_400_000;

function caseRandom(seed: number, caseId: string, step: string): Random {
  return new Random((hashString(caseId) ^ Math.imul(seed, 0x9e3779b1) ^ hashString(step)) >>> 0);
}

const addMs = (iso: string, ms: number): string => new Date(Date.parse(iso) + Math.round(ms)).toISOString();

/** Appends a follow-up of `cause` idempotently (see the file comment). */
export async function applyEffect(
  store: EventStore,
  cause: RecordedEvent,
  step: Step,
  next: { type: string; data: unknown; timestamp: string },
): Promise<{ result: EffectResult; eventId: string }> {
  const id = deriveId(cause.id, step);
  try {
    const r = await store.appendToStream(
      cause.stream,
      [{ id, type: next.type, data: next.data, timestamp: next.timestamp, correlationId: cause.correlationId, causationId: cause.id, metadata: { step } }],
      { expectedVersion: cause.version },
    );
    return { result: r.duplicate ? 'duplicate' : 'applied', eventId: id };
  } catch (err) {
    if (!(err instanceof VersionConflictError)) throw err;
    const events = await store.readStream(cause.stream);
    if (events.some((e) => e.id === id)) return { result: 'duplicate', eventId: id };
    if (events.some((e) => e.type === next.type)) return { result: 'superseded', eventId: id };
    throw err;
  }
}

function eventOf<T>(events: readonly RecordedEvent[], type: string): { event: RecordedEvent; data: T } | undefined {
  const event = events.find((e) => e.type === type);
  return event ? { event, data: validateData<T>(CASE_SCHEMAS, type, event.data) } : undefined;
}

/**
 * Handlers each processor subscriber runs at once (cases side by side; one case's events still in order).
 * A processor only needs per-case order, and one handler at a time bounded a subscriber to one
 * round trip per event: ~270 cases/s with 2 instances on either backend (1,000 cases).
 */
const DEFAULT_CONCURRENCY = 32;

/** Cases remembered at most (oldest forgotten first): a few seconds of backlog at thousands of cases/s. */
const CASE_MEMORY_LIMIT = 20_000;

/**
 * The intakes and analyses delivered to this call's processors, by case stream, until the case's
 * `case.completed` is delivered (see "Reads" in the file comment). Only what a later step reads is kept.
 */
class CaseMemory {
  private readonly byStream = new Map<string, RecordedEvent[]>();

  /** Called for every delivery, whatever the processor does with it. */
  see(event: RecordedEvent): void {
    if (event.type === CASE_EVENT_TYPES.completed) {
      this.byStream.delete(event.stream);
      return;
    }
    if (event.type !== CASE_EVENT_TYPES.intake && event.type !== CASE_EVENT_TYPES.analysis) return;
    const known = this.byStream.get(event.stream);
    if (known) {
      if (!known.some((e) => e.id === event.id)) known.push(event);
      return;
    }
    if (this.byStream.size >= CASE_MEMORY_LIMIT) this.byStream.delete(this.byStream.keys().next().value!);
    this.byStream.set(event.stream, [event]);
  }

  /** The case's remembered events if they include every type in `needs`, else the stream as stored. */
  async events(store: EventStore, stream: string, needs: readonly string[]): Promise<readonly RecordedEvent[]> {
    const known = this.byStream.get(stream);
    if (known && needs.every((type) => known.some((e) => e.type === type))) return known;
    return store.readStream(stream);
  }
}

interface Deadline {
  analysis: RecordedEvent;
  dueAt: number;
}

export async function startCaseProcessors(store: EventStore, options: CaseProcessorOptions = {}): Promise<CaseProcessors> {
  const instances = options.instances ?? 1;
  const prefix = options.prefix ?? 'case';
  const rules = options.rules ?? DEFAULT_RULES;
  const seed = options.seed ?? 1;
  const failureRate = options.failureRate ?? 0;
  const failurePoint = options.failurePoint ?? 'after';
  const deadlineMs = options.decisionDeadlineMs ?? 30_000;
  const reviewRate = options.manualReviewRate ?? 0;
  const reviewDelayMs = options.manualReviewDelayMs ?? 2 * deadlineMs;
  const subOptions: SubscriptionOptions = { concurrency: DEFAULT_CONCURRENCY, ...options.subscription, category: CASE_CATEGORY };
  const memory = new CaseMemory();
  const names = { intake: `${prefix}-intake`, analysis: `${prefix}-analysis`, workflow: `${prefix}-workflow` };

  const zero = (): Record<EffectResult, number> => ({ applied: 0, duplicate: 0, superseded: 0 });
  const stats: ProcessorStats = {
    effects: { analysis: zero(), decision: zero(), escalation: zero(), completion: zero() },
    injectedFailures: 0,
    lostReviews: 0,
    deliveries: 0,
  };
  const record = (step: Step, cause: RecordedEvent, caseId: string, r: { result: EffectResult; eventId: string }): void => {
    stats.effects[step][r.result]++;
    options.onEffect?.({ step, caseId, result: r.result, eventId: r.eventId, cause });
  };

  let closed = false;
  // Manual reviews in progress (timers); close() cancels them (the saga would escalate those cases).
  const timers = new Set<NodeJS.Timeout>();
  const schedule = (ms: number, fn: () => Promise<void>): void => {
    const t = setTimeout(() => {
      void fn().finally(() => timers.delete(t));
    }, ms);
    timers.add(t);
  };

  const makeFailer = (instance: number, name: string) => {
    const rng = new Random(seed * 7919 + instance).fork(name);
    return (point: 'before' | 'after', step: string): void => {
      if (failureRate > 0 && failurePoint === point && rng.chance(failureRate)) {
        stats.injectedFailures++;
        throw new Error(`injected failure ${point} ${step} (failure rate ${failureRate})`);
      }
    };
  };

  // --- IntakeProcessor: case.intake -> case.analysis ------------------------------------------------
  const intakeHandler = (instance: number) => {
    const fail = makeFailer(instance, names.intake);
    return async (event: RecordedEvent): Promise<void> => {
      stats.deliveries++;
      if (event.type !== CASE_EVENT_TYPES.intake) return memory.see(event);
      fail('before', 'analysis');
      const intake = validateData<CaseIntake>(CASE_SCHEMAS, event.type, event.data);
      const rng = caseRandom(seed, intake.case_id, 'analysis');
      const timestamp = addMs(event.timestamp, 1000 * rng.uniform(...ANALYSIS_DELAY_SECONDS));
      const r = await applyEffect(store, event, 'analysis', { type: CASE_EVENT_TYPES.analysis, data: analyse(intake), timestamp });
      record('analysis', event, intake.case_id, r);
      fail('after', 'analysis');
    };
  };

  // --- AnalysisProcessor: case.analysis -> rules engine -> case.decision ----------------------------
  const analysisHandler = (instance: number) => {
    const fail = makeFailer(instance, names.analysis);
    return async (event: RecordedEvent): Promise<void> => {
      stats.deliveries++;
      if (event.type !== CASE_EVENT_TYPES.analysis) return memory.see(event);
      fail('before', 'decision');
      const analysis = validateData<CaseAnalysis>(CASE_SCHEMAS, event.type, event.data);
      const events = await memory.events(store, event.stream, [CASE_EVENT_TYPES.intake]);
      const intake = eventOf<CaseIntake>(events, CASE_EVENT_TYPES.intake);
      if (!intake) throw new Error(`case ${analysis.case_id}: case.analysis without case.intake in ${event.stream}`);
      const rng = caseRandom(seed, analysis.case_id, 'decision');
      const decision = decide(rules, intake.data, analysis);
      const waitDays =
        intake.data.priority === 'urgent'
          ? rng.uniform(1, CRISIS_WAIT_DAYS) // crisis within 3 working days (I)
          : Math.min(90, rng.exponential(MEAN_WAIT_FIRST_APPOINTMENT_DAYS)); // mean wait 11 days (I)
      const timestamp = addMs(event.timestamp, waitDays * DAY_MS);
      const effect = { type: CASE_EVENT_TYPES.decision, data: decision, timestamp };
      if (rng.chance(reviewRate)) {
        // Manual review: handed to a caseworker queue (a timer here) and acknowledged now, so a slow
        // review does not hold up the subscription. If the review is late or lost (process exit), the
        // saga escalates the case; a late review's decision then loses on the expected version.
        schedule(reviewDelayMs, async () => {
          try {
            record('decision', event, analysis.case_id, await applyEffect(store, event, 'decision', effect));
          } catch {
            stats.lostReviews++;
          }
        });
        return;
      }
      const r = await applyEffect(store, event, 'decision', effect);
      record('decision', event, analysis.case_id, r);
      fail('after', 'decision');
    };
  };

  // --- DecisionProcessor: the workflow saga ---------------------------------------------------------
  const deadlines = new Map<string, Deadline>();
  // Cases whose decision this process has seen, with when: competing instances may see a case's
  // decision before its analysis, and a deadline armed after the decision would only wait to expire.
  // Entries older than two deadlines are dropped by the ticker (a stale arm is still harmless: the
  // expected-version append decides).
  const decided = new Map<string, number>();

  const escalate = async (d: Deadline): Promise<void> => {
    const analysis = validateData<CaseAnalysis>(CASE_SCHEMAS, d.analysis.type, d.analysis.data);
    const rng = caseRandom(seed, analysis.case_id, 'escalation');
    const decision: CaseDecision = {
      case_id: analysis.case_id,
      decision: 'refer_assistance',
      decided_by: `cw_${String(rng.int(1, 250)).padStart(4, '0')}`,
      reason: `Escalated: no decision within ${deadlineMs} ms of the analysis; assigned to a caseworker`,
      next_steps: ['caseworker_review', 'contact_citizen'],
      escalated: true,
    };
    const timestamp = addMs(d.analysis.timestamp, ESCALATION_AFTER_DAYS * DAY_MS);
    const r = await applyEffect(store, d.analysis, 'escalation', { type: CASE_EVENT_TYPES.decision, data: decision, timestamp });
    record('escalation', d.analysis, analysis.case_id, r);
  };

  let checking = false;
  const checkDeadlines = async (): Promise<void> => {
    if (checking || closed) return;
    checking = true;
    try {
      const now = Date.now();
      for (const [caseId, at] of decided) {
        if (now - at < 2 * deadlineMs) break; // insertion order = time order
        decided.delete(caseId);
      }
      for (const [caseId, d] of deadlines) {
        if (d.dueAt > now || closed) continue;
        deadlines.delete(caseId);
        try {
          // Cheap pre-check; the expected-version append decides anyway.
          if ((await store.streamVersion(d.analysis.stream)) > d.analysis.version) continue;
          await escalate(d);
        } catch {
          // Store trouble: try again on a later tick.
          if (!closed) deadlines.set(caseId, { ...d, dueAt: now + Math.min(1000, deadlineMs) });
        }
      }
    } finally {
      checking = false;
    }
  };
  const ticker = setInterval(() => void checkDeadlines(), Math.max(10, Math.min(250, Math.floor(deadlineMs / 4))));

  const workflowHandler = (instance: number) => {
    const fail = makeFailer(instance, names.workflow);
    return async (event: RecordedEvent): Promise<void> => {
      stats.deliveries++;
      memory.see(event);
      if (event.type === CASE_EVENT_TYPES.analysis) {
        // Arm the decision deadline (idempotent: a redelivery re-arms the same case).
        const caseId = (event.data as { case_id: string }).case_id;
        if (!deadlines.has(caseId) && !decided.has(caseId)) deadlines.set(caseId, { analysis: event, dueAt: Date.now() + deadlineMs });
        return;
      }
      if (event.type !== CASE_EVENT_TYPES.decision) return;
      const decision = validateData<CaseDecision>(CASE_SCHEMAS, event.type, event.data);
      deadlines.delete(decision.case_id);
      if (!decided.has(decision.case_id)) decided.set(decision.case_id, Date.now());
      fail('before', 'completion');
      const events = await memory.events(store, event.stream, [CASE_EVENT_TYPES.intake, CASE_EVENT_TYPES.analysis]);
      const intake = eventOf<CaseIntake>(events, CASE_EVENT_TYPES.intake);
      const analysis = eventOf<CaseAnalysis>(events, CASE_EVENT_TYPES.analysis);
      if (!intake || !analysis) throw new Error(`case ${decision.case_id}: case.decision before intake/analysis in ${event.stream}`);
      const rng = caseRandom(seed, decision.case_id, 'completion');
      const outcome: Outcome = decision.escalated ? 'escalated' : rng.chance(WITHDRAWAL_RATE) ? 'withdrawn' : 'resolved';
      const days =
        outcome === 'withdrawn'
          ? rng.uniform(7, 60)
          : COMPLETION_DAYS[decision.decision] * rng.uniform(0.75, 1.25); // assumption around M's preparation phase
      const timestamp = addMs(event.timestamp, days * DAY_MS);
      const completed: CaseCompleted = {
        case_id: decision.case_id,
        outcome,
        duration_seconds: Math.max(0, Math.round((Date.parse(timestamp) - Date.parse(intake.event.timestamp)) / 1000)),
        total_savings: outcome === 'resolved' ? analysis.data.estimated_savings : 0,
        decision: decision.decision,
      };
      const r = await applyEffect(store, event, 'completion', { type: CASE_EVENT_TYPES.completed, data: completed, timestamp });
      record('completion', event, decision.case_id, r);
      fail('after', 'completion');
    };
  };

  const subscriptions: Subscription[] = [];
  try {
    for (let i = 0; i < instances; i++) {
      subscriptions.push(await store.subscribe(names.intake, intakeHandler(i), subOptions));
      subscriptions.push(await store.subscribe(names.analysis, analysisHandler(i), subOptions));
      subscriptions.push(await store.subscribe(names.workflow, workflowHandler(i), subOptions));
    }
  } catch (err) {
    clearInterval(ticker);
    await Promise.allSettled(subscriptions.map((s) => s.close()));
    throw err;
  }

  const subscriptionNames = Object.values(names);
  return {
    subscriptionNames,
    stats,
    async lag() {
      const lags = await Promise.all(subscriptionNames.map((n) => subscriptions.find((s) => s.name === n)!.lag()));
      return lags.reduce((a, b) => a + b, 0) + deadlines.size + timers.size;
    },
    async deadLetters() {
      return (await Promise.all(subscriptionNames.map((n) => store.readDeadLetters(n)))).flat();
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(ticker);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.allSettled(subscriptions.map((s) => s.close()));
    },
  };
}
