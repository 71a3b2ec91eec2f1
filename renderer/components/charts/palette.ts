// The colour rule, one per view, followed by every card of that view (charts, legends, table):
// - A runtime's hue is its position in the plan (runtimeColor), wherever a runtime is coloured.
// - Categories that are not runtimes (CRI steps, memory roles: parts of one stacked bar) use
//   the category palette, a slate ramp in the order the view lists them: no runtime is grey,
//   so a step can never be read as a runtime in the next card (the old multi-hue palette drew
//   CreateContainer in runc's blue and RemoveContainer in runsc's orange).
// - Runtime × storage driver: hue = runtime, shade = driver (runtimeDriverColor). The first
//   driver is the runtime's own colour, later ones lighter; a driver alone (legend, table
//   row) is the same shade of a neutral grey. So blue is runc in every card, never a driver.
// - Perf kernels are groups on an axis, never coloured: the runtimes are the series there.
// Charts and legends take an optional colour per series for this; without one they colour by
// position with runtimeColor, as the plain startup view does.
const COLORS = ['#3355d1', '#e0781f', '#17926b', '#c2417a', '#7b5cd6', '#8d6e2f', '#1f8fb3', '#b33a3a'];

export const FAILURE_COLOR = '#d92d20';

export function runtimeColor(index: number): string {
  return COLORS[((index % COLORS.length) + COLORS.length) % COLORS.length] ?? '#3355d1';
}

/** Mixes #rrggbb with white by `amount` (0: unchanged, 1: white). */
function lighten(hex: string, amount: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  const mix = (c: number) => Math.round(c + (255 - c) * amount);
  return `#${[(n >> 16) & 255, (n >> 8) & 255, n & 255].map((c) => mix(c).toString(16).padStart(2, '0')).join('')}`;
}

// The lightest driver shade: light enough to tell apart, dark enough for a line on white.
const LIGHTEST_SHADE = 0.55;

/** The shade of a colour for the i-th of `count` storage drivers: the colour itself first, then lighter. */
function driverShade(hex: string, driverIndex: number, driverCount: number): string {
  return driverCount <= 1 ? hex : lighten(hex, (LIGHTEST_SHADE * driverIndex) / (driverCount - 1));
}

/** A runtime · driver series: the runtime's hue in the driver's shade. */
export function runtimeDriverColor(runtimeIndex: number, driverIndex: number, driverCount: number): string {
  return driverShade(runtimeColor(runtimeIndex), driverIndex, driverCount);
}

// A driver on its own (legend, table row): its shade of a neutral grey, hue being the runtime's.
const NEUTRAL = '#4b5563';

export function driverColor(driverIndex: number, driverCount: number): string {
  return driverShade(NEUTRAL, driverIndex, driverCount);
}

/** The colour with an alpha, from #rrggbb. */
export function withAlpha(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

// Slate shades, alternating dark and light: stacked in order, every segment stands out from
// its neighbours (a plain dark-to-light ramp made the first steps of a CRI bar one dark block).
const CATEGORY_COLORS = ['#1e293b', '#94a3b8', '#475569', '#cbd5e1', '#334155', '#b0bccb', '#64748b', '#7c8ba1'];

export function categoryColor(index: number): string {
  return CATEGORY_COLORS[((index % CATEGORY_COLORS.length) + CATEGORY_COLORS.length) % CATEGORY_COLORS.length] ?? '#0f766e';
}
