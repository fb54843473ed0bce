/**
 * The decision step's rules engine (docs/case-processing.md, "The processors in eventbench"): rules are
 * data (condition -> decision, reason, next steps), checked by a zod schema, evaluated in order; the first
 * rule whose condition holds decides. Facts are the fields of `case.intake` and `case.analysis`. A rule
 * set could equally be loaded from YAML: `parseRules(yaml.parse(text))`.
 *
 * The default rule set's thresholds are assumptions (no published figure) except where a source is named
 * (letters I, J, M: the sources of docs/debt-figures.md).
 */
import { z } from 'zod';
import { ConfigError } from '../../core/event-store.ts';
import { DECISION_VALUES, type CaseAnalysis, type CaseDecision, type CaseIntake } from './events.ts';

const Scalar = z.union([z.string(), z.number(), z.boolean()]);
export const ComparisonSchema = z.strictObject({
  fact: z.string().min(1),
  op: z.enum(['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in']),
  value: z.union([Scalar, z.array(Scalar)]),
});
export type Comparison = z.infer<typeof ComparisonSchema>;
export type Condition = Comparison | { all: Condition[] } | { any: Condition[] } | { always: true };
export const ConditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    ComparisonSchema,
    z.strictObject({ all: z.array(ConditionSchema).min(1) }),
    z.strictObject({ any: z.array(ConditionSchema).min(1) }),
    z.strictObject({ always: z.literal(true) }),
  ]),
);

export const RuleSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9_-]+$/),
  when: ConditionSchema,
  then: z.strictObject({
    decision: z.enum(DECISION_VALUES),
    reason: z.string().min(1),
    next_steps: z.array(z.string().min(1)),
  }),
});
export type Rule = z.infer<typeof RuleSchema>;

/** Validates a rule set (e.g. read from YAML); the last rule must be a catch-all so every case is decided. */
export function parseRules(input: unknown): Rule[] {
  const parsed = z.array(RuleSchema).min(1).safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`rules[${issue.path.join('.')}]: ${issue.message}`);
  }
  const last = parsed.data[parsed.data.length - 1]!;
  if (!('always' in last.when)) throw new ConfigError(`rules: the last rule (${last.id}) must have "when: { always: true }"`);
  return parsed.data;
}

/** A fact by name: a field of the analysis, else of the intake (its debt list is not a fact). */
export type Facts = (name: string) => unknown;

export function factsOf(intake: CaseIntake, analysis: CaseAnalysis): Facts {
  // Looked up on demand: copying both objects into one (rest and spread) was a fifth of a case's
  // processing time in the generate bench (profiled).
  const a = analysis as Readonly<Record<string, unknown>>;
  const i = intake as Readonly<Record<string, unknown>>;
  return (name) => (Object.hasOwn(a, name) ? a[name] : name !== 'debts' && Object.hasOwn(i, name) ? i[name] : undefined);
}

function compare(c: Comparison, facts: Facts): boolean {
  const v = facts(c.fact);
  switch (c.op) {
    case 'eq':
      return v === c.value;
    case 'ne':
      return v !== c.value;
    case 'in':
      return Array.isArray(c.value) && c.value.includes(v as never);
    default: {
      if (typeof v !== 'number' || typeof c.value !== 'number') return false;
      if (c.op === 'lt') return v < c.value;
      if (c.op === 'lte') return v <= c.value;
      if (c.op === 'gt') return v > c.value;
      return v >= c.value;
    }
  }
}

export function holds(cond: Condition, facts: Facts): boolean {
  if ('always' in cond) return true;
  if ('all' in cond) return cond.all.every((c) => holds(c, facts));
  if ('any' in cond) return cond.any.some((c) => holds(c, facts));
  return compare(cond, facts);
}

/** The first matching rule's decision (decided by `system`). */
export function decide(rules: readonly Rule[], intake: CaseIntake, analysis: CaseAnalysis): CaseDecision {
  const facts = factsOf(intake, analysis);
  const rule = rules.find((r) => holds(r.when, facts));
  if (!rule) throw new ConfigError(`rules: no rule matched case ${intake.case_id} (the rule set needs a catch-all)`);
  return {
    case_id: intake.case_id,
    decision: rule.then.decision,
    decided_by: 'system',
    reason: rule.then.reason,
    next_steps: [...rule.then.next_steps],
    rule_id: rule.id,
  };
}

/** The default rule set. */
export const DEFAULT_RULES: Rule[] = parseRules([
  {
    id: 'crisis',
    when: { all: [{ fact: 'priority', op: 'eq', value: 'urgent' }, { fact: 'risk_score', op: 'gte', value: 75 }] },
    then: {
      decision: 'refer_assistance',
      reason: 'Acute eviction or disconnection threat with a high risk score: crisis intervention first (I: crisis cases within 3 working days)',
      next_steps: ['crisis_intervention', 'contact_creditor_moratorium', 'schedule_intake_interview'],
    },
  },
  {
    id: 'entrepreneur',
    when: { fact: 'debtor_type', op: 'eq', value: 'entrepreneur' },
    then: {
      decision: 'refer_assistance',
      reason: 'Entrepreneur: refer to Bbz / specialised business debt help',
      next_steps: ['refer_bbz', 'request_business_administration'],
    },
  },
  {
    id: 'full-repayment',
    when: { fact: 'recommended_action', op: 'eq', value: 'collect' },
    then: {
      decision: 'collect',
      reason: 'Repayment capacity covers the full debt within the 18-month term (M)',
      next_steps: ['draw_up_repayment_schedule', 'inform_creditors'],
    },
  },
  {
    id: 'forgive-small',
    when: { all: [{ fact: 'recommended_action', op: 'eq', value: 'forgive' }, { fact: 'debt_amount', op: 'lt', value: 10_000 }] },
    then: {
      decision: 'forgive',
      reason: 'No repayment capacity and a small total: request remission (kwijtschelding) from creditors',
      next_steps: ['request_remission', 'inform_creditors'],
    },
  },
  {
    id: 'low-success',
    when: { any: [{ fact: 'success_probability', op: 'lt', value: 0.35 }, { fact: 'recommended_action', op: 'eq', value: 'refer_assistance' }] },
    then: {
      decision: 'refer_assistance',
      reason: 'A voluntary settlement is unlikely to succeed: refer to the court scheme (WSNP, J) or budget management',
      next_steps: ['refer_wsnp', 'offer_budget_management'],
    },
  },
  {
    id: 'settlement',
    when: { always: true },
    then: {
      decision: 'payment_plan',
      reason: 'Negotiate a debt settlement with all creditors over the 18-month term (M)',
      next_steps: ['stabilise_income_and_costs', 'propose_settlement_to_creditors', 'start_18_month_payment_plan'],
    },
  },
]);
