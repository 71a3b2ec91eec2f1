import { describe, expect, it } from 'vitest';
import { logTicks, roundDown, roundUp } from '../renderer/components/charts/log-ticks.ts';

// The round bounds and ticks of the grouped bars' log axis (perf kernels, storage drivers).

describe('log axis ticks', () => {
  it('rounds bounds to 1-2-5 figures, exact values staying put', () => {
    expect([roundDown(0.375), roundDown(1.96), roundDown(0.5), roundDown(1), roundDown(999)]).toEqual([0.2, 1, 0.5, 1, 500]);
    expect([roundUp(0.375), roundUp(127.4), roundUp(5), roundUp(931.8), roundUp(0.03)]).toEqual([0.5, 200, 5, 1000, 0.05]);
  });

  it('ticks at 1, 2, 5 per decade up to three decades, at 1 and 3 beyond', () => {
    expect(logTicks(0.2, 200)).toEqual([0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200]);
    expect(logTicks(1, 1000)).toEqual([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
    expect(logTicks(0.1, 1000)).toEqual([0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000]);
  });
});
