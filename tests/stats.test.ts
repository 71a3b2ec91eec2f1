import { describe, expect, it } from 'vitest';
import { LabError } from '../shared/lab-error.ts';
import type { Sample } from '../shared/model/run-record.ts';
import { summarize, summarizeSamples } from '../shared/stats.ts';

const oneToTen = Array.from({ length: 10 }, (_, i) => i + 1);

describe('summarize', () => {
  it('gives the known answers for 1..10 (numpy linear percentiles, n - 1 standard deviation)', () => {
    const s = summarize(oneToTen);
    expect(s.n).toBe(10);
    expect(s.mean).toBe(5.5);
    expect(s.median).toBe(5.5);
    expect(s.sd).toBeCloseTo(3.02765, 5);
    expect(s.min).toBe(1);
    expect(s.max).toBe(10);
    expect(s.p5).toBeCloseTo(1.45, 12);
    expect(s.p95).toBeCloseTo(9.55, 12);
    expect(s.p99).toBeCloseTo(9.91, 12);
  });

  it('sorts its input itself and does not change it', () => {
    const values = [3, 1, 4, 1, 5, 9, 2, 6];
    const s = summarize(values);
    // By hand, from sorted [1, 1, 2, 3, 4, 5, 6, 9]: p95 has rank 7·0.95 = 6.65 → 6 + 0.65·(9 - 6).
    expect(s.median).toBe(3.5);
    expect(s.mean).toBe(3.875);
    expect(s.sd).toBeCloseTo(Math.sqrt(52.875 / 7), 12);
    expect(s.p5).toBe(1);
    expect(s.p95).toBeCloseTo(7.95, 12);
    expect(s.p99).toBeCloseTo(8.79, 12);
    expect(values).toEqual([3, 1, 4, 1, 5, 9, 2, 6]);
  });

  it('returns nulls for no values', () => {
    expect(summarize([])).toEqual({
      n: 0, mean: null, median: null, sd: null, min: null, max: null, p5: null, p95: null, p99: null, medianCi: null,
    });
  });

  it('has no spread and no interval for one value', () => {
    expect(summarize([42])).toEqual({
      n: 1, mean: 42, median: 42, sd: null, min: 42, max: 42, p5: 42, p95: 42, p99: 42, medianCi: null,
    });
  });

  it('gives a reproducible bootstrap interval of the median that contains it', () => {
    const values = Array.from({ length: 101 }, (_, i) => 20 + ((i * 37) % 101) / 7);
    const a = summarize(values, { seed: 7 });
    const b = summarize(values, { seed: 7 });
    expect(a.medianCi).toEqual(b.medianCi);
    expect(a.medianCi).toMatchObject({ confidence: 0.95, resamples: 2000, seed: 7 });
    const ci = a.medianCi!;
    expect(ci.low).toBeLessThanOrEqual(a.median!);
    expect(ci.high).toBeGreaterThanOrEqual(a.median!);
    expect(ci.low).toBeLessThan(ci.high);
    expect(summarize(values, { seed: 8 }).medianCi).not.toEqual(ci);
    // A lower confidence gives an interval inside the 95% one.
    const narrow = summarize(values, { seed: 7, confidence: 0.5 }).medianCi!;
    expect(narrow.low).toBeGreaterThanOrEqual(ci.low);
    expect(narrow.high).toBeLessThanOrEqual(ci.high);
  });

  // The interval is a Monte Carlo estimate of quantiles of the exact bootstrap distribution.
  // With 100k resamples it must land on the exact quantile: every quantile checked below is
  // several standard errors away from the neighbouring support points.
  it('matches the exact bootstrap distribution of the median (odd n, binomial tail)', () => {
    // For the values 1..31, a resample's median is ≤ j exactly when at least 16 of its 31
    // draws are ≤ j, and each draw is with probability j/31.
    const support = Array.from({ length: 31 }, (_, i) => i + 1);
    const cdf = support.map((j) => binomialTail(31, j / 31, 16));
    const ci = summarize(support, { resamples: 100_000 }).medianCi!;
    expect(ci.low).toBe(exactQuantile(support, cdf, 0.025));
    expect(ci.high).toBe(exactQuantile(support, cdf, 0.975));
  });

  it('matches the exact bootstrap distribution of the median (even n, all resamples enumerated)', () => {
    const values = [1, 2, 4, 8, 16, 32];
    const { support, cdf } = enumeratedMedianDistribution(values);
    for (const confidence of [0.95, 0.5]) {
      const ci = summarize(values, { resamples: 100_000, confidence }).medianCi!;
      expect(ci.low).toBe(exactQuantile(support, cdf, (1 - confidence) / 2));
      expect(ci.high).toBe(exactQuantile(support, cdf, 1 - (1 - confidence) / 2));
    }
  });

  it('summarizes 100k values well under 100 ms', () => {
    const values = Array.from({ length: 100_000 }, (_, i) => 20 + Math.sin(i) * 5 + (i % 97) / 10);
    summarize(values.slice(0, 1000)); // let the JIT compile the code paths first
    const start = performance.now();
    const s = summarize(values);
    const elapsed = performance.now() - start;
    expect(s.n).toBe(100_000);
    expect(elapsed).toBeLessThan(100);
  });

  it('rejects values and options it cannot use', () => {
    expect(() => summarize([1, Number.NaN])).toThrow(LabError);
    expect(() => summarize([1, Number.POSITIVE_INFINITY])).toThrow(/finite/);
    expect(() => summarize([1, 2], { confidence: 1 })).toThrow(/confidence/);
    expect(() => summarize([1, 2], { resamples: 0 })).toThrow(/resamples/);
    expect(() => summarize([1, 2], { seed: 1.5 })).toThrow(/seed/);
  });
});

describe('summarizeSamples', () => {
  let seq = 0;
  const sample = (runtime: string, warmup: boolean, ok: boolean, durationMs: number): Sample => ({
    seq: seq++, runtime, iteration: 0, warmup, startedAt: '2025-01-01T00:00:00.000Z', durationMs, ok,
    exitCode: ok ? 0 : 1, timedOut: false, error: ok ? null : 'boom',
  });

  it('excludes warm-ups and failures from the statistics but counts them', () => {
    const samples = [
      sample('runsc', true, true, 900),
      sample('runc', true, true, 500),
      sample('runc', true, false, 700),
      ...oneToTen.map((v) => sample('runc', false, true, v)),
      sample('runc', false, false, 30_000),
      sample('runsc', false, false, 30_000),
      sample('runsc', false, false, 30_000),
    ];
    const [runsc, runc, ...rest] = summarizeSamples(samples);
    expect(rest).toEqual([]);
    expect(runsc).toMatchObject({ runtime: 'runsc', n: 0, failures: 2, warmups: 1, median: null, medianCi: null });
    expect(runc).toMatchObject({ runtime: 'runc', n: 10, failures: 1, warmups: 2, median: 5.5, min: 1, max: 10 });
    expect(runc).toEqual({ runtime: 'runc', step: null, storageDriver: null, failures: 1, warmups: 2, ...summarize(oneToTen) });
  });

  it('keeps steps and storage drivers apart: one series per runtime, step and driver', () => {
    const samples: Sample[] = [
      { ...sample('runc', false, true, 10), step: 'RunPodSandbox' },
      { ...sample('runc', false, true, 30), step: 'StartContainer' },
      { ...sample('runc', false, true, 40) },
      { ...sample('runc', false, true, 100), storageDriver: 'vfs' },
      { ...sample('runc', false, true, 12), step: 'RunPodSandbox' },
    ];
    const series = summarizeSamples(samples).map((s) => [s.runtime, s.step, s.storageDriver, s.n, s.median]);
    expect(series).toEqual([
      ['runc', 'RunPodSandbox', null, 2, 11],
      ['runc', 'StartContainer', null, 1, 30],
      ['runc', null, null, 1, 40],
      ['runc', null, 'vfs', 1, 100],
    ]);
  });

  it('returns nothing for no samples', () => {
    expect(summarizeSamples([])).toEqual([]);
  });
});

/** P(X >= k) for X ~ Binomial(n, p). */
function binomialTail(n: number, p: number, k: number): number {
  let total = 0;
  for (let x = k; x <= n; x++) total += choose(n, x) * p ** x * (1 - p) ** (n - x);
  return total;
}

function choose(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

/** The smallest support point whose cumulative probability reaches q. */
function exactQuantile(support: number[], cdf: number[], q: number): number {
  const i = cdf.findIndex((p) => p >= q);
  return support[i]!;
}

/** The bootstrap distribution of the median by brute force: every one of the n^n resamples. */
function enumeratedMedianDistribution(values: number[]): { support: number[]; cdf: number[] } {
  const n = values.length;
  const counts = new Map<number, number>();
  for (let code = 0; code < n ** n; code++) {
    const resample: number[] = [];
    for (let i = 0, rest = code; i < n; i++, rest = Math.floor(rest / n)) resample.push(values[rest % n]!);
    resample.sort((x, y) => x - y);
    const median = n % 2 === 1 ? resample[(n - 1) / 2]! : (resample[n / 2 - 1]! + resample[n / 2]!) / 2;
    counts.set(median, (counts.get(median) ?? 0) + 1);
  }
  const support = [...counts.keys()].sort((x, y) => x - y);
  let cumulative = 0;
  const cdf = support.map((m) => (cumulative += counts.get(m)!) / n ** n);
  return { support, cdf };
}
