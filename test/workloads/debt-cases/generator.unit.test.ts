/**
 * Distribution tests on 100,000 generated cases against the published figures (figures.ts), plus
 * determinism: the same seed gives byte-identical output.
 */
import { describe, expect, it } from 'vitest';
import { CaseSimulator } from '../../../src/workloads/debt-cases/generator.ts';
import { isValidBsn, randomBsn } from '../../../src/workloads/debt-cases/bsn.ts';
import { CREDITOR_NAMES, CREDITORS, ENTREPRENEUR_SHARE, HOUSEHOLD_TYPES, MEAN_CREDITORS, MEAN_DEBT_ALL, MEAN_DEBT_ENTREPRENEUR, MEAN_DEBT_PRIVATE } from '../../../src/workloads/debt-cases/figures.ts';
import { CaseIntakeSchema } from '../../../src/workloads/debt-cases/events.ts';
import { debtCasesWorkload } from '../../../src/workloads/debt-cases/index.ts';
import { Random } from '../../../src/core/random.ts';
import { createHash } from 'node:crypto';

const N = 100_000;

describe('debt-case generator: 100,000 cases against the published figures', () => {
  const sim = new CaseSimulator({ seed: 20251125 });
  const stats = {
    debt: { private: { sum: 0, n: 0 }, entrepreneur: { sum: 0, n: 0 } },
    allDebt: 0,
    creditors: 0,
    present: Object.fromEntries(CREDITOR_NAMES.map((c) => [c, 0])) as Record<string, number>,
    household: {} as Record<string, number>,
    badBsn: [] as string[],
    badSums: 0,
    lastMs: 0,
    nonMonotonic: 0,
    firstMs: 0,
  };
  for (let i = 0; i < N; i++) {
    const c = sim.next();
    const d = c.intake;
    if (i === 0) stats.firstMs = c.arrivalMs;
    if (c.arrivalMs < stats.lastMs) stats.nonMonotonic++;
    stats.lastMs = c.arrivalMs;
    const group = stats.debt[d.debtor_type as 'private' | 'entrepreneur'];
    group.sum += d.debt_amount;
    group.n++;
    stats.allDebt += d.debt_amount;
    stats.creditors += d.creditor_count!;
    for (const c of new Set(d.debts!.map((x) => x.creditor))) stats.present[c]!++;
    stats.household[d.household_type!] = (stats.household[d.household_type!] ?? 0) + 1;
    if (!isValidBsn(d.citizen_bsn)) stats.badBsn.push(d.citizen_bsn);
    const cents = d.debts!.reduce((s, x) => s + Math.round(x.amount * 100), 0);
    if (cents !== Math.round(d.debt_amount * 100) || d.debts!.length !== d.creditor_count) stats.badSums++;
  }
  const within = (actual: number, target: number, rel: number) => Math.abs(actual - target) / target <= rel;

  it('mean total debt is within 5 % of the published intake means (I, 2022)', () => {
    const priv = stats.debt.private.sum / stats.debt.private.n;
    const ent = stats.debt.entrepreneur.sum / stats.debt.entrepreneur.n;
    expect(within(priv, MEAN_DEBT_PRIVATE, 0.05), `private mean ${priv}`).toBe(true);
    expect(within(ent, MEAN_DEBT_ENTREPRENEUR, 0.05), `entrepreneur mean ${ent}`).toBe(true);
    expect(within(stats.allDebt / N, MEAN_DEBT_ALL, 0.05), `all mean ${stats.allDebt / N}`).toBe(true);
    expect(Math.abs(stats.debt.entrepreneur.n / N - ENTREPRENEUR_SHARE)).toBeLessThan(0.01);
  });

  it('mean creditor count is within 5 % of 13 (I)', () => {
    expect(within(stats.creditors / N, MEAN_CREDITORS, 0.05), `mean creditors ${stats.creditors / N}`).toBe(true);
  });

  it('each published creditor share is met within 2 percentage points', () => {
    const published = CREDITOR_NAMES.filter((c) => CREDITORS[c].share !== null);
    expect(published.length).toBeGreaterThanOrEqual(10);
    for (const c of published) {
      const share = stats.present[c]! / N;
      expect(Math.abs(share - CREDITORS[c].share!), `${c}: ${share} vs ${CREDITORS[c].share}`).toBeLessThan(0.02);
    }
  });

  it('household types follow J and A within 2 percentage points', () => {
    for (const [t, p] of Object.entries(HOUSEHOLD_TYPES)) expect(Math.abs((stats.household[t] ?? 0) / N - p)).toBeLessThan(0.02);
  });

  it('every BSN passes the 11-check, and the debts add up to debt_amount in cents', () => {
    expect(stats.badBsn).toEqual([]);
    expect(stats.badSums).toBe(0);
  });

  it('arrivals are in time order at about the published yearly intake rate (I: 75,531 in 2022)', () => {
    expect(stats.nonMonotonic).toBe(0);
    const years = (stats.lastMs - stats.firstMs) / (365.25 * 86_400_000);
    expect(N / years).toBeGreaterThan(75_531 * 0.95);
    expect(N / years).toBeLessThan(75_531 * 1.05);
  });
});

describe('determinism and the 11-check', () => {
  const digest = (seed: number, n: number) => {
    const gen = debtCasesWorkload.create({ seed });
    const h = createHash('sha256');
    for (let i = 0; i < n; i++) h.update(JSON.stringify(gen.next()));
    return h.digest('hex');
  };

  it('same seed gives byte-identical output; another seed differs', () => {
    expect(digest(7, 2000)).toBe(digest(7, 2000));
    expect(digest(7, 2000)).not.toBe(digest(8, 2000));
  });

  it('the elfproef accepts valid and rejects invalid numbers', () => {
    expect(isValidBsn('111222333')).toBe(true); // 9+8+7+12+10+8+12+6-3 = 66 = 6 x 11
    const rng = new Random(1);
    for (let i = 0; i < 1000; i++) {
      const b = randomBsn(rng);
      expect(isValidBsn(b)).toBe(true);
      const flipped = b.slice(0, 8) + String((Number(b[8]) + 1) % 10);
      expect(isValidBsn(flipped)).toBe(false);
    }
    expect(isValidBsn('12345678')).toBe(false);
    expect(isValidBsn('000000000')).toBe(false);
  });

  it('generated intakes validate against the schema', () => {
    const sim = new CaseSimulator({ seed: 3 });
    for (let i = 0; i < 500; i++) expect(() => CaseIntakeSchema.parse(sim.next().intake)).not.toThrow();
  });
});
