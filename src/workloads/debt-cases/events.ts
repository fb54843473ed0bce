/**
 * The case events of docs/case-processing.md ("The events": `case.intake`, `case.analysis`,
 * `case.decision`, `case.completed`) with their snake_case fields and allowed values. These zod schemas are
 * the one source: the TypeScript types, the generator's output checks and the processors' input checks all
 * derive from them.
 *
 * Inside the eventbench envelope (src/core/event-store.ts, docs/envelope.md) the design's `event_id` is
 * the envelope `id`, `event_type` its `type`, `timestamp` its `timestamp`, `correlation_id` (= case_id)
 * its `correlationId`, and the design's `data` object is the envelope's `data`, field for field.
 *
 * Additive extensions (marked "extension") carry what the simulator needs beyond the required fields: the
 * household and its creditors (mean 13 per case, docs/debt-figures.md source I); they are optional, so an
 * event with only the required fields validates too. Unknown fields are rejected (a typo is an error, not
 * silently ignored).
 */
import { z } from 'zod';
import { CREDITOR_NAMES, DEBT_TYPES, HOUSEHOLD_TYPES, INTAKE_CHANNELS, MEAN_MONTHLY_INCOME } from './figures.ts';
import { isValidBsn } from './bsn.ts';
import type { SchemaMap } from '../schema.ts';

/** The event types, as `as const` so every other list derives from it. */
export const CASE_EVENT_TYPES = {
  intake: 'case.intake',
  analysis: 'case.analysis',
  decision: 'case.decision',
  completed: 'case.completed',
} as const;
export type CaseEventType = (typeof CASE_EVENT_TYPES)[keyof typeof CASE_EVENT_TYPES];

/** The stream category: every case is one stream `case-<case_id>`. */
export const CASE_CATEGORY = 'case';
export const caseStream = (caseId: string): string => `${CASE_CATEGORY}-${caseId}`;

// Allowed values as docs/case-processing.md lists them.
export const INTAKE_CHANNEL_VALUES = Object.keys(INTAKE_CHANNELS) as [keyof typeof INTAKE_CHANNELS, ...(keyof typeof INTAKE_CHANNELS)[]];
export const PRIORITY_VALUES = ['low', 'normal', 'high', 'urgent'] as const;
export const DECISION_VALUES = ['forgive', 'payment_plan', 'collect', 'refer_assistance'] as const;
export const OUTCOME_VALUES = ['resolved', 'withdrawn', 'escalated'] as const;
export type Priority = (typeof PRIORITY_VALUES)[number];
export type Decision = (typeof DECISION_VALUES)[number];
export type Outcome = (typeof OUTCOME_VALUES)[number];

const caseId = z.uuid({ message: 'must be a UUID' });
/** Money in euros with at most cents. */
const euros = z
  .number()
  .finite()
  .nonnegative()
  .refine((v) => Math.abs(Math.round(v * 100) - v * 100) < 1e-6, { message: 'must have at most two decimals (cents)' });
const probability = z.number().min(0).max(1);

export const DebtSchema = z.strictObject({
  creditor: z.enum(CREDITOR_NAMES as [string, ...string[]]),
  organization: z.string().min(1).max(100),
  debt_type: z.enum(DEBT_TYPES),
  amount: euros,
});

export const CaseIntakeSchema = z.strictObject({
  case_id: caseId,
  citizen_bsn: z
    .string()
    .regex(/^\d{9}$/, 'must be 9 digits')
    .refine(isValidBsn, { message: 'fails the 11-check (elfproef)' }),
  /** Total debt of the case in euros (`debt_amount`). */
  debt_amount: euros.refine((v) => v > 0, { message: 'must be positive' }),
  /** The largest debt's type (the design's examples: `cak_eigen_bijdrage`, `parkeerboete`). */
  debt_type: z.enum(DEBT_TYPES),
  /** The largest debt's creditor organisation (the design's example: `CAK`). */
  organization: z.string().min(1).max(100),
  intake_channel: z.enum(INTAKE_CHANNEL_VALUES),
  priority: z.enum(PRIORITY_VALUES),
  // extensions
  municipality: z.string().min(1).max(100).optional(),
  household_type: z.enum(Object.keys(HOUSEHOLD_TYPES) as [string, ...string[]]).optional(),
  debtor_type: z.enum(['private', 'entrepreneur']).optional(),
  income_source: z.enum(Object.keys(MEAN_MONTHLY_INCOME) as [string, ...string[]]).optional(),
  monthly_income: euros.optional(),
  creditor_count: z.number().int().positive().optional(),
  debts: z.array(DebtSchema).min(1).optional(),
});

export const CaseAnalysisSchema = z.strictObject({
  case_id: caseId,
  risk_score: z.number().int().min(0).max(100),
  success_probability: probability,
  recommended_action: z.enum(DECISION_VALUES),
  estimated_savings: euros,
  analysis_confidence: probability,
  // extension
  model_version: z.string().min(1).max(40).optional(),
});

export const CaseDecisionSchema = z.strictObject({
  case_id: caseId,
  decision: z.enum(DECISION_VALUES),
  /** `system`, or a caseworker id (docs/case-processing.md: "system" or a caseworker's id). */
  decided_by: z.string().regex(/^(system|cw_[0-9]{1,6})$/, 'must be "system" or a caseworker id like "cw_0042"'),
  reason: z.string().min(1).max(500),
  next_steps: z.array(z.string().min(1).max(200)).max(20),
  // extensions
  rule_id: z.string().min(1).max(60).optional(),
  escalated: z.boolean().optional(),
});

export const CaseCompletedSchema = z.strictObject({
  case_id: caseId,
  outcome: z.enum(OUTCOME_VALUES),
  duration_seconds: z.number().int().nonnegative(),
  total_savings: euros,
  // extension
  decision: z.enum(DECISION_VALUES).optional(),
});

export type Debt = z.infer<typeof DebtSchema>;
export type CaseIntake = z.infer<typeof CaseIntakeSchema>;
export type CaseAnalysis = z.infer<typeof CaseAnalysisSchema>;
export type CaseDecision = z.infer<typeof CaseDecisionSchema>;
export type CaseCompleted = z.infer<typeof CaseCompletedSchema>;

export const CASE_SCHEMAS = {
  [CASE_EVENT_TYPES.intake]: CaseIntakeSchema,
  [CASE_EVENT_TYPES.analysis]: CaseAnalysisSchema,
  [CASE_EVENT_TYPES.decision]: CaseDecisionSchema,
  [CASE_EVENT_TYPES.completed]: CaseCompletedSchema,
} as const satisfies SchemaMap;
