/**
 * Latency at a stated load after a max search (`eventbench bench --executor max --latency-at 0.5,0.9`):
 * a max search finds the highest rate that meets the SLO, whose latency is by construction near the SLO;
 * what a user plans with is the latency at a fraction of it. Each fraction is a fixed-rate round right
 * after the backend's max round, at that fraction of the rate the same run found.
 */
import { ConfigError } from '../../core/event-store.ts';
import type { BackendResult } from '../../report/load-result.ts';
import type { LoadScenario } from '../load/scenario.ts';
import type { BenchRound } from './rounds.ts';

/** `0.5,0.9` or `50%,90%`: fractions in (0, 1], each once. */
export function parseLatencyAt(text: string | undefined): number[] {
  if (text === undefined || text.trim() === '') return [];
  const out = text.split(',').map((part) => {
    const t = part.trim();
    const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(t);
    const v = m ? Number(m[1]) / (m[2] ? 100 : 1) : Number.NaN;
    if (!(v > 0 && v <= 1)) throw new ConfigError(`--latency-at ${JSON.stringify(t)}: a fraction of the max rate, 0-1 or 1%-100%, e.g. 0.5,0.9`);
    return v;
  });
  if (new Set(out).size !== out.length) throw new ConfigError(`--latency-at ${JSON.stringify(text)} lists a fraction twice`);
  return out;
}

/** The follow-up rounds of a finished max round: none unless it found a rate (and it is not a baseline). */
export function latencyAtRounds(round: BenchRound, result: BackendResult, fractions: number[]): BenchRound[] {
  const rate = result.maxSearch?.sustainableRate;
  if (round.baselineOf !== null || round.latencyAt || !rate || result.error !== null) return [];
  // A namespace of its own, as every round has (rounds.ts): a workload whose stream names and event ids
  // come from the seed alone (debt cases) would otherwise resend the max round's events, which both stores
  // acknowledge as duplicates without storing them (nothing new for the consumer or the processors).
  return fractions.map((fraction, i) => ({ ...round, runId: `${round.runId}${i}`, namespace: `${round.namespace}l${i}`, latencyAt: { fraction, rate: Math.max(1, Math.round(rate * fraction)) } }));
}

/** The fixed-rate scenario of a follow-up: constant at its rate for one step of the search. */
export function latencyAtScenario(base: LoadScenario, round: BenchRound): LoadScenario {
  if (!round.latencyAt) return { ...base, runId: round.runId };
  return { ...base, runId: round.runId, executor: 'constant', rate: round.latencyAt.rate, durationMs: base.stepDurationMs ?? base.durationMs };
}
