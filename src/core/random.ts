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

/** Character codes of the hex digits 0-9a-f. */
export const HEX_CODES = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/**
 * Fixed-layout ASCII text (a prefix, then hex digits of drawn words) built by one `String.fromCharCode`
 * call over a reused array of character codes: one flat string, one allocation. Hand-written because
 * ids were a large share of generation time: concatenating two-character pieces (`'evt_' + HEX[x >>> 24]
 * + ...`) makes a tree of cons strings that a slice or `JSON.stringify` must flatten again. Measured on
 * node 20 (2026-12-05, 2 cores, a 28-character id made and serialised): concatenation 0.25 us, this
 * 0.11 us, `Buffer#latin1Slice` of the same bytes ~0.15 us (its native call alone ~0.1 us); generate +
 * stringify of the invoices workload +20 % (docs/workloads.md, "Generation target", also on why its
 * ratio to stringify alone did not move). test/workloads/workloads.unit.test.ts keeps it equal to
 * `Buffer#toString('hex')`.
 */
export class HexFormat {
  private readonly codes: number[];
  private readonly start: number;

  /** `prefix` then `digits` hex characters. */
  constructor(prefix: string, readonly digits: number) {
    if (!Number.isInteger(digits) || digits < 1) throw new RangeError(`digits must be a positive integer, got ${digits}`);
    this.codes = Array.from(prefix + '0'.repeat(digits), (c) => c.charCodeAt(0));
    this.start = prefix.length;
  }

  /** The prefix and the first `digits` hex characters of `words[at]`, `words[at + 1]`, ... (most significant first). */
  format(words: ArrayLike<number>, at = 0): string {
    const codes = this.codes;
    const end = codes.length;
    let k = at;
    let j = this.start;
    for (; j + 8 <= end; j += 8) {
      const x = words[k++]!;
      codes[j] = HEX_CODES[x >>> 28]!;
      codes[j + 1] = HEX_CODES[(x >>> 24) & 15]!;
      codes[j + 2] = HEX_CODES[(x >>> 20) & 15]!;
      codes[j + 3] = HEX_CODES[(x >>> 16) & 15]!;
      codes[j + 4] = HEX_CODES[(x >>> 12) & 15]!;
      codes[j + 5] = HEX_CODES[(x >>> 8) & 15]!;
      codes[j + 6] = HEX_CODES[(x >>> 4) & 15]!;
      codes[j + 7] = HEX_CODES[x & 15]!;
    }
    if (j < end) {
      const x = words[k]!;
      for (let shift = 28; j < end; shift -= 4) codes[j++] = HEX_CODES[(x >>> shift) & 15]!;
    }
    return String.fromCharCode.apply(null, codes);
  }
}

/** `HexFormat`s without a prefix by length, for `Random.hex` and `formatHex`. */
const plainHex: HexFormat[] = [];
const plainHexOf = (length: number): HexFormat => (plainHex[length] ??= new HexFormat('', length));

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** Box-Muller makes two normals per draw; the second is kept here. */
  private spareNormal: number | null = null;
  /** Scratch for `hex`: the words of one call. */
  private readonly hexWords = new Uint32Array(8);

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

  /** `length` lower-case hex characters (the ceil(length / 8) words drawn, most significant digits first). */
  hex(length: number): string {
    return this.hexIn(plainHexOf(length));
  }

  /** `format`'s prefix and hex digits of newly drawn words: what `prefix + hex(digits)` spells, made at once. */
  hexIn(format: HexFormat): string {
    const n = Math.ceil(format.digits / 8);
    const words = n <= this.hexWords.length ? this.hexWords : new Uint32Array(n);
    for (let k = 0; k < n; k++) words[k] = this.uint32();
    return format.format(words, 0);
  }
}

/** The layout of a version 4 UUID, dashes in place; `formatUuid` fills in the digits (see `HexFormat`). */
const UUID_CODES = Array.from('00000000-0000-4000-8000-000000000000', (c) => c.charCodeAt(0));

/** The UUID `Random.uuid()` makes of four drawn words (a workload can keep the words instead of the string). */
export function formatUuid(a: number, b: number, c: number, d: number): string {
  const u = UUID_CODES;
  const h = HEX_CODES;
  u[0] = h[a >>> 28]!; u[1] = h[(a >>> 24) & 15]!; u[2] = h[(a >>> 20) & 15]!; u[3] = h[(a >>> 16) & 15]!;
  u[4] = h[(a >>> 12) & 15]!; u[5] = h[(a >>> 8) & 15]!; u[6] = h[(a >>> 4) & 15]!; u[7] = h[a & 15]!;
  u[9] = h[b >>> 28]!; u[10] = h[(b >>> 24) & 15]!; u[11] = h[(b >>> 20) & 15]!; u[12] = h[(b >>> 16) & 15]!;
  // u[14] is the version digit, 4; the variant digit is 8-b (the top two bits of c set to 10).
  u[15] = h[(b >>> 8) & 15]!; u[16] = h[(b >>> 4) & 15]!; u[17] = h[b & 15]!;
  u[19] = h[8 | ((c >>> 28) & 3)]!; u[20] = h[(c >>> 24) & 15]!; u[21] = h[(c >>> 20) & 15]!; u[22] = h[(c >>> 16) & 15]!;
  u[24] = h[(c >>> 12) & 15]!; u[25] = h[(c >>> 8) & 15]!; u[26] = h[(c >>> 4) & 15]!; u[27] = h[c & 15]!;
  u[28] = h[d >>> 28]!; u[29] = h[(d >>> 24) & 15]!; u[30] = h[(d >>> 20) & 15]!; u[31] = h[(d >>> 16) & 15]!;
  u[32] = h[(d >>> 12) & 15]!; u[33] = h[(d >>> 8) & 15]!; u[34] = h[(d >>> 4) & 15]!; u[35] = h[d & 15]!;
  return String.fromCharCode.apply(null, u);
}

/** The hex text `Random.hex(length)` makes of the ceil(length / 8) words it draws, from `words[at]` on. */
export function formatHex(words: ArrayLike<number>, at: number, length: number): string {
  return plainHexOf(length).format(words, at);
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
