/**
 * The case pipeline during a load run (`processors: true`, workload debt-cases; docs/case-processing.md):
 * the load appends intakes while the case processors (Intake -> Analysis -> Decision -> Completed) run on
 * the same store, and this module counts what they did for the result's `pipeline` block.
 *
 * - Cases completed per second: `case.completed` appended inside the measured window, per second of it:
 *   the rate the pipeline sustained, not the rate intakes arrived at.
 * - Latency: a case's intake intended send time (the load's open-loop schedule, carried in the intake's
 *   metadata) to its `case.completed` appended, for intakes intended inside the window (the same rule as
 *   the consumer's end-to-end latency: no coordinated omission).
 * - Per step: effects applied, duplicates (a redelivered cause), superseded (lost to a competing writer).
 *
 * The processors' subscriptions are the run's own (`pipe_<runId>-*`, from the end of the category), and
 * are deleted when the run ends, so a run leaves no checkpoints or durable consumers behind and never
 * processes an earlier run's cases.
 */
import { ConfigError, type EventStore } from '../../core/event-store.ts';
import type { PipelineResult } from '../../report/load-result.ts';
import { newHistogram, recordMs, summarize } from '../../report/histogram.ts';
import { CASE_CATEGORY } from '../../workloads/debt-cases/events.ts';
import { startCaseProcessors, type CaseProcessors, type EffectRecord } from '../../workloads/debt-cases/processors.ts';
import type { WorkloadName } from '../../workloads/index.ts';
import type { Clock } from './clock.ts';
import { INTENDED_AT_KEY } from './executor.ts';

/** The workloads that have processors (one today). */
export const PIPELINE_WORKLOADS: readonly WorkloadName[] = ['debt-cases'];

/**
 * Competing instances of each processor, and handlers per instance: the setting the pipeline's target
 * (>= 0.25x of the ceiling from raw rates, docs/case-processing.md) is measured with.
 */
export const PIPELINE_INSTANCES = 2;
export const PIPELINE_CONCURRENCY = 32;

/** Refuses a scenario asking for processors on a workload that has none (before anything starts). */
export function assertPipelineWorkload(workload: string): void {
  if (!PIPELINE_WORKLOADS.includes(workload as WorkloadName)) {
    throw new ConfigError(`--processors runs the case processors of workload ${PIPELINE_WORKLOADS.join(', ')}; workload ${workload} has none (drop --processors or use --workload debt-cases)`);
  }
}

export class CasePipeline {
  private processors: CaseProcessors | null = null;
  /** Intended send time of each case's intake, until the case completes. */
  private readonly intendedAt = new Map<string, number>();
  private readonly latency = newHistogram();
  private completed = 0;
  private completedInWindow = 0;
  private windowStart = Number.POSITIVE_INFINITY;
  private windowEnd = Number.POSITIVE_INFINITY;
  private readonly prefix: string;

  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
    runId: string,
  ) {
    this.prefix = `pipe_${runId}`.slice(0, 48);
  }

  async start(): Promise<void> {
    this.processors = await startCaseProcessors(this.store, {
      prefix: this.prefix,
      instances: PIPELINE_INSTANCES,
      subscription: { from: 'end', concurrency: PIPELINE_CONCURRENCY, closeTimeoutMs: 2000 },
      onEffect: (e) => this.onEffect(e),
    });
  }

  /**
   * Only intakes intended inside [start, end) count towards the latency; completions inside it towards
   * the rate. The first call sets the window (a `max` search's later steps do not move it).
   */
  measureWindow(startMs: number, endMs: number): void {
    if (this.windowStart !== Number.POSITIVE_INFINITY) return;
    this.windowStart = startMs;
    this.windowEnd = endMs;
  }

  /** The schedule ended (or was interrupted) at `atMs`: completions after it are drain, not window. */
  closeWindow(atMs: number): void {
    this.windowEnd = Math.min(this.windowEnd, atMs);
  }

  private onEffect(e: EffectRecord): void {
    if (e.step === 'analysis') {
      const intended = (e.cause.metadata as Record<string, unknown> | undefined)?.[INTENDED_AT_KEY];
      if (typeof intended === 'number' && !this.intendedAt.has(e.caseId)) this.intendedAt.set(e.caseId, intended);
      return;
    }
    if (e.step !== 'completion' || e.result !== 'applied') return;
    const now = this.clock.now();
    this.completed++;
    if (now >= this.windowStart && now < this.windowEnd) this.completedInWindow++;
    const intended = this.intendedAt.get(e.caseId);
    this.intendedAt.delete(e.caseId);
    if (intended !== undefined && intended >= this.windowStart && intended < this.windowEnd) recordMs(this.latency, now - intended);
  }

  /** Waits until `cases` cases completed (or the timeout passes); returns whether they did. */
  async drain(cases: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const until = this.clock.now() + timeoutMs;
    while (this.completed < cases && this.clock.now() < until && !signal?.aborted) await this.clock.sleep(Math.min(20, Math.max(0, until - this.clock.now())));
    return this.completed >= cases;
  }

  /** The `pipeline` block: `casesStarted` is the intakes the load appended in the whole run. */
  result(casesStarted: number, caughtUp: boolean): PipelineResult {
    const measuredMs = Number.isFinite(this.windowEnd) && Number.isFinite(this.windowStart) ? Math.max(0, this.windowEnd - this.windowStart) : 0;
    const stats = this.processors?.stats;
    const zero = { applied: 0, duplicate: 0, superseded: 0 };
    return {
      instances: PIPELINE_INSTANCES,
      concurrency: PIPELINE_CONCURRENCY,
      casesStarted,
      casesCompleted: this.completed,
      completedInWindow: this.completedInWindow,
      measuredSeconds: Math.round(measuredMs) / 1000,
      casesPerSec: measuredMs > 0 ? Math.round((this.completedInWindow / measuredMs) * 1000 * 10) / 10 : 0,
      caughtUp,
      latency: summarize(this.latency),
      steps: {
        analysis: { ...(stats?.effects.analysis ?? zero) },
        decision: { ...(stats?.effects.decision ?? zero) },
        escalation: { ...(stats?.effects.escalation ?? zero) },
        completion: { ...(stats?.effects.completion ?? zero) },
      },
      deliveries: stats?.deliveries ?? 0,
    };
  }

  /** Closes the processors and deletes the run's subscriptions. Idempotent. */
  async stop(): Promise<void> {
    const processors = this.processors;
    this.processors = null;
    if (!processors) return;
    await processors.close();
    await Promise.allSettled(processors.subscriptionNames.map((name) => this.store.deleteSubscription(name, { category: CASE_CATEGORY })));
  }
}
