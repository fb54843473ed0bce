/**
 * What one load run does, as plain data: the executor and its options, the workload, the timing and
 * the limits. The CLI builds it from flags (each executor module parses its own); tests and benchmarks
 * build it directly; `runLoad` validates it with the executor's schema before anything starts.
 */
import { EXECUTOR_NAMES, type ExecutorName } from '../../report/load-result.ts';
import type { ScenarioInput } from '../../report/result-assembly.ts';
import type { WorkloadName } from '../../workloads/index.ts';
import type { RunConsumerSettings } from './consumer.ts';
import type { Stage } from './parse.ts';
import type { Threshold } from './thresholds.ts';

/** The executors (named in the results schema); each is a module in executors/, registered in executors/index.ts. */
export { EXECUTOR_NAMES, type ExecutorName };

/** The parameters (documented in `ScenarioInput`), with the runner's own types for workload, stages and SLO. */
export interface LoadScenario extends ScenarioInput {
  workload: WorkloadName;
  stages?: Stage[];
  slo?: Threshold;
  /**
   * Run the workload's processors next to the load and report the pipeline (debt-cases: the case
   * processors, src/runners/load/pipeline.ts); refused for a workload without processors.
   */
  processors?: boolean;
  /** `--batch`: events per append (synthetic workload; src/workloads/synthetic.ts). Absent: 1. */
  batch?: number;
  /** `--event-size`: bytes of each event's data (synthetic workload, padded; src/workloads/synthetic.ts). Absent: ~1 KB. */
  eventBytes?: number;
  /**
   * `--retries N` (closed loop): on a version conflict re-read the stream version and send the same events
   * again, at most N times (executors/closed.ts). Absent: a conflict is counted and the writer moves on.
   */
  retries?: number;
  /** `--consumer-name`, `--max-ack-pending` (a scenario's `consumer: { name, maxAckPending }`): the run consumer's settings. */
  consumerSettings?: RunConsumerSettings;
  /** `--start-at`: epoch ms the schedule (warm-up included) begins at, shared by every generator (start-at.ts). */
  startAtMs?: number;
  /** `--generator-id`: this generator's index among many; its seed is forked from `seed` (start-at.ts). */
  generatorId?: number;
}
