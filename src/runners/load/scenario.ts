/**
 * What one load run does, as plain data: the executor and its options, the workload, the timing and
 * the limits. The CLI builds it from flags (each executor module parses its own); tests and benchmarks
 * build it directly; `runLoad` validates it with the executor's schema before anything starts.
 */
import { EXECUTOR_NAMES, type ExecutorName } from '../../report/load-result.ts';
import type { WorkloadName } from '../../workloads/index.ts';
import type { Stage } from './parse.ts';
import type { Threshold } from './thresholds.ts';

/** The executors (named in the results schema); each is a module in executors/, registered in executors/index.ts. */
export { EXECUTOR_NAMES, type ExecutorName };

export interface LoadScenario {
  executor: ExecutorName;
  workload: WorkloadName;
  seed: number;
  /** Prefix of stream names / event ids, so runs never collide in one namespace. */
  runId: string;
  /** constant: the rate; max: the first rate tried; ramp: the start rate (default 0). Appends/s. */
  rate?: number;
  stages?: Stage[];
  writers?: number;
  /** Measured duration (max: the whole search), excluding warm-up. */
  durationMs: number;
  warmupMs: number;
  maxInFlight: number;
  workers: number;
  streams?: number;
  /** max: the latency objective (a latency threshold such as p99<50ms). */
  slo?: Threshold;
  /** max: length of one step. */
  stepDurationMs?: number;
  /** After the schedule: how long at most to wait for appends in flight and for the consumer. */
  drainTimeoutMs: number;
  consumer: boolean;
  metrics: boolean;
}
