/** What one chaos run on one backend found (src/runners/chaos/run.ts), as the CLI, the summary and the matrix read it. */
import type { ServerSnapshots } from '../../infra/server-snapshots.ts';
import type { WritersSummary } from './clients.ts';
import type { BrokenExpectation } from './judge.ts';
import type { ChaosBackend } from './scenario.ts';
import type { Verdict } from './verdict.ts';

export interface ChaosRunResult {
  backend: ChaosBackend;
  scenario: string;
  runId: string;
  namespace: string;
  interrupted: boolean;
  loadMs: number;
  /** The consumer handled everything stored within the scenario's drain time (null: no consumer, or interrupted). */
  drained: boolean | null;
  writers: WritersSummary;
  verdict: Verdict;
  broken: BrokenExpectation[];
  /** A fault that could not be applied or undone (the run still healed what it could). */
  faultError?: string;
  /** The server's own counters at the start and end of the run (src/infra/server-snapshots.ts); in verdict.json. */
  serverSnapshots?: ServerSnapshots;
}
