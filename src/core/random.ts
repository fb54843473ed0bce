/**
 * Seeded randomness for workloads: same seed, same sequence, on every machine and Node version.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's "small fast counting" PRNG, PractRand-clean, 128-bit
 * state, period >= 2^32) seeded through splitmix32, because it needs only 32-bit integer operations,
 * which V8 runs without allocating. Never use `Math.random()` in a workload: output must be byte-identical
 * for a given seed.
 */

const TWO_POW_32 = 4294967296;

/** splitmix32: spreads one seed over the PRNG state, so seeds 1, 2, 3 give unrelated streams. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over a string: turns a label into a 32-bit number for `fork`. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** Box-Muller makes two normals per draw; the second is kept here. */
  private spareNormal: number | null = null;

  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    // Mix both halves of a seed above 2^32 so large seeds still differ.
    const st = { s: (seed >>> 0) ^ Math.imul(Math.floor(seed / TWO_POW_32) | 0, 0x9e3779b1) };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    // The first outputs of sfc32 are weakly mixed; the reference implementation discards 12 (we do 15).
    for (let i = 0; i < 15; i++) this.uint32();
  }

  /** An independent generator derived from this seed and a label (same seed + label, same stream). */
  fork(label: string): Random {
    return new Random(((this.seed >>> 0) ^ hashString(label)) >>> 0);
  }

  /** Uniform 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / TWO_POW_32;
  }

  /** Uniform in [min, max). */
  uniform(min = 0, max = 1): number {
    return min + (max - min) * this.next();
  }

  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Standard normal (Box-Muller, with the second value cached). */
  normal(mean = 0, sd = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + sd * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + sd * r * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal with parameters of the underlying normal. */
  logNormal(mu: number, sigma: number): number {
    return Math.exp(this.normal(mu, sigma));
  }

  /** Log-normal whose arithmetic MEAN is `mean` (mu = ln(mean) - sigma^2/2), the form published figures give. */
  logNormalWithMean(mean: number, sigma: number): number {
    return Math.exp(this.normal(Math.log(mean) - (sigma * sigma) / 2, sigma));
  }

  /** Exponential with the given mean (inter-arrival times of a Poisson process). */
  exponential(mean: number): number {
    let u = 0;
    while (u === 0) u = this.next();
    return -mean * Math.log(u);
  }

  /** Gamma(shape, scale) by Marsaglia and Tsang (2000); shape < 1 via the boost u^(1/shape). */
  gamma(shape: number, scale = 1): number {
    if (shape < 1) return this.gamma(shape + 1, scale) * Math.pow(this.next() || Number.MIN_VALUE, 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.next();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v * scale;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale;
    }
  }

  /** Poisson by inversion (fine for the small means workloads use; O(mean)). */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 500) return Math.max(0, Math.round(this.normal(mean, Math.sqrt(mean))));
    const u = this.next();
    let k = 0;
    let p = Math.exp(-mean);
    let cdf = p;
    while (u > cdf && k < 10_000) {
      k++;
      p *= mean / k;
      cdf += p;
    }
    return k;
  }

  /** Negative binomial as a gamma-Poisson mixture: mean `mean`, variance mean + mean^2/dispersion. */
  negativeBinomial(mean: number, dispersion: number): number {
    return this.poisson(this.gamma(dispersion, mean / dispersion));
  }

  /** A random (version 4 layout) UUID from this generator: deterministic for the seed. */
  uuid(): string {
    return formatUuid(this.uint32(), this.uint32(), this.uint32(), this.uint32());
  }

  /** `length` lower-case hex characters. */
  hex(length: number): string {
    let out = '';
    while (out.length < length) {
      const x = this.uint32();
      out += HEX[x >>> 24]! + HEX[(x >>> 16) & 255]! + HEX[(x >>> 8) & 255]! + HEX[x & 255]!;
    }
    return out.slice(0, length);
  }
}

/** The UUID `Random.uuid()` makes of four drawn words (a workload can keep the words instead of the string). */
export function formatUuid(a: number, b: number, c: number, d: number): string {
  return (
    HEX[a >>> 24]! + HEX[(a >>> 16) & 255]! + HEX[(a >>> 8) & 255]! + HEX[a & 255]! + '-' +
    HEX[b >>> 24]! + HEX[(b >>> 16) & 255]! + '-' +
    HEX[((b >>> 8) & 0x0f) | 0x40]! + HEX[b & 255]! + '-' +
    HEX[((c >>> 24) & 0x3f) | 0x80]! + HEX[(c >>> 16) & 255]! + '-' +
    HEX[(c >>> 8) & 255]! + HEX[c & 255]! +
    HEX[d >>> 24]! + HEX[(d >>> 16) & 255]! + HEX[(d >>> 8) & 255]! + HEX[d & 255]!
  );
}

/** The hex text `Random.hex(length)` makes of the ceil(length / 8) words it draws, from `words[at]` on. */
export function formatHex(words: ArrayLike<number>, at: number, length: number): string {
  let out = '';
  for (let k = at; out.length < length; k++) {
    const x = words[k]!;
    out += HEX[x >>> 24]! + HEX[(x >>> 16) & 255]! + HEX[(x >>> 8) & 255]! + HEX[x & 255]!;
  }
  return out.slice(0, length);
}

/**
 * Weighted choice in O(1) per draw (Vose's alias method), built once per table.
 * Weights need not sum to 1; zero weights are never drawn.
 */
export class WeightedChoice<T> {
  private readonly prob: Float64Array;
  private readonly alias: Uint32Array;
  readonly items: readonly T[];
  /** Normalised weights (sum 1), in the order of `items`. */
  readonly probabilities: readonly number[];

  constructor(entries: readonly (readonly [T, number])[]) {
    const n = entries.length;
    if (n === 0) throw new RangeError('WeightedChoice needs at least one entry');
    const total = entries.reduce((s, [, w]) => {
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`weight must be finite and >= 0, got ${w}`);
      return s + w;
    }, 0);
    if (total <= 0) throw new RangeError('WeightedChoice needs a positive total weight');
    this.items = entries.map(([item]) => item);
    this.probabilities = entries.map(([, w]) => w / total);
    this.prob = new Float64Array(n);
    this.alias = new Uint32Array(n);
    const scaled = this.probabilities.map((p) => p * n);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
    while (small.length && large.length) {
      const s = small.pop()!;
      const l = large.pop()!;
      this.prob[s] = scaled[s]!;
      this.alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      (scaled[l]! < 1 ? small : large).push(l);
    }
    for (const i of large) this.prob[i] = 1;
    for (const i of small) this.prob[i] = 1;
  }

  /** Draw one item. */
  sample(rng: Random): T {
    const u = rng.next() * this.prob.length;
    const i = Math.floor(u);
    return this.items[u - i < this.prob[i]! ? i : this.alias[i]!]!;
  }
}

/** Shorthand: a weighted table from a `{ item: weight }` record. */
export function weightedRecord<K extends string>(weights: Readonly<Record<K, number>>): WeightedChoice<K> {
  return new WeightedChoice(Object.entries(weights) as [K, number][]);
}
