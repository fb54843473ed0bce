/**
 * `max`: the highest sustainable rate, searched in steps of --step-duration within --duration, the way
 * OpenMessaging Benchmark does. The rate controller (rate-controller.ts, pure) picks each step's rate
 * from the previous outcomes; this module runs the steps and judges them. A step passes when it meets
 * --slo with a bounded backlog: nothing dropped or left in flight, at least 95 % of the target achieved,
 * errors at most 1 %, consumer lag at most one second of production. Between steps the runner waits for
 * the backlog to drain (not measured), so a failed step's backlog does not count against the next one.
 */
import { z } from 'zod';
import { ConfigError } from '../../../core/event-store.ts';
import type { MaxStep } from '../../../report/load-result.ts';
import { decodeHistogram, encodeHistogram, summarize, type LatencySummary } from '../../../report/histogram.ts';
import { MAX_RATE_PER_SEC } from '../limits.ts';
import { formatRate } from '../../../report/format.ts';
import { parseDuration, parseRate } from '../parse.ts';
import { createRateController } from '../rate-controller.ts';
import { mergeWindowResults, totalErrors, type WindowResult } from '../recorder.ts';
import { constantSegments } from '../schedule.ts';
import { holds, parseThreshold, THRESHOLD_METRICS, type Threshold } from '../thresholds.ts';
import { parseOptions, shareInFlight, shareSegments, staggerMs, START_DELAY_MS, type ExecutorModule, type ExecutorOutcome } from './executor-module.ts';

export const DEFAULT_SLO = 'p99<50ms';
export const DEFAULT_STEP_DURATION = '5s';
/** A step's appends still in flight at its end get this long (at most the step's length) to be acknowledged within the step. */
const STEP_GRACE_MS = 2000;
/** Steps at most: doubling from 1/s reaches the rate limit in 20, bisection converges in under 10 more. */
const MAX_STEPS = 30;
const MIN_ACHIEVED = 0.95;
const MAX_ERROR_RATIO = 0.01;

const latencyMetrics = Object.keys(THRESHOLD_METRICS).filter((m) => THRESHOLD_METRICS[m as keyof typeof THRESHOLD_METRICS] === 'ms' && m !== 'e2e_p99');
const optionsSchema = z
  .object({
    rate: z.number().positive().max(MAX_RATE_PER_SEC),
    slo: z.object({
      source: z.string(),
      metric: z.enum(latencyMetrics as [string, ...string[]], { message: `the objective must be an append latency (${latencyMetrics.join(', ')})` }),
      op: z.enum(['<', '<='], { message: 'the objective must be an upper bound (< or <=)' }),
      value: z.number().positive(),
    }),
    stepDurationMs: z.number().int().positive(),
    durationMs: z.number().int().positive(),
  })
  .refine((o) => o.stepDurationMs <= o.durationMs, { message: 'the step is longer than --duration (the whole search)', path: ['stepDurationMs'] });

function latencyValue(s: LatencySummary, t: Threshold): number {
  return s[t.metric as keyof LatencySummary];
}

export const maxExecutor: ExecutorModule = {
  name: 'max',
  description: 'search the highest rate meeting --slo, in --step-duration steps within --duration',
  flags: ['rate', 'slo', 'stepDuration'],
  fromFlags(flags, defaults) {
    const slo = parseThreshold(flags.slo ?? DEFAULT_SLO, '--slo');
    if (THRESHOLD_METRICS[slo.metric] !== 'ms' || slo.metric === 'e2e_p99' || !slo.op.startsWith('<')) {
      throw new ConfigError(`--slo ${JSON.stringify(flags.slo)}: use an append latency objective such as p99<50ms`);
    }
    const stepDurationMs = parseDuration(flags.stepDuration ?? DEFAULT_STEP_DURATION, '--step-duration');
    if (stepDurationMs > defaults.durationMs) {
      throw new ConfigError(`--step-duration ${flags.stepDuration ?? DEFAULT_STEP_DURATION} is longer than --duration (${defaults.durationMs / 1000}s, the whole search): shorten the step or lengthen the search`);
    }
    return { fields: { rate: parseRate(flags.rate ?? defaults.rate, '--rate'), slo, stepDurationMs }, notices: [] };
  },
  validate(scenario) {
    parseOptions(optionsSchema, scenario, 'max');
  },
  async run(ctx): Promise<ExecutorOutcome> {
    const { scenario, clock, signal, consumer } = ctx;
    const opts = parseOptions(optionsSchema, scenario, 'max');
    const slo = scenario.slo!;
    const stepMs = opts.stepDurationMs;
    const n = ctx.sides;
    const inFlight = shareInFlight(scenario.maxInFlight, n);
    const controller = createRateController({ initialRate: opts.rate, maxRate: MAX_RATE_PER_SEC });
    const steps: MaxStep[] = [];
    type StepOutcome = { measured: WindowResult; start: number; rate: number; histograms: { endToEnd: string; processing: string } | null; lag: Map<number, number> };
    let best: StepOutcome | null = null;
    let last: StepOutcome | null = null;
    ctx.setTotalMs(scenario.warmupMs + scenario.durationMs);
    if (scenario.warmupMs > 0) {
      ctx.setPhase('warmup');
      const startAt = clock.now() + START_DELAY_MS;
      const warm = constantSegments(controller.rate, scenario.warmupMs);
      ctx.setSchedule(warm, startAt);
      const rs = await ctx.runPhase((i) => ({ kind: 'open', startAt: startAt + staggerMs(warm, i), durationMs: scenario.warmupMs, segments: shareSegments(warm, n), windows: [{ name: 'measure', endOffsetMs: Number.MAX_SAFE_INTEGER }], maxInFlight: inFlight, drainTimeoutMs: Math.min(STEP_GRACE_MS, scenario.drainTimeoutMs) }));
      ctx.countWholeRun(rs);
      await ctx.waitIdle(scenario.drainTimeoutMs);
    }
    const deadline = clock.now() + scenario.durationMs;
    // A step may end up to 1 s past the deadline rather than leave most of a step's budget unused.
    for (let step = 1; step <= MAX_STEPS && !signal.aborted && clock.now() + stepMs <= deadline + 1000; step++) {
      const rate = controller.rate;
      ctx.setPhase(`step ${step} @ ${formatRate(rate)}`);
      const startAt = clock.now() + START_DELAY_MS;
      const segments = constantSegments(rate, stepMs);
      ctx.setSchedule(segments, startAt);
      ctx.setMeasureStart(startAt);
      ctx.lagSamples.clear();
      consumer?.resetHistograms();
      consumer?.measureWindow(startAt, startAt + stepMs);
      const rs = await ctx.runPhase((i) => ({ kind: 'open', startAt: startAt + staggerMs(segments, i), durationMs: stepMs, segments: shareSegments(segments, n), windows: [{ name: 'measure', endOffsetMs: Number.MAX_SAFE_INTEGER }], maxInFlight: inFlight, drainTimeoutMs: Math.min(stepMs, STEP_GRACE_MS) }));
      ctx.countWholeRun(rs);
      const m = mergeWindowResults(rs.map((r) => r.measure!));
      const lat = summarize(decodeHistogram(m.latency));
      const lag = consumer ? await consumer.pollLag() : null;
      const achieved = m.eventsAckedInWindow / (stepMs / 1000);
      const errs = totalErrors(m.errors);
      const reasons: string[] = [];
      const sloActual = latencyValue(lat, slo);
      if (!holds(sloActual, slo.op, slo.value)) reasons.push(`${slo.metric} ${sloActual}ms breaks ${slo.source}`);
      if (m.dropped > 0) reasons.push(`${m.dropped} dropped`);
      if (m.unfinished > 0) reasons.push(`${m.unfinished} still in flight`);
      if (achieved < rate * MIN_ACHIEVED) reasons.push(`achieved ${Math.round(achieved)}/s < ${MIN_ACHIEVED * 100}% of target`);
      if (errs > m.sent * MAX_ERROR_RATIO) reasons.push(`${errs} errors`);
      // Bounded backlog: the consumer may trail by at most one second of production.
      if (lag !== null && lag > rate) reasons.push(`consumer lag ${lag} > 1 s of production`);
      const passed = reasons.length === 0 && !signal.aborted;
      steps.push({ step, targetRate: Math.round(rate * 10) / 10, achievedRate: Math.round(achieved * 10) / 10, p50: lat.p50, p99: lat.p99, errors: errs, dropped: m.dropped, unfinished: m.unfinished, lag, passed, reason: passed ? 'ok' : reasons.join('; ') || 'interrupted' });
      last = { measured: m, start: startAt, rate, histograms: consumer ? { endToEnd: encodeHistogram(consumer.endToEnd), processing: encodeHistogram(consumer.processing) } : null, lag: new Map(ctx.lagSamples) };
      if (passed) best = last;
      if (signal.aborted) break;
      const decision = controller.record(passed);
      if (decision.done) break;
      // The backlog of this step drains before the next one starts; that time is not measured.
      ctx.setPhase(`draining after step ${step}`);
      await ctx.waitIdle(Math.max(0, Math.min(scenario.drainTimeoutMs, deadline + 1000 - clock.now() - stepMs)));
    }
    const chosen = best ?? last;
    if (!chosen) throw new ConfigError(`--duration is shorter than one --step-duration (${stepMs} ms): the max search needs at least one step`);
    // The timeline shows the chosen step: its own per-second lag samples.
    ctx.lagSamples.clear();
    for (const [k, v] of chosen.lag) ctx.lagSamples.set(k, v);
    const summary = controller.summary();
    const sustainable = best ? Math.round(best.rate * 10) / 10 : null;
    return {
      measured: chosen.measured,
      measureStart: chosen.start,
      windowMs: stepMs,
      targetSegments: constantSegments(chosen.rate, stepMs),
      maxSearch: {
        slo: slo.source,
        sustainableRate: sustainable,
        limitFound: summary.limitFound,
        hint: summary.limitFound || sustainable === null ? null : 'no step failed, so this is a lower bound: raise --duration or --rate to find the limit',
        steps,
      },
      consumerHistograms: chosen.histograms,
    };
  },
};
