/**
 * The analysis step's "ML model" (docs/case-processing.md): two small logistic regressions and a
 * repayment-capacity rule, deterministic and documented, so every run and every backend analyses a case
 * identically.
 *
 * Features (all from `case.intake`):
 *   x_debt      = ln(debt_amount / 37,485)              debt relative to the private intake mean (I)
 *   x_creditors = (creditor_count - 13) / 6.5           creditors relative to the mean of 13 (I)
 *   x_dti       = ln(debt_amount / (12 * monthly_income)) debt-to-annual-income ratio (the income proxy)
 *   entrepreneur, children (single parent or couple with children), benefits (income from benefits)
 *
 * success = sigmoid(b0 - 0.45 x_debt - 0.35 x_creditors - 0.30 x_dti - 0.70 entrepreneur - 0.15 children - 0.25 benefits)
 * risk    = sigmoid(a0 + 0.55 x_debt + 0.45 x_creditors + 0.35 x_dti + 0.50 entrepreneur + 0.30 benefits + 1.0 urgent)
 *
 * Coefficients: assumption, no published figure (signs follow the literature's direction: more debt and
 * more creditors lower the chance of a settlement). b0 is calibrated so that the mean success
 * probability over generated intakes is 0.64, the published overall completion rate (I, 2016); a0 so
 * that the mean risk score is about 50. Letters (I, M) name sources in docs/debt-figures.md.
 */
import { MEAN_CREDITORS, MEAN_DEBT_PRIVATE, REPAYMENT_TERM_MONTHS } from './figures.ts';
import type { CaseAnalysis, CaseIntake, Decision } from './events.ts';

export const MODEL_VERSION = 'logit-v1';

/** Calibrated on 100,000 generated intakes (seed 1) to a mean success probability of 0.64 (I). */
const B0 = 0.78;
/** Calibrated to a mean risk score of ~50. */
const A0 = -0.28;

/**
 * Income the household keeps for living ("vrij te laten bedrag"), EUR per month: assumption, no
 * published figure (about 95 % of the 2024 social-assistance norm for a single person).
 */
export const PROTECTED_INCOME = 1_350;
/** A small total with no repayment capacity is forgiven rather than settled: assumption, no published figure. */
export const FORGIVE_BELOW_EUR = 10_000;
/** Creditor count above which the case is referred (too complex for a voluntary settlement): assumption. */
export const REFER_ABOVE_CREDITORS = 25;

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export interface ModelFeatures {
  x_debt: number;
  x_creditors: number;
  x_dti: number;
  entrepreneur: number;
  children: number;
  benefits: number;
  urgent: number;
}

export function features(intake: CaseIntake): ModelFeatures {
  const income = Math.max(intake.monthly_income ?? 1_450, 100);
  return {
    x_debt: Math.log(intake.debt_amount / MEAN_DEBT_PRIVATE),
    x_creditors: ((intake.creditor_count ?? MEAN_CREDITORS) - MEAN_CREDITORS) / 6.5,
    x_dti: Math.log(intake.debt_amount / (12 * income)),
    entrepreneur: intake.debtor_type === 'entrepreneur' ? 1 : 0,
    children: intake.household_type === 'single_parent' || intake.household_type === 'couple_with_children' ? 1 : 0,
    benefits: intake.income_source === 'benefits' ? 1 : 0,
    urgent: intake.priority === 'urgent' ? 1 : 0,
  };
}

/** Runs the model: the `case.analysis` data for an intake. Pure and deterministic. */
export function analyse(intake: CaseIntake): CaseAnalysis {
  const f = features(intake);
  const success = sigmoid(
    B0 - 0.45 * f.x_debt - 0.35 * f.x_creditors - 0.3 * f.x_dti - 0.7 * f.entrepreneur - 0.15 * f.children - 0.25 * f.benefits,
  );
  const risk = sigmoid(A0 + 0.55 * f.x_debt + 0.45 * f.x_creditors + 0.35 * f.x_dti + 0.5 * f.entrepreneur + 0.3 * f.benefits + f.urgent);

  // What the household can repay within the statutory term (18 months since 1-7-2023, M).
  const capacity = Math.max(0, (intake.monthly_income ?? 0) - PROTECTED_INCOME);
  const repayable = Math.min(intake.debt_amount, capacity * REPAYMENT_TERM_MONTHS);
  const creditors = intake.creditor_count ?? MEAN_CREDITORS;

  let action: Decision;
  if (repayable >= intake.debt_amount) action = 'collect';
  else if (capacity === 0 && intake.debt_amount < FORGIVE_BELOW_EUR) action = 'forgive';
  else if (f.entrepreneur || creditors > REFER_ABOVE_CREDITORS || success < 0.35) action = 'refer_assistance';
  else action = 'payment_plan';

  // Savings: the part creditors write off in a settlement, weighted by the chance it succeeds.
  const writeOff = intake.debt_amount - repayable;
  const savings = action === 'collect' ? 0 : action === 'refer_assistance' ? writeOff * success * 0.5 : writeOff * success;

  // Confidence: high when the model is far from 0.5, lower when the income proxy or creditors are missing.
  const missing = (intake.monthly_income === undefined ? 1 : 0) + (intake.creditor_count === undefined ? 1 : 0);
  const confidence = Math.max(0.05, 0.55 + 0.4 * Math.abs(2 * success - 1) - 0.15 * missing);

  return {
    case_id: intake.case_id,
    risk_score: Math.round(100 * risk),
    success_probability: round(success, 4),
    recommended_action: action,
    estimated_savings: round(savings, 2),
    analysis_confidence: round(confidence, 4),
    model_version: MODEL_VERSION,
  };
}
