/**
 * The `debt-cases` workload (docs/case-processing.md): case intakes from the CBS-based simulator, one new stream
 * `case-<case_id>` per case. The processors (processors.ts) append the other three case events.
 */
import type { WorkloadModule } from '../workload.ts';
import { validatorFor } from '../schema.ts';
import { CASE_CATEGORY, CASE_EVENT_TYPES, CASE_SCHEMAS } from './events.ts';
import { CaseSimulator, intakeAppend } from './generator.ts';

export const debtCasesWorkload: WorkloadModule = {
  name: 'debt-cases',
  description: 'Debt-help case intakes (docs/case-processing.md) from published CBS/NVVK figures: ~13 creditors, log-normal debt, ~1.7 kB',
  category: CASE_CATEGORY,
  eventTypes: Object.values(CASE_EVENT_TYPES),
  create({ seed }) {
    const sim = new CaseSimulator({ seed });
    return { next: () => intakeAppend(sim.next()) };
  },
  validate: validatorFor(CASE_SCHEMAS),
};

export { CaseSimulator, intakeAppend } from './generator.ts';
export { startCaseProcessors, applyEffect, type CaseProcessors, type CaseProcessorOptions } from './processors.ts';
export { CaseProjection, replayProjection, startLiveProjection, type CaseSummary } from './projection.ts';
