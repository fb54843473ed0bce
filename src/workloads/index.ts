/** The one registry of workloads by name (used by `load`, `bench`, `generate`). */
import type { WorkloadModule } from './workload.ts';
import { syntheticWorkload } from './synthetic.ts';
import { debtCasesWorkload } from './debt-cases/index.ts';
import { documentsWorkload } from './documents.ts';
import { fileUploadsWorkload } from './file-uploads.ts';
import { domainEventsWorkload } from './domain-events.ts';
import { invoicesWorkload } from './invoices.ts';
import { invoicesEvolvingWorkload } from './invoices-evolving.ts';

export const workloads = {
  synthetic: syntheticWorkload,
  'debt-cases': debtCasesWorkload,
  documents: documentsWorkload,
  'file-uploads': fileUploadsWorkload,
  'domain-events': domainEventsWorkload,
  invoices: invoicesWorkload,
  'invoices-evolving': invoicesEvolvingWorkload,
} satisfies Record<string, WorkloadModule>;

export type WorkloadName = keyof typeof workloads;
export const WORKLOAD_NAMES = Object.keys(workloads) as WorkloadName[];

export function isWorkloadName(name: string): name is WorkloadName {
  return Object.hasOwn(workloads, name);
}
