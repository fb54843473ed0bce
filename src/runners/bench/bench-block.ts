/**
 * The `bench` block of a result: efficiency (adapter / raw), every metric's median and spread over the
 * runs with the noise verdict between backends, and the durability profile with what each side's ack
 * means, from the settings read back from the servers.
 */
import type { Environment } from '../../core/environment.ts';
import type { BackendResult, BenchBlock, MetricStat } from '../../report/load-result.ts';
import { storeModule, type BackendOptions, type StoreName } from '../../store/index.ts';
import { ackMeaning, durabilityChanges, type DurabilityProfile } from './durability.ts';
import { computeEfficiencies } from './efficiency.ts';
import { METRICS } from './metrics.ts';
import { spread, verdict } from './stats.ts';

/** Each metric over the runs, per store (adapters and baselines); the verdict compares adapters only. */
export function metricStats(results: BackendResult[]): MetricStat[] {
  const ok = results.filter((r) => r.error === null);
  const stores = [...new Set(ok.map((r) => r.backend))];
  const out: MetricStat[] = [];
  for (const m of METRICS) {
    const byStore: MetricStat['stores'] = {};
    for (const s of stores) {
      const values = ok.filter((r) => r.backend === s).map(m.value);
      if (values.length > 0 && values.every((v): v is number => v !== null)) byStore[s] = spread(values);
    }
    if (Object.keys(byStore).length === 0) continue;
    const adapters = Object.fromEntries(Object.entries(byStore).filter(([s]) => ok.find((r) => r.backend === s)?.baselineOf === null));
    out.push({ metric: m.metric, unit: m.unit, better: m.better, stores: byStore, verdict: verdict(adapters, m.better) });
  }
  return out;
}

/**
 * The settings that decide what an ack means, read back per store in a session opened as the store
 * opens its own. A store whose server cannot be asked says so rather than failing the bench.
 */
export async function readSessionSettings(stores: StoreName[], optionsFor: (s: StoreName) => BackendOptions): Promise<Map<StoreName, Record<string, string>>> {
  const out = new Map<StoreName, Record<string, string>>();
  for (const s of stores) {
    const read = storeModule(s).sessionSettings;
    try {
      out.set(s, read ? await read(optionsFor(s)) : {});
    } catch (err) {
      out.set(s, { error: (err as Error).message });
    }
  }
  return out;
}

export interface BenchBlockInput {
  results: BackendResult[];
  runs: number;
  baseline: boolean;
  executor: string;
  /** The load in words ("500/s", "10 writers", "max under p99<50ms"). */
  load: string;
  profile: DurabilityProfile;
  environment: Environment;
  sessions: Map<StoreName, Record<string, string>>;
}

/** Each stated fraction of the max: per backend, the rate it ran at and its latency, over the runs. */
export function latencyAtStats(results: BackendResult[]): BenchBlock['latencyAt'] {
  const followUps = results.filter((r) => r.latencyAt !== null && r.error === null && r.latencyAt !== undefined);
  const fractions = [...new Set(followUps.map((r) => r.latencyAt!.fraction))].sort((a, b) => a - b);
  return fractions.map((fraction) => {
    const at = followUps.filter((r) => r.latencyAt!.fraction === fraction);
    const stores = Object.fromEntries(
      [...new Set(at.map((r) => r.backend))].map((s) => {
        const rs = at.filter((r) => r.backend === s);
        return [s, { rate: spread(rs.map((r) => r.latencyAt!.rate)), p50: spread(rs.map((r) => r.latency.p50)), p99: spread(rs.map((r) => r.latency.p99)), p999: spread(rs.map((r) => r.latency.p999)) }];
      }),
    );
    return { fraction, stores };
  });
}

export function buildBenchBlock(input: BenchBlockInput): BenchBlock {
  const stores = [...input.sessions.keys()];
  // The max rounds and the baselines are what efficiency and the run statistics compare; follow-ups at a
  // fraction of the max have their own rows.
  const main = input.results.filter((r) => r.latencyAt === null);
  return {
    runs: input.runs,
    baseline: input.baseline,
    durability: {
      profile: input.profile,
      changes: durabilityChanges(input.profile, input.environment, stores),
      sides: stores.map((s) => ({ backend: s, ack: ackMeaning(s, input.sessions.get(s) ?? {}, input.environment), settings: input.sessions.get(s) ?? {} })),
    },
    efficiency: computeEfficiencies(main, input.executor, input.load),
    metrics: metricStats(main),
    latencyAt: latencyAtStats(input.results),
  };
}
