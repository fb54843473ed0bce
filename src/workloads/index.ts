/** The one registry of workloads by name (used by `load`, `bench`, `generate`). */
import type { WorkloadModule } from './workload.ts';

export const workloads = {} satisfies Record<string, WorkloadModule>;

export type WorkloadName = keyof typeof workloads;
export const WORKLOAD_NAMES = Object.keys(workloads) as WorkloadName[];

export function isWorkloadName(name: string): name is WorkloadName {
  return Object.hasOwn(workloads, name);
}
