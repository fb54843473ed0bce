/**
 * Parameters of the debt-case ("schuldhulp") simulator, each with its source: a letter A-M refers to the
 * source list in docs/debt-figures.md (CBS, NVVK, Divosa, parliamentary answers). A value
 * without a published figure behind it says so: "assumption, no published figure".
 *
 * The simulator models one year of intakes at municipal debt help (NVVK members, source I), because the
 * published intake means (debt amount, creditor count) are measured there.
 */

/** The NVVK year whose intake means are used (latest year with all three figures, I). */
export const REFERENCE_YEAR = 2022;

// ---------------------------------------------------------------------------------------------------
// Debt amounts (docs/debt-figures.md section 2)
// ---------------------------------------------------------------------------------------------------

/** Mean total debt at intake, private persons, 2022: EUR 37,485 (I). */
export const MEAN_DEBT_PRIVATE = 37_485;
/** Mean total debt at intake, entrepreneurs, 2022: EUR 74,000 (I). */
export const MEAN_DEBT_ENTREPRENEUR = 74_000;
/** Mean total debt at intake, all cases, 2022: EUR 40,170 (I). */
export const MEAN_DEBT_ALL = 40_170;

/**
 * Share of entrepreneurs among intakes, DERIVED from I: the all-case mean is the mix of the two group
 * means, p * 74,000 + (1 - p) * 37,485 = 40,170, so p = (40,170 - 37,485) / (74,000 - 37,485) = 7.35 %.
 * (2021: 7.0 %, 2019: 6.6 % by the same formula.)
 */
export const ENTREPRENEUR_SHARE = (MEAN_DEBT_ALL - MEAN_DEBT_PRIVATE) / (MEAN_DEBT_ENTREPRENEUR - MEAN_DEBT_PRIVATE);

/**
 * Spread (sigma of ln) of the total-debt log-normal: assumption, no published figure (docs/debt-figures.md
 * section 2: no median or size bands were found). 0.9 puts the median at ~67 % of the mean
 * (private: ~EUR 25k), and ~4 % of private cases under EUR 5k, in line with intake means of tens of
 * thousands of euros in I; the log-normal form itself is the documented assumption of section 2.
 */
export const DEBT_SIGMA = 0.9;

/** Per-creditor spread around its category's typical share of the total: assumption, no published figure. */
export const DEBT_SPLIT_SIGMA = 0.8;

// ---------------------------------------------------------------------------------------------------
// Creditors (docs/debt-figures.md section 3)
// ---------------------------------------------------------------------------------------------------

/** Mean number of creditors per case at intake: 13 (2019, 2021, 2022) (I). */
export const MEAN_CREDITORS = 13;

/**
 * Dispersion of the creditor count (negative binomial, variance = m + m^2/k): assumption, no published
 * figure. k = 3 gives a standard deviation of ~6.5 creditors around the mean of 13.
 */
export const CREDITOR_COUNT_DISPERSION = 3;

export interface CreditorCategory {
  /** Share of cases owing at least one creditor of this category; null = no published share. */
  share: number | null;
  /** Where `share` comes from. */
  source: string;
  /** Organisations (one is drawn uniformly per debt). */
  organizations: readonly string[];
  /** The `debt_type` values of this category (in the style of docs/case-processing.md's examples). */
  debtTypes: readonly string[];
  /**
   * Relative size of one debt of this category when a case's total is split over its creditors:
   * assumption, no published figure, ordered after the per-body means in G (UWV ~1,200 > tax ~920 >
   * toeslagen ~606) and L (social-assistance claims ~6,600), with consumer credit the largest.
   */
  amountWeight: number;
  /** Relative chance that an extra creditor (beyond the first per category) falls here: assumption, no published figure. */
  extraWeight: number;
}

/**
 * The creditor mix. Published shares are the share of problem-debt cases that owe the category at least
 * once; categories without a published share only receive the "extra" creditors that bring a case to its
 * creditor count.
 */
export const CREDITORS = {
  belastingdienst: {
    share: 0.525,
    source: 'F: 52.5 % of poor persons with registered problematic debts owe the Belastingdienst (2023)',
    organizations: ['Belastingdienst'],
    debtTypes: ['inkomstenbelasting', 'motorrijtuigenbelasting', 'naheffingsaanslag'],
    amountWeight: 3,
    extraWeight: 1,
  },
  toeslagen: {
    share: 0.2,
    source: 'C: ~1 in 5 problem-debt households have Toeslagen as creditor (~2023)',
    organizations: ['Dienst Toeslagen'],
    debtTypes: ['terugvordering_zorgtoeslag', 'terugvordering_huurtoeslag', 'terugvordering_kinderopvangtoeslag'],
    amountWeight: 2,
    extraWeight: 0.5,
  },
  zorgverzekeraar: {
    share: 0.4,
    source: 'F: ~40 % have a health-insurer arrear (2023)',
    organizations: ['Zilveren Kruis', 'CZ', 'VGZ', 'Menzis', 'DSW', 'ONVZ'],
    debtTypes: ['zorgpremie', 'eigen_risico'],
    amountWeight: 1.5,
    extraWeight: 0.5,
  },
  cak: {
    share: 178_686 / 747_500,
    source: 'H / D: CAK register 178,686 (31-3-2024) over ~747,500 problem-debt households (2024) = 23.9 %, derived',
    organizations: ['CAK'],
    debtTypes: ['cak_bestuursrechtelijke_premie', 'cak_eigen_bijdrage'],
    amountWeight: 1.5,
    extraWeight: 0.3,
  },
  cjib: {
    share: 0.15,
    source: 'assumption, no published figure (G: CJIB "smaller" than DUO\'s ~150k persons; A: a CJIB fine is a criterion)',
    organizations: ['CJIB'],
    debtTypes: ['verkeersboete', 'strafrechtelijke_boete'],
    amountWeight: 0.6,
    extraWeight: 2,
  },
  energie: {
    share: 0.4 * (25 / 45),
    source: 'F x K, derived: early-warning signals energy:health = 25:45 (K) applied to the 40 % health-insurer share (F) = 22.2 %',
    organizations: ['Vattenfall', 'Eneco', 'Essent', 'Budget Energie', 'Greenchoice'],
    debtTypes: ['energierekening'],
    amountWeight: 1.2,
    extraWeight: 0.3,
  },
  verhuurder: {
    share: 0.4 * (19 / 45),
    source: 'F x K, derived: signals landlord:health = 19:45 (K) x 40 % (F) = 16.9 %',
    organizations: ['Woonstad Rotterdam', 'Ymere', 'Haag Wonen', 'Portaal', 'particuliere verhuurder'],
    debtTypes: ['huurachterstand'],
    amountWeight: 2.5,
    extraWeight: 0.1,
  },
  water: {
    share: 0.4 * (11 / 45),
    source: 'F x K, derived: signals water:health = 11:45 (K) x 40 % (F) = 9.8 %',
    organizations: ['Evides', 'Vitens', 'Waternet', 'Brabant Water', 'WML'],
    debtTypes: ['waterrekening'],
    amountWeight: 0.4,
    extraWeight: 0.1,
  },
  duo: {
    share: 0.525 * (150_000 / 1_000_000),
    source: 'F x G, derived: DUO ~150k vs Belastingdienst > 1 million persons in arrears (G) x 52.5 % (F) = 7.9 %',
    organizations: ['DUO'],
    debtTypes: ['studieschuld_achterstand'],
    amountWeight: 3,
    extraWeight: 0.1,
  },
  bkr_kredietverstrekker: {
    share: 0.4,
    source: 'F: ~40 % have a BKR registration (2023)',
    organizations: ['ING', 'Rabobank', 'ABN AMRO', 'Santander Consumer Finance', 'Freo', 'Klarna', 'ICS Cards'],
    debtTypes: ['persoonlijke_lening', 'doorlopend_krediet', 'creditcard', 'roodstand'],
    amountWeight: 4,
    extraWeight: 3,
  },
  telecom: {
    share: null,
    source: 'assumption, no published figure',
    organizations: ['KPN', 'Vodafone', 'Odido', 'Ziggo'],
    debtTypes: ['telefoonrekening', 'internetabonnement'],
    amountWeight: 0.5,
    extraWeight: 1.5,
  },
  webwinkel: {
    share: null,
    source: 'assumption, no published figure',
    organizations: ['Wehkamp', 'bol.com', 'Otto', 'Riverty'],
    debtTypes: ['achteraf_betalen', 'postorder'],
    amountWeight: 0.4,
    extraWeight: 2,
  },
  gemeente: {
    share: null,
    source: 'assumption, no published figure (L: 286,000 persons owe a social-assistance claim, mean EUR 6,600)',
    organizations: ['Gemeentebelastingen', 'Sociale Dienst'],
    debtTypes: ['bijstandsvordering', 'gemeentelijke_belastingen', 'parkeerboete'],
    amountWeight: 2,
    extraWeight: 1,
  },
  uwv: {
    share: null,
    source: 'assumption, no published figure (G: mean UWV arrear ~EUR 1,200)',
    organizations: ['UWV'],
    debtTypes: ['uwv_terugvordering'],
    amountWeight: 1.5,
    extraWeight: 0.3,
  },
  incassobureau: {
    share: null,
    source: 'assumption, no published figure',
    organizations: ['Intrum', 'Flanderijn', 'GGN', 'Lindorff'],
    debtTypes: ['incassokosten', 'overgedragen_vordering'],
    amountWeight: 0.5,
    extraWeight: 2,
  },
} as const satisfies Record<string, CreditorCategory>;

export type CreditorName = keyof typeof CREDITORS;
export const CREDITOR_NAMES = Object.keys(CREDITORS) as CreditorName[];

/** Every `debt_type` the simulator emits (the allowed values of `case.intake` `debt_type`). */
export const DEBT_TYPES = [...new Set(CREDITOR_NAMES.flatMap((c) => [...CREDITORS[c].debtTypes]))] as [string, ...string[]];

/**
 * Entrepreneurs' tax debt (btw, loonheffing) is most of the gap between the two intake means (I):
 * their Belastingdienst debts weigh this much more. Assumption, no published figure.
 */
export const ENTREPRENEUR_TAX_WEIGHT_FACTOR = 4;

// ---------------------------------------------------------------------------------------------------
// Households (docs/debt-figures.md section 4)
// ---------------------------------------------------------------------------------------------------

/**
 * Household types at intake. Single 39 % and single parent 16 % (J, WSNP intake 2022); 45.3 % have
 * children at home (A, 1-10-2020), so couples with children = 45.3 - 16 = 29.3 %, and couples without
 * children the rest, 15.7 % (derived).
 */
export const HOUSEHOLD_TYPES = {
  single: 0.39,
  single_parent: 0.16,
  couple_with_children: 0.453 - 0.16,
  couple_without_children: 1 - 0.39 - 0.16 - (0.453 - 0.16),
} as const;
export type HouseholdType = keyof typeof HOUSEHOLD_TYPES;

/** In 42.2 % of problem-debt households nobody works as an employee (A, 1-10-2020). */
export const SHARE_NO_EMPLOYEE = 0.422;

/**
 * Mean net monthly household income by income source, EUR: assumption, no published figure
 * (order of magnitude of the 2024 social-assistance norm for the benefits case).
 */
export const MEAN_MONTHLY_INCOME = { employment: 2_300, benefits: 1_450, self_employed: 2_000 } as const;
export type IncomeSource = keyof typeof MEAN_MONTHLY_INCOME;
/** Spread of income around those means: assumption, no published figure. */
export const INCOME_SIGMA = 0.3;

/**
 * Municipalities, weighted by published problem-debt rate (A, 1-10-2020) times households.
 * The rates are published (A); household counts are rounded CBS orders of magnitude: assumption, no
 * published figure in docs/debt-figures.md. Municipalities without a published rate get the national rate
 * of 7.6 % (A, 1-10-2020).
 */
const NATIONAL_RATE = 0.076;
export const MUNICIPALITIES: Readonly<Record<string, { rate: number; households: number }>> = {
  Rotterdam: { rate: 0.155, households: 340_000 },
  Schiedam: { rate: 0.137, households: 38_000 },
  Lelystad: { rate: 0.134, households: 36_000 },
  'Den Haag': { rate: 0.133, households: 270_000 },
  Heerlen: { rate: 0.13, households: 48_000 },
  Pekela: { rate: 0.117, households: 5_600 },
  Amsterdam: { rate: 0.106, households: 480_000 },
  Utrecht: { rate: 0.065, households: 180_000 },
  Rozendaal: { rate: 0.013, households: 700 },
  Bunnik: { rate: 0.025, households: 6_500 },
  Veere: { rate: 0.029, households: 10_000 },
  Eindhoven: { rate: NATIONAL_RATE, households: 120_000 },
  Groningen: { rate: NATIONAL_RATE, households: 130_000 },
  Tilburg: { rate: NATIONAL_RATE, households: 105_000 },
  Almere: { rate: NATIONAL_RATE, households: 90_000 },
  Breda: { rate: NATIONAL_RATE, households: 83_000 },
  Nijmegen: { rate: NATIONAL_RATE, households: 95_000 },
  Arnhem: { rate: NATIONAL_RATE, households: 80_000 },
  Zwolle: { rate: NATIONAL_RATE, households: 60_000 },
  Leeuwarden: { rate: NATIONAL_RATE, households: 62_000 },
  Maastricht: { rate: NATIONAL_RATE, households: 70_000 },
  Enschede: { rate: NATIONAL_RATE, households: 75_000 },
};

// ---------------------------------------------------------------------------------------------------
// Intake
// ---------------------------------------------------------------------------------------------------

/** The allowed values of docs/case-processing.md. Channel mix: assumption, no published figure. */
export const INTAKE_CHANNELS = { online: 0.45, phone: 0.35, walk_in: 0.2 } as const;

/**
 * Priority is decided from the case, not drawn (assumption, no published figure for the shares):
 * urgent = an eviction or disconnection threat (rent or energy arrear of at least this amount; I: crisis
 * cases are seen within 3 working days); low = a total under LOW_PRIORITY_DEBT; high = children at home
 * and a total over the all-case mean, or many creditors.
 */
export const URGENT_ARREAR_EUR = 1_500;
export const LOW_PRIORITY_DEBT = 5_000;
export const HIGH_PRIORITY_CREDITORS = 20;

// ---------------------------------------------------------------------------------------------------
// Arrivals (docs/debt-figures.md section 6)
// ---------------------------------------------------------------------------------------------------

/**
 * Applications for municipal debt help per year (I); the simulator uses REFERENCE_YEAR's. For scale:
 * "ruim 7,000" households a month flow into registered problematic debt (A), i.e. the same order.
 */
export const APPLICATIONS_PER_YEAR: Readonly<Record<number, number>> = {
  2013: 89_000,
  2014: 92_000,
  2015: 90_400,
  2016: 89_300,
  2017: 94_200,
  2018: 86_200,
  2019: 89_152,
  2021: 78_698,
  2022: 75_531,
};

/**
 * Weekly shape of intakes (relative rate per weekday, Monday first, and per hour): assumption, no
 * published figure (debt help desks work office hours; online intake continues at a low rate).
 */
export const WEEKDAY_SHAPE = [1.2, 1.1, 1.0, 1.0, 0.9, 0.15, 0.1] as const;
export const HOUR_SHAPE = [
  0.05, 0.03, 0.02, 0.02, 0.02, 0.05, 0.2, 0.6, 1.2, 1.6, 1.7, 1.6, 1.2, 1.5, 1.6, 1.5, 1.3, 1.0, 0.7, 0.6, 0.5, 0.4,
  0.2, 0.1,
] as const;

/** Simulated time of the first intake (a Monday). */
export const DEFAULT_START = '2025-01-06T00:00:00.000Z';

// ---------------------------------------------------------------------------------------------------
// Trajectories (docs/debt-figures.md section 5): the processors' simulated clock, the risk model's anchor.
// ---------------------------------------------------------------------------------------------------

/** Mean wait for a first appointment: 11 days (I). */
export const MEAN_WAIT_FIRST_APPOINTMENT_DAYS = 11;
/** Crisis cases are seen within 3 working days (I). */
export const CRISIS_WAIT_DAYS = 3;
/** Preparation phase ~4 months at one provider (M). */
export const PREPARATION_PHASE_DAYS = 120;
/** Repayment term since 1-7-2023: 18 months (M). */
export const REPAYMENT_TERM_MONTHS = 18;
/** Completed successfully (2016): overall 64 % (I): the risk model's mean success probability anchor. */
export const SUCCESS_RATE_OVERALL = 0.64;
/** Share of cases withdrawn by the citizen before completion: assumption, no published figure. */
export const WITHDRAWAL_RATE = 0.08;
