/**
 * The one line a bench ends with, computed from its result: which backend sustained how much at what
 * p99, and what an ack means on each (a faster backend that promises less is not simply faster). For a
 * max search it is the rate found under the SLO and the p99 at the stated fraction of it (--latency-at);
 * for a fixed load the throughput and p99 at that load. Raw-driver baselines are not candidates.
 */
import { fmtCount, formatRate } from './format.ts';
import type { BackendResult, LoadResult } from './load-result.ts';
import { ackMeaning, fmtMs, medianOf } from './tables.ts';

interface Standing {
  backend: string;
  /** Higher ranks first: the rate found (max), events/s (closed loop), or at a fixed load -p99 once the load was carried. */
  rank: number | null;
  /** The rate a "(2.0x postgres)" ratio is of; null where backends carried the same offered load. */
  rate: number | null;
  /** The rate is a lower bound: a max search in which no step failed (the limit lies higher). */
  lowerBound: boolean;
  /** A run of this backend was client-bound: the load side's limit, so the backend's lies at or above the rate. */
  clientBound: boolean;
  text: string;
}

/** The clause after "means" of an ack line ("its WAL is flushed to disk"), or the whole line. */
function ackClause(line: string): string {
  return /\bmeans (.*)$/.exec(line)?.[1] ?? line;
}

function standing(result: LoadResult, backend: string, entries: BackendResult[]): Standing {
  const ok = entries.filter((b) => b.error === null);
  const clientBound = ok.some((b) => b.clientBound?.bound === true);
  if (ok.length === 0) return { backend, rank: null, rate: null, lowerBound: false, clientBound, text: `${backend} failed (${entries[0]?.error ?? 'no result'})` };
  const max = ok.find((b) => b.maxSearch)?.maxSearch ?? null;
  if (max) {
    const found = medianOf(ok, (b) => b.maxSearch?.sustainableRate ?? null);
    if (found === null) return { backend, rank: null, rate: null, lowerBound: false, clientBound, text: `${backend} met ${max.slo} at no step` };
    const lowerBound = ok.some((b) => b.maxSearch && !b.maxSearch.limitFound) ? 'at least ' : '';
    // Latency is quoted at a stated load: the lowest --latency-at fraction measured (the planning figure).
    const at = [...(result.bench?.latencyAt ?? [])].sort((a, b) => a.fraction - b.fraction).find((a) => a.stores[backend]);
    const p99 = at
      ? `p99 ${fmtMs(at.stores[backend]!.p99.median)} ms at ${formatRate(at.stores[backend]!.rate.median)} (${Math.round(at.fraction * 100)} % of it)`
      : `p99 ${fmtMs(medianOf(ok, (b) => b.latency.p99) ?? 0)} ms over the search's steps`;
    return { backend, rank: found, rate: found, lowerBound: lowerBound !== '', clientBound, text: `${backend} sustained ${lowerBound}${formatRate(found).replace('/s', ' appends/s')} under ${max.slo}, ${p99}` };
  }
  const eps = medianOf(ok, (b) => b.throughput.eventsPerSec) ?? 0;
  const p99 = medianOf(ok, (b) => b.latency.p99) ?? 0;
  const text = `${backend} carried ${fmtCount(eps)} events/s at p99 ${fmtMs(p99)} ms`;
  const target = ok[0]!.throughput.targetPerSec;
  if (target === null) return { backend, rank: eps, rate: eps, lowerBound: false, clientBound, text };
  // At a fixed offered load both sides carry it by construction: then the lower p99 is the better one;
  // one that fell behind (under 95 % of the target) ranks after any that kept up.
  const keptUp = (medianOf(ok, (b) => b.throughput.appendsPerSec) ?? 0) >= 0.95 * target;
  return { backend, rank: keptUp ? 1e12 - p99 : eps, rate: null, lowerBound: false, clientBound, text: keptUp ? text : `${text} (behind the offered ${formatRate(target)})` };
}

/**
 * "(2.0x postgres)", qualified where a rate is only a lower bound of the backend's: a max search in which
 * no step failed, or a client-bound run (the load side's limit, not the backend's). The first's lower
 * bound makes the ratio a lower bound, the second's an upper one, and two lower bounds give no ratio.
 */
function ratioText(first: Standing, second: Standing): string {
  const r = `${(first.rate! / second.rate!).toFixed(1)}x ${second.backend}`;
  const firstLow = first.lowerBound || first.clientBound;
  const secondLow = second.lowerBound || second.clientBound;
  if (first.lowerBound && second.lowerBound && !first.clientBound && !second.clientBound) {
    return ' (neither search found its limit, so no ratio: a longer search, e.g. without --quick, goes further)';
  }
  if (firstLow && secondLow) return ` (no ratio: both rates are lower bounds, ${[first, second].map(boundReason).join(', ')})`;
  if (firstLow) return ` (at least ${r}${first.clientBound ? `: ${first.backend} was client-bound` : ''})`;
  if (secondLow) return ` (at most ${r}${second.clientBound ? `: ${second.backend} was client-bound` : ''})`;
  return ` (${r})`;
}

function boundReason(s: Standing): string {
  return `${s.backend} ${s.clientBound ? 'client-bound' : 'found no limit'}`;
}

/** `verdict: jetstream sustained 900 appends/s under p99<50ms, p99 4.1 ms at 450/s (50 % of it); postgres ...; an ack means: ...`. */
export function verdictLine(result: LoadResult): string {
  const byStore = new Map<string, BackendResult[]>();
  for (const b of result.backends) {
    if ((b.baselineOf ?? null) !== null || b.latencyAt) continue;
    byStore.set(b.backend, [...(byStore.get(b.backend) ?? []), b]);
  }
  if (byStore.size === 0) return 'verdict: no backend ran';
  const standings = [...byStore].map(([backend, entries]) => standing(result, backend, entries)).sort((a, b) => (b.rank ?? -Infinity) - (a.rank ?? -Infinity));
  const [first, second] = standings;
  const ratio = first && second && first.rate && second.rate ? ratioText(first, second) : '';
  const bound = standings.filter((s) => s.clientBound).map((s) => s.backend);
  const boundText = bound.length > 0 ? `; CLIENT-BOUND (${bound.join(', ')}): the load side was the limit, the backend${bound.length > 1 ? 's' : ''} may do more` : '';
  const acks = standings.map((s) => `${s.backend} ${ackClause(ackMeaning(result, s.backend))}`).join('; ');
  return `verdict: ${standings.map((s, i) => (i === 0 ? `${s.text}${ratio}` : s.text)).join('; ')}${boundText}. An ack means: ${acks}.`;
}
