/**
 * Expectations are the caller's (per backend and durability setting: what may be lost, duplicated, how
 * fast it must recover); `judge` only compares them with a verdict and returns each broken one with the
 * evidence behind it, so a broken expectation can be printed and turned into a non-zero exit.
 */
import { z } from 'zod';
import { COUNT_NAMES, countOf, evidenceOf, type CountName, type Verdict } from './verdict.ts';

export const ExpectationsSchema = z
  .object({
    /** Most allowed per count (e.g. `{ lost: 0, duplicates: 0 }`); a count not named is not judged. */
    max: z.partialRecord(z.enum(COUNT_NAMES), z.number().int().nonnegative()).default({}),
    /** Every fault that ended must be followed by an acknowledged append within this long. */
    maxTimeToRecoverMs: z.number().positive().optional(),
  })
  .strict();
export type Expectations = z.input<typeof ExpectationsSchema>;

export interface BrokenExpectation {
  expectation: string;
  limit: number;
  actual: number;
  /** The first ids (or gap / violation records, or faults) behind the count. */
  evidence: unknown[];
  /** One line for a person. */
  message: string;
}

export function judge(verdict: Verdict, expectations: Expectations, evidenceLimit = 20): BrokenExpectation[] {
  const e = ExpectationsSchema.parse(expectations);
  const broken: BrokenExpectation[] = [];
  for (const name of Object.keys(e.max) as CountName[]) {
    const limit = e.max[name]!;
    const actual = countOf(verdict, name);
    if (actual <= limit) continue;
    const evidence = evidenceOf(verdict, name, evidenceLimit);
    broken.push({
      expectation: `${name} <= ${limit}`,
      limit,
      actual,
      evidence,
      message: `${name}: ${actual} (at most ${limit} expected), e.g. ${evidence.slice(0, 5).map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ')}`,
    });
  }
  if (e.maxTimeToRecoverMs !== undefined) {
    const limitNs = e.maxTimeToRecoverMs * 1e6;
    const slow = verdict.faults.filter((f) => f.stopNs !== null && (f.timeToRecoverNs === null || f.timeToRecoverNs > limitNs));
    if (slow.length > 0) {
      const worst = slow.some((f) => f.timeToRecoverNs === null) ? Infinity : Math.max(...slow.map((f) => f.timeToRecoverNs!)) / 1e6;
      broken.push({
        expectation: `time to recover <= ${e.maxTimeToRecoverMs} ms`,
        limit: e.maxTimeToRecoverMs,
        actual: worst,
        evidence: slow.slice(0, evidenceLimit),
        message: `time to recover: ${slow.map((f) => `${f.fault} ${f.timeToRecoverNs === null ? 'never' : `${(f.timeToRecoverNs / 1e6).toFixed(0)} ms`}`).join(', ')} (at most ${e.maxTimeToRecoverMs} ms expected)`,
      });
    }
  }
  return broken;
}
