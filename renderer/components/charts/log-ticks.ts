// A log value axis on round figures. Chart.js's own log ticks land on every 1…9 × 10^n and
// are then thinned by space, which with real perf data gave 0.4, 0.7 and 70 crowding 100;
// here the axis runs between round bounds and ticks only at 1, 2, 5 × 10^n (1, 3 × 10^n
// past three decades).

const MANTISSAS = [1, 2, 5, 10] as const;

/** The largest 1-2-5 figure ≤ `v` (v > 0). */
export function roundDown(v: number): number {
  const decade = 10 ** Math.floor(Math.log10(v));
  const m = [...MANTISSAS].reverse().find((x) => x * decade <= v * (1 + 1e-9)) ?? 1;
  return Number((m * decade).toPrecision(1));
}

/** The smallest 1-2-5 figure ≥ `v` (v > 0). */
export function roundUp(v: number): number {
  const decade = 10 ** Math.floor(Math.log10(v));
  const m = MANTISSAS.find((x) => x * decade >= v * (1 - 1e-9)) ?? 10;
  return Number((m * decade).toPrecision(1));
}

/** Tick values from `min` to `max` (both > 0) at round figures. */
export function logTicks(min: number, max: number): number[] {
  const mantissas = Math.log10(max / min) > 3 ? [1, 3] : [1, 2, 5];
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of mantissas) {
      const v = Number((m * 10 ** e).toPrecision(1));
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) ticks.push(v);
    }
  }
  return ticks;
}
