/**
 * The line every bench ends with (src/report/verdict.ts), computed from the result: at a fixed load the
 * lower p99 leads and no ratio is claimed; after a max search the rate found leads with the ratio and the
 * p99 at the stated fraction of it; baselines are never candidates; every backend's ack meaning is said.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadResultSchema, type LoadResult } from '../../src/report/load-result.ts';
import { verdictLine } from '../../src/report/verdict.ts';

const fixture = (): LoadResult => loadResultSchema.parse(JSON.parse(readFileSync(new URL('../fixtures/results/bench-runs-v3.json', import.meta.url), 'utf8')));

function asMaxSearch(result: LoadResult, found: Record<string, number | null>): LoadResult {
  for (const b of result.backends) {
    b.maxSearch = { slo: 'p99<50ms', sustainableRate: found[b.backend] ?? null, limitFound: true, hint: null, steps: [] };
  }
  const spread = (v: number) => ({ median: v, min: v, max: v, values: [v] });
  result.bench!.latencyAt = [
    { fraction: 0.9, stores: { postgres: { rate: spread(900), p50: spread(20), p99: spread(45), p999: spread(49) } } },
    { fraction: 0.5, stores: { postgres: { rate: spread(500), p50: spread(3), p99: spread(7.5), p999: spread(9) }, jetstream: { rate: spread(2000), p50: spread(1), p99: spread(2.25), p999: spread(3) } } },
  ];
  return result;
}

describe('verdictLine', () => {
  it('at a fixed load: the lower p99 first, no ratio, both acks, no baseline', () => {
    const line = verdictLine(fixture());
    expect(line).toMatch(/^verdict: jetstream carried 300 events\/s at p99 28\.7 ms; postgres carried 299 events\/s at p99 51\.9 ms\./);
    expect(line).not.toMatch(/raw-/);
    expect(line).not.toMatch(/\dx /);
    expect(line).toMatch(/An ack means: jetstream "in the server's memory", not "on disk"; postgres its WAL is flushed to disk\.$/);
  });

  it('after a max search: the rate found, the ratio, and p99 at the lowest stated fraction', () => {
    const line = verdictLine(asMaxSearch(fixture(), { postgres: 1000, jetstream: 4000, 'raw-postgres': 9999, 'raw-jetstream': 9999 }));
    expect(line).toMatch(/^verdict: jetstream sustained 4,000 appends\/s under p99<50ms, p99 2\.25 ms at 2,000\/s \(50 % of it\) \(4\.0x postgres\); postgres sustained 1,000 appends\/s under p99<50ms, p99 7\.50 ms at 500\/s \(50 % of it\)\./);
  });

  it('a lower bound (no step failed) qualifies the ratio: at least, at most, or none for two lower bounds', () => {
    const bounded = (lower: string[]) => {
      const result = asMaxSearch(fixture(), { postgres: 1000, jetstream: 4000 });
      for (const b of result.backends) if (lower.includes(b.backend)) b.maxSearch!.limitFound = false;
      return verdictLine(result);
    };
    expect(bounded(['jetstream'])).toMatch(/jetstream sustained at least 4,000 appends\/s .* \(at least 4\.0x postgres\);/);
    expect(bounded(['postgres'])).toMatch(/\(at most 4\.0x postgres\); postgres sustained at least 1,000/);
    const both = bounded(['postgres', 'jetstream']);
    expect(both).toMatch(/neither search found its limit, so no ratio/);
    expect(both).not.toMatch(/\dx postgres/);
  });

  it('a client-bound run is a lower bound too: the ratio says at most / at least and why, or none, and names who was client-bound', () => {
    const bound = (backends: string[]) => {
      const result = asMaxSearch(fixture(), { postgres: 1000, jetstream: 2000 });
      for (const b of result.backends) if (backends.includes(b.backend)) b.clientBound = { bound: true, reason: 'event loop 95 % busy' } as never;
      return verdictLine(result);
    };
    expect(bound(['postgres'])).toMatch(/\(at most 2\.0x postgres: postgres was client-bound\);.*CLIENT-BOUND \(postgres\): the load side was the limit, the backend may do more\./);
    expect(bound(['jetstream'])).toMatch(/\(at least 2\.0x postgres: jetstream was client-bound\)/);
    const both = bound(['postgres', 'jetstream']);
    expect(both).toMatch(/\(no ratio: both rates are lower bounds, jetstream client-bound, postgres client-bound\)/);
    expect(both).toMatch(/CLIENT-BOUND \(jetstream, postgres\): the load side was the limit, the backends may do more/);
    expect(both).not.toMatch(/\dx postgres/);
    expect(bound([])).toMatch(/\(2\.0x postgres\)/);
  });

  it('a backend that met the SLO at no step ranks last and says so; a client-bound run says the backends may do more', () => {
    const result = asMaxSearch(fixture(), { postgres: 1000, jetstream: null });
    result.backends.find((b) => b.backend === 'postgres')!.clientBound = { bound: true, reason: 'event loop 99 % busy' } as never;
    const line = verdictLine(result);
    expect(line).toMatch(/^verdict: postgres sustained 1,000 appends\/s .*; jetstream met p99<50ms at no step; CLIENT-BOUND/);
  });
});
