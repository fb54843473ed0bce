/**
 * The case simulator of docs/case-processing.md: realistic debt-help intakes from the published figures in
 * figures.ts (docs/debt-figures.md).
 * Deterministic: the same seed gives the same cases, byte for byte, including their (simulated)
 * arrival timestamps, so a run can be reproduced and two backends get exactly the same input.
 */
import type { PlannedAppend } from '../workload.ts';
import { Random, WeightedChoice, weightedRecord } from '../../core/random.ts';
import { randomBsn } from './bsn.ts';
import { isoDate } from '../common.ts';
import { caseStream, CASE_EVENT_TYPES, type CaseIntake, type Debt, type Priority } from './events.ts';
import {
  APPLICATIONS_PER_YEAR,
  CREDITOR_COUNT_DISPERSION,
  CREDITOR_NAMES,
  CREDITORS,
  DEBT_SIGMA,
  DEBT_SPLIT_SIGMA,
  DEFAULT_START,
  ENTREPRENEUR_SHARE,
  ENTREPRENEUR_TAX_WEIGHT_FACTOR,
  HIGH_PRIORITY_CREDITORS,
  HOUR_SHAPE,
  HOUSEHOLD_TYPES,
  INCOME_SIGMA,
  INTAKE_CHANNELS,
  LOW_PRIORITY_DEBT,
  MEAN_CREDITORS,
  MEAN_DEBT_ALL,
  MEAN_DEBT_ENTREPRENEUR,
  MEAN_DEBT_PRIVATE,
  MEAN_MONTHLY_INCOME,
  MUNICIPALITIES,
  REFERENCE_YEAR,
  SHARE_NO_EMPLOYEE,
  URGENT_ARREAR_EUR,
  WEEKDAY_SHAPE,
  type CreditorCategory,
  type HouseholdType,
} from './figures.ts';

export interface CaseSimulatorOptions {
  seed: number;
  /** Simulated time of the start of the run (ISO 8601). */
  start?: string;
  /** Applications per year the arrival process follows (default: REFERENCE_YEAR's, source I). */
  applicationsPerYear?: number;
}

export interface SimulatedCase {
  /** Simulated arrival time, ms since the epoch. */
  arrivalMs: number;
  timestamp: string;
  /** The `case.intake` event id (drawn from the seed too). */
  eventId: string;
  intake: CaseIntake;
}

const MS_PER_YEAR = 365.25 * 86_400_000;
const PUBLISHED = CREDITOR_NAMES.filter((c) => CREDITORS[c].share !== null);
const PUBLISHED_SHARE_SUM = PUBLISHED.reduce((s, c) => s + (CREDITORS[c].share ?? 0), 0);

// The creditor table by index, for the per-case loops: keyed lookups (`CREDITORS[name]`, a Map from name
// to index) were a third of the generation time (profiled).
const CATEGORY = CREDITOR_NAMES.map((c) => CREDITORS[c] as CreditorCategory);
const PUBLISHED_INDEX = PUBLISHED.map((c) => CREDITOR_NAMES.indexOf(c));
const HAS_SHARE = Uint8Array.from(CATEGORY, (c) => (c.share === null ? 0 : 1));
const TAX_INDEX = CREDITOR_NAMES.indexOf('belastingdienst');
const FALLBACK_INDEX = CREDITOR_NAMES.indexOf('incassobureau');
/** Extra creditors beyond one per published category, so that the mean total is MEAN_CREDITORS (I). */
const MEAN_EXTRA_CREDITORS = MEAN_CREDITORS - PUBLISHED_SHARE_SUM;

const SHAPE_MAX = Math.max(...WEEKDAY_SHAPE) * Math.max(...HOUR_SHAPE);
const SHAPE_MEAN =
  (WEEKDAY_SHAPE.reduce((s, x) => s + x, 0) / WEEKDAY_SHAPE.length) * (HOUR_SHAPE.reduce((s, x) => s + x, 0) / HOUR_SHAPE.length);

/** Relative intake rate at simulated time `ms` (weekday x hour-of-day shape, UTC for simplicity). */
export function arrivalShape(ms: number): number {
  const day = Math.floor(ms / 86_400_000);
  const weekday = (day + 3) % 7; // 1970-01-01 was a Thursday; 0 = Monday
  const hour = Math.floor((ms - day * 86_400_000) / 3_600_000);
  return WEEKDAY_SHAPE[weekday]! * HOUR_SHAPE[hour]!;
}

export class CaseSimulator {
  private readonly rng: Random;
  private clockMs: number;
  /** Mean gap between candidate arrivals at the peak rate (thinning of a non-homogeneous Poisson process). */
  private readonly peakGapMs: number;
  private readonly households: WeightedChoice<HouseholdType>;
  private readonly channels: WeightedChoice<keyof typeof INTAKE_CHANNELS>;
  private readonly municipalities: WeightedChoice<string>;
  /** Extra creditors, as indices into CREDITOR_NAMES. */
  private readonly extraCreditors: WeightedChoice<number>;
  private readonly present = new Uint8Array(CREDITOR_NAMES.length);
  /** Scratch buffers for one case's creditors (indices) and their weights, then amounts in cents. */
  private creditors = new Int32Array(64);
  private weights = new Float64Array(64);

  constructor(options: CaseSimulatorOptions) {
    this.rng = new Random(options.seed).fork('debt-cases');
    const start = Date.parse(options.start ?? DEFAULT_START);
    if (!Number.isFinite(start)) throw new RangeError(`start is not a date: ${options.start}`);
    this.clockMs = start;
    const perYear = options.applicationsPerYear ?? APPLICATIONS_PER_YEAR[REFERENCE_YEAR]!;
    // Mean rate = perYear / year; the shape scales it by shape/SHAPE_MEAN; candidates come at the peak rate.
    this.peakGapMs = MS_PER_YEAR / perYear / (SHAPE_MAX / SHAPE_MEAN);
    this.households = weightedRecord(HOUSEHOLD_TYPES);
    this.channels = weightedRecord(INTAKE_CHANNELS);
    this.municipalities = new WeightedChoice(Object.entries(MUNICIPALITIES).map(([name, m]) => [name, m.rate * m.households] as const));
    this.extraCreditors = new WeightedChoice(CATEGORY.map((c, i) => [i, c.extraWeight] as const));
  }

  /** Next arrival time: thinning (Lewis and Shedler) of a Poisson process at the peak rate. */
  private nextArrival(): number {
    for (let i = 0; i < 100_000; i++) {
      this.clockMs += this.rng.exponential(this.peakGapMs);
      if (this.rng.next() * SHAPE_MAX < arrivalShape(this.clockMs)) break;
    }
    return Math.round(this.clockMs);
  }

  next(): SimulatedCase {
    const rng = this.rng;
    const arrivalMs = this.nextArrival();
    const caseId = rng.uuid();
    const eventId = rng.uuid();
    const entrepreneur = rng.chance(ENTREPRENEUR_SHARE);
    const totalCents = Math.max(
      5_000,
      Math.round(rng.logNormalWithMean(entrepreneur ? MEAN_DEBT_ENTREPRENEUR : MEAN_DEBT_PRIVATE, DEBT_SIGMA) * 100),
    );
    const household = this.households.sample(rng);
    const incomeSource = entrepreneur ? 'self_employed' : rng.chance(SHARE_NO_EMPLOYEE) ? 'benefits' : 'employment';
    const monthlyIncome = Math.round(rng.logNormalWithMean(MEAN_MONTHLY_INCOME[incomeSource], INCOME_SIGMA));

    // Creditors: each published category present with its published share; then extra creditors up to
    // a negative-binomial total with mean 13 (I), only in categories already present or without a share,
    // so the published shares hold exactly.
    const present = this.present;
    present.fill(0);
    let n = 0;
    for (const c of PUBLISHED_INDEX) {
      if (rng.chance(CATEGORY[c]!.share!)) {
        present[c] = 1;
        n++;
      }
    }
    let extra = rng.negativeBinomial(MEAN_EXTRA_CREDITORS, CREDITOR_COUNT_DISPERSION);
    if (n + extra === 0) extra = 1;
    if (this.creditors.length < n + extra) {
      this.creditors = new Int32Array(2 * (n + extra));
      this.weights = new Float64Array(2 * (n + extra));
    }
    const creditors = this.creditors;
    n = 0;
    for (const c of PUBLISHED_INDEX) if (present[c]) creditors[n++] = c;
    for (let i = 0; i < extra; i++) {
      let c = FALLBACK_INDEX;
      for (let attempt = 0; attempt < 16; attempt++) {
        const candidate = this.extraCreditors.sample(rng);
        if (!HAS_SHARE[candidate] || present[candidate]) {
          c = candidate;
          break;
        }
      }
      creditors[n++] = c;
    }

    // Split the total over the creditors: category weight x a log-normal factor, in whole cents.
    const weights = this.weights;
    let weightSum = 0;
    for (let i = 0; i < n; i++) {
      const c = creditors[i]!;
      const base = CATEGORY[c]!.amountWeight * (entrepreneur && c === TAX_INDEX ? ENTREPRENEUR_TAX_WEIGHT_FACTOR : 1);
      const w = base * Math.exp(rng.normal(0, DEBT_SPLIT_SIGMA));
      weights[i] = w;
      weightSum += w;
    }
    let assigned = 0;
    let largest = 0;
    for (let i = 0; i < n; i++) {
      const c = Math.floor((totalCents * weights[i]!) / weightSum);
      weights[i] = c; // reuse the buffer for the amounts in cents
      assigned += c;
      if (c > weights[largest]!) largest = i;
    }
    weights[largest] = weights[largest]! + (totalCents - assigned);
    const debts: Debt[] = [];
    for (let i = 0; i < n; i++) {
      const cat = CATEGORY[creditors[i]!]!;
      debts.push({
        creditor: CREDITOR_NAMES[creditors[i]!]!,
        organization: rng.pick(cat.organizations),
        debt_type: rng.pick(cat.debtTypes),
        amount: weights[i]! / 100,
      });
    }
    const primary = debts[largest]!;
    const debtAmount = totalCents / 100;

    const intake: CaseIntake = {
      case_id: caseId,
      citizen_bsn: randomBsn(rng),
      debt_amount: debtAmount,
      debt_type: primary.debt_type,
      organization: primary.organization,
      intake_channel: this.channels.sample(rng),
      priority: priorityOf(debtAmount, debts, household),
      municipality: this.municipalities.sample(rng),
      household_type: household,
      debtor_type: entrepreneur ? 'entrepreneur' : 'private',
      income_source: incomeSource,
      monthly_income: monthlyIncome,
      creditor_count: debts.length,
      debts,
    };
    return { arrivalMs, timestamp: isoDate(arrivalMs), eventId, intake };
  }
}

/** Priority from the case (see figures.ts: assumption, no published figure for the shares). */
export function priorityOf(debtAmount: number, debts: readonly Debt[], household: string): Priority {
  for (const d of debts) {
    if ((d.creditor === 'verhuurder' || d.creditor === 'energie') && d.amount >= URGENT_ARREAR_EUR) return 'urgent';
  }
  const children = household === 'single_parent' || household === 'couple_with_children';
  if ((children && debtAmount > MEAN_DEBT_ALL) || debts.length >= HIGH_PRIORITY_CREDITORS) return 'high';
  if (debtAmount < LOW_PRIORITY_DEBT) return 'low';
  return 'normal';
}

/** The `case.intake` append for a simulated case: a new stream `case-<case_id>` (expected: no stream). */
export function intakeAppend(sim: SimulatedCase): PlannedAppend {
  return {
    stream: caseStream(sim.intake.case_id),
    events: [
      {
        id: sim.eventId,
        type: CASE_EVENT_TYPES.intake,
        timestamp: sim.timestamp,
        correlationId: sim.intake.case_id,
        data: sim.intake,
      },
    ],
    expectedVersion: 'no_stream',
  };
}
