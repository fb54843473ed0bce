/**
 * The max search's rate controller, pure (no clock, no I/O), as OpenMessaging Benchmark's
 * `RateController`: given the outcome of the step at the current rate, it returns the next rate to try
 * or says the search is done. Doubling while steps pass, then bisecting between the last good and the
 * first bad rate until they are within `resolution` of each other.
 */
export interface RateControllerOptions {
  /** The first step's rate (appends/s). */
  initialRate: number;
  /** Never try above this (the schedule's limit): a step passing there ends the search without a limit found. */
  maxRate: number;
  /** Stop bisecting once bad / good <= 1 + resolution (0.1: within 10 %). */
  resolution?: number;
  /** Below this rate (appends/s) there is nothing left to search. */
  minRate?: number;
}

export type RateDecision = { done: false; rate: number } | { done: true; reason: string };

export interface RateSearchSummary {
  /** The highest rate whose step passed, null when none did. */
  sustainableRate: number | null;
  /** Whether a step failed: without one the sustainable rate is only a lower bound. */
  limitFound: boolean;
  /** The lowest rate whose step failed, null when none did. */
  firstFailedRate: number | null;
}

export interface RateController {
  /** The rate of the step to run now. */
  readonly rate: number;
  /** Records the outcome of the step run at `rate` and decides what comes next. */
  record(passed: boolean): RateDecision;
  summary(): RateSearchSummary;
}

export function createRateController(options: RateControllerOptions): RateController {
  const resolution = options.resolution ?? 0.1;
  const minRate = options.minRate ?? 1;
  let rate = Math.min(options.initialRate, options.maxRate);
  let good = 0;
  let bad = Number.POSITIVE_INFINITY;
  let finished = false;
  return {
    get rate() {
      return rate;
    },
    record(passed) {
      if (finished) throw new Error('the rate search is already done');
      if (passed) good = Math.max(good, rate);
      else bad = Math.min(bad, rate);
      const stop = (reason: string): RateDecision => {
        finished = true;
        return { done: true, reason };
      };
      if (Number.isFinite(bad) && good > 0 && bad / good <= 1 + resolution) return stop(`converged between ${good}/s and ${bad}/s`);
      if (!Number.isFinite(bad)) {
        if (rate >= options.maxRate) return stop(`passed at the rate limit ${options.maxRate}/s`);
        rate = Math.min(rate * 2, options.maxRate);
        return { done: false, rate };
      }
      rate = good > 0 ? (good + bad) / 2 : rate / 2;
      if (rate < minRate) return stop(`no rate of at least ${minRate}/s passed`);
      return { done: false, rate };
    },
    summary() {
      return { sustainableRate: good > 0 ? good : null, limitFound: Number.isFinite(bad), firstFailedRate: Number.isFinite(bad) ? bad : null };
    },
  };
}
