import { LabError } from './lab-error.ts';
import type { Sample } from './model/run-record.ts';

// Summaries are computed from samples every time they are shown, never stored: the samples
// are the record, and a better estimator later applies to old runs too.

export interface MedianCi {
  /** e.g. 0.95 for a 95% interval. */
  confidence: number;
  low: number;
  high: number;
  /** How the interval was made, so a reader can reproduce it. */
  resamples: number;
  seed: number;
}

/** Every statistic is null when there are no values; sd and the CI also when there is one. */
export interface Summary {
  n: number;
  mean: number | null;
  median: number | null;
  /** Sample standard deviation (divides by n - 1). */
  sd: number | null;
  min: number | null;
  max: number | null;
  p5: number | null;
  p95: number | null;
  p99: number | null;
  /** Percentile-bootstrap confidence interval of the median. */
  medianCi: MedianCi | null;
}

export interface SummaryOptions {
  /** Confidence level of the median's interval, in (0, 1). Default 0.95. */
  confidence?: number;
  /** Bootstrap resamples. Default 2000. */
  resamples?: number;
  /** PRNG seed. Fixed by default so the same samples always give the same interval. */
  seed?: number;
}

export interface RuntimeSummary extends Summary {
  runtime: string;
  /** The part of the iteration summarised (a CRI call, a perf kernel); null: whole iterations. */
  step: string | null;
  /** The storage driver of a storage-driver loop; null when the run has one condition. */
  storageDriver: string | null;
  /** Measured iterations that failed; excluded from the statistics. */
  failures: number;
  /** Warm-up iterations, ok or not; excluded from the statistics. */
  warmups: number;
}

/** A runtime with no samples yet (a live run just started): tables and charts keep their shape. */
export function emptySummary(runtime: string): RuntimeSummary {
  return { runtime, step: null, storageDriver: null, n: 0, failures: 0, warmups: 0, mean: null, median: null, sd: null, min: null, max: null, p5: null, p95: null, p99: null, medianCi: null };
}

const DEFAULT_CONFIDENCE = 0.95;
const DEFAULT_RESAMPLES = 2000;
const DEFAULT_SEED = 0x5eed;
const MAX_RESAMPLES = 1_000_000;

export function summarize(values: readonly number[], options: SummaryOptions = {}): Summary {
  const confidence = options.confidence ?? DEFAULT_CONFIDENCE;
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const seed = options.seed ?? DEFAULT_SEED;
  if (!(confidence > 0 && confidence < 1)) {
    throw new LabError('invalid-input', `The confidence level must be between 0 and 1 (exclusive); got ${confidence}.`);
  }
  if (!Number.isInteger(resamples) || resamples < 1 || resamples > MAX_RESAMPLES) {
    throw new LabError('invalid-input', `The number of bootstrap resamples must be a whole number from 1 to ${MAX_RESAMPLES}; got ${resamples}.`);
  }
  if (!Number.isInteger(seed)) throw new LabError('invalid-input', `The bootstrap seed must be a whole number; got ${seed}.`);

  const n = values.length;
  if (n === 0) {
    return { n, mean: null, median: null, sd: null, min: null, max: null, p5: null, p95: null, p99: null, medianCi: null };
  }
  const sorted = Float64Array.from(values);
  for (const v of sorted) {
    if (!Number.isFinite(v)) throw new LabError('invalid-input', `Cannot summarize a value that is not a finite number (${v}).`);
  }
  // A typed array sorts numerically, in place, much faster than Array#sort with a comparator.
  sorted.sort();

  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = sum / n;
  // Two passes (mean first) rather than a running sum of squares, which loses precision
  // when the spread is small next to the values — exactly the case of startup times.
  let squares = 0;
  for (const v of sorted) squares += (v - mean) * (v - mean);

  return {
    n,
    mean,
    median: percentileOfSorted(sorted, 0.5),
    sd: n > 1 ? Math.sqrt(squares / (n - 1)) : null,
    min: sorted[0] ?? null,
    max: sorted[n - 1] ?? null,
    p5: percentileOfSorted(sorted, 0.05),
    p95: percentileOfSorted(sorted, 0.95),
    p99: percentileOfSorted(sorted, 0.99),
    medianCi: n > 1 ? bootstrapMedianCi(sorted, confidence, resamples, seed) : null,
  };
}

/**
 * Statistics per series — runtime, step and storage driver — in the order series first
 * appear in `samples`, from measured ok samples only. A run without steps or drivers has
 * one series per runtime.
 */
export function summarizeSamples(samples: readonly Sample[], options: SummaryOptions = {}): RuntimeSummary[] {
  const groups = new Map<string, { runtime: string; step: string | null; storageDriver: string | null; durations: number[]; failures: number; warmups: number }>();
  for (const s of samples) {
    const key = JSON.stringify([s.runtime, s.step ?? null, s.storageDriver ?? null]);
    let group = groups.get(key);
    if (!group) {
      group = { runtime: s.runtime, step: s.step ?? null, storageDriver: s.storageDriver ?? null, durations: [], failures: 0, warmups: 0 };
      groups.set(key, group);
    }
    if (s.warmup) group.warmups++;
    else if (!s.ok) group.failures++;
    else group.durations.push(s.durationMs);
  }
  return [...groups.values()].map((g) => ({
    runtime: g.runtime,
    step: g.step,
    storageDriver: g.storageDriver,
    ...summarize(g.durations, options),
    failures: g.failures,
    warmups: g.warmups,
  }));
}

/**
 * The p-quantile (p in [0, 1]) of ascending values by linear interpolation between the
 * closest ranks — numpy's default ("linear", Hyndman & Fan type 7): h = (n - 1)·p, then
 * x[⌊h⌋] + (h - ⌊h⌋)·(x[⌊h⌋ + 1] - x[⌊h⌋]). For 1..10, p95 = 9.55.
 */
function percentileOfSorted(sorted: Float64Array, p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const below = sorted[lo] ?? Number.NaN;
  const above = sorted[Math.min(lo + 1, sorted.length - 1)] ?? Number.NaN;
  return below + (h - lo) * (above - below);
}

/**
 * Percentile bootstrap of the median, in O(resamples) instead of O(resamples · n).
 *
 * A resample is n draws, with replacement, from the sorted values: n uniform variates U
 * mapped to index ⌊U·n⌋. That map is monotone, so the resample's k-th smallest value is
 * sorted[⌊U₍ₖ₎·n⌋], where U₍ₖ₎ is the k-th smallest of n uniforms — which follows
 * Beta(k, n + 1 - k). Drawing U₍ₖ₎ directly gives each resample's median with the exact
 * distribution of the textbook method, without drawing n indices: 2000 resamples of 100k
 * values take microseconds instead of seconds.
 */
function bootstrapMedianCi(sorted: Float64Array, confidence: number, resamples: number, seed: number): MedianCi {
  const n = sorted.length;
  const random = mulberry32(seed);
  const at = (u: number): number => sorted[Math.min(n - 1, Math.floor(u * n))] ?? Number.NaN;
  const medians = new Float64Array(resamples);
  const k = Math.ceil(n / 2); // rank of the median (odd n) or of the lower middle value (even n)
  for (let b = 0; b < resamples; b++) {
    const lower = betaVariate(k, n + 1 - k, random);
    if (n % 2 === 1) {
      medians[b] = at(lower);
    } else {
      // Given U₍ₖ₎ = lower, the other n - k uniforms lie in (lower, 1); the smallest of
      // them is U₍ₖ₊₁₎, and the smallest of m uniforms on (0, 1) is 1 - V^(1/m).
      const upper = lower + (1 - lower) * (1 - Math.pow(random(), 1 / (n - k)));
      medians[b] = (at(lower) + at(upper)) / 2;
    }
  }
  medians.sort();
  const tail = (1 - confidence) / 2;
  return {
    confidence,
    low: percentileOfSorted(medians, tail),
    high: percentileOfSorted(medians, 1 - tail),
    resamples,
    seed,
  };
}

/** mulberry32: a small, fast 32-bit PRNG; returns values strictly inside (0, 1) so logs stay finite. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
}

function betaVariate(a: number, b: number, random: () => number): number {
  const x = gammaVariate(a, random);
  return x / (x + gammaVariate(b, random));
}

/** Marsaglia & Tsang (2000), valid for shape >= 1, which is all the bootstrap needs. */
function gammaVariate(shape: number, random: () => number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = normalVariate(random);
    const v0 = 1 + c * z;
    if (v0 <= 0) continue;
    const v = v0 * v0 * v0;
    if (Math.log(random()) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Box–Muller; one of the pair is enough here. */
function normalVariate(random: () => number): number {
  return Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random());
}
