/**
 * The rounds of one `eventbench bench`: per run, each backend and then its raw-driver baseline
 * (postgres, raw-postgres, jetstream, raw-jetstream, ... again for the next run), so drift on a shared
 * machine falls on adapter and raw alike and every ratio comes from one invocation. Each round gets its
 * own run id (stream names and event ids) and its own namespace (`<namespace>_<run>a<k>`, `_<run>r<k>` for the k-th backend): a
 * category read back (`--replay`) or a storage count then covers that round's events only, not an earlier
 * round's too. A baseline round opens its adapter in its own namespace first, whose init creates the
 * tables / streams the baseline writes into.
 */
import { ConfigError, type EventStore } from '../../core/event-store.ts';
import { baselineOf, type BackendName, type StoreName } from '../../store/index.ts';

export interface BenchOptions {
  runs: number;
  /** Run the raw-driver baselines (default true). */
  baseline: boolean;
  /** After a max round: fixed-rate rounds at these fractions of the rate found (latency-at.ts). */
  latencyAt?: number[];
}

export interface BenchRound {
  run: number;
  store: StoreName;
  /** The adapter a baseline round measures; null for an adapter's own round. */
  baselineOf: BackendName | null;
  runId: string;
  /** PostgreSQL schema / JetStream stream prefix of this round alone. */
  namespace: string;
  /** A follow-up of a max round at a fraction of the rate it found (latency-at.ts). */
  latencyAt?: { fraction: number; rate: number };
}

/** At most this many runs: each is a full comparison (every backend and baseline). */
export const MAX_RUNS = 20;

export function parseRuns(text: string | undefined): number {
  const v = text ?? '1';
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > MAX_RUNS) throw new ConfigError(`--runs ${JSON.stringify(v)}: a whole number from 1 to ${MAX_RUNS}`);
  return n;
}

export function planRounds(backends: BackendName[], options: BenchOptions, runId: string, namespace = 'eventbench'): BenchRound[] {
  const rounds: BenchRound[] = [];
  // Run ids are at most 24 characters (--run-id); the suffix keeps rounds apart. Namespaces are at most
  // 41 (--namespace) + 6 (`_20a12`): within PostgreSQL's 63-character identifiers and JetStream's names.
  const base = runId.slice(0, 19);
  for (let run = 1; run <= options.runs; run++) {
    for (const [k, backend] of backends.entries()) {
      // The backend's index too: hybrid writes into the same PostgreSQL schema as postgres would.
      rounds.push({ run, store: backend, baselineOf: null, runId: `${base}_${run}a`, namespace: `${namespace}_${run}a${k}` });
      const raw = options.baseline ? baselineOf(backend) : undefined;
      if (raw) rounds.push({ run, store: raw, baselineOf: backend, runId: `${base}_${run}r`, namespace: `${namespace}_${run}r${k}` });
    }
  }
  return rounds;
}

/**
 * Before a round without a consumer: has the adapter of the round's namespace create the workload's
 * category, for a raw-driver baseline that writes into it, and before several load workers would each
 * create it on their first append. The JetStream adapter creates a category's stream on first use (an
 * append or a subscription), and a round of its own namespace has had neither when it runs without a
 * consumer: a subscription opened and deleted at once creates it, through the contract, before the clock
 * starts.
 */
export async function prepareCategory(adapter: EventStore, category: string, runId: string): Promise<void> {
  const name = `prepare_${runId}`.slice(0, 64);
  const subscription = await adapter.subscribe(name, async () => {}, { category, from: 'end', closeTimeoutMs: 1000 });
  await subscription.close();
  await adapter.deleteSubscription(name, { category });
}
