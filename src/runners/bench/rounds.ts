/**
 * The rounds of one `eventbench bench`: per run, each backend and then its raw-driver baseline
 * (postgres, raw-postgres, jetstream, raw-jetstream, ... again for the next run), so drift on a shared
 * machine falls on adapter and raw alike and every ratio comes from one invocation. Each round gets its
 * own run id (stream names and event ids), all in the one namespace: a baseline writes into the tables /
 * streams its adapter's round created.
 */
import { ConfigError } from '../../core/event-store.ts';
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

export function planRounds(backends: BackendName[], options: BenchOptions, runId: string): BenchRound[] {
  const rounds: BenchRound[] = [];
  // Run ids are at most 24 characters (--run-id); the suffix keeps rounds apart.
  const base = runId.slice(0, 19);
  for (let run = 1; run <= options.runs; run++) {
    for (const backend of backends) {
      rounds.push({ run, store: backend, baselineOf: null, runId: `${base}_${run}a` });
      const raw = options.baseline ? baselineOf(backend) : undefined;
      if (raw) rounds.push({ run, store: raw, baselineOf: backend, runId: `${base}_${run}r` });
    }
  }
  return rounds;
}
