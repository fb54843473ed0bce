/**
 * Building blocks shared by the workload generators: a simulated clock, faker text pools (free text is
 * drawn once per generator from a seeded `@faker-js/faker` nl instance, then picked with the fast PRNG,
 * so generation stays fast and deterministic), and a bounded set of live aggregates to continue.
 */
import { base, en, Faker, nl } from '@faker-js/faker';
import type { Random } from '../core/random.ts';

/** Simulated time: exponential gaps (a Poisson process) from a fixed start, so output is byte-identical per seed. */
export class SimClock {
  private ms: number;
  constructor(
    private readonly rng: Random,
    start: string,
    private readonly meanGapMs: number,
  ) {
    this.ms = Date.parse(start);
  }
  /** Advances the clock and returns the new time in ms. */
  tick(): number {
    this.ms += this.rng.exponential(this.meanGapMs);
    return Math.round(this.ms);
  }
}

/** A seeded Dutch faker (nl, with en and base as fallbacks for what nl lacks). */
export function seededFaker(seed: number): Faker {
  const faker = new Faker({ locale: [nl, en, base] });
  faker.seed(seed);
  return faker;
}

/** `count` values from `make`, drawn once: picking from a pool is ~100x faster than calling faker per event. */
export function pool<T>(count: number, make: (i: number) => T): T[] {
  return Array.from({ length: count }, (_, i) => make(i));
}

/** Aggregates still open for follow-up events; bounded: when full, a new one replaces slot (n mod max). */
export class LiveSet<T> {
  private items: T[] = [];
  private overwrite = 0;
  constructor(private readonly max = 10_000) {}
  get size(): number {
    return this.items.length;
  }
  add(item: T): void {
    if (this.items.length >= this.max) this.items[this.overwrite++ % this.max] = item;
    else this.items.push(item);
  }
  /** A random live item (stays live). */
  pick(rng: Random): T | undefined {
    return this.items.length ? this.items[Math.floor(rng.next() * this.items.length)] : undefined;
  }
  /** Removes and returns a random live item. */
  take(rng: Random): T | undefined {
    if (!this.items.length) return undefined;
    const i = Math.floor(rng.next() * this.items.length);
    const item = this.items[i]!;
    this.items[i] = this.items[this.items.length - 1]!;
    this.items.pop();
    return item;
  }
}

export const isoDate = (ms: number): string => new Date(ms).toISOString();
