// One colour per runtime, by its position in the plan, the same in every chart and table.
const COLORS = ['#3355d1', '#e0781f', '#17926b', '#c2417a', '#7b5cd6', '#8d6e2f', '#1f8fb3', '#b33a3a'];

export const FAILURE_COLOR = '#d92d20';

export function runtimeColor(index: number): string {
  return COLORS[((index % COLORS.length) + COLORS.length) % COLORS.length] ?? '#3355d1';
}

/** The colour with an alpha, from #rrggbb. */
export function withAlpha(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

// Categories that are not runtimes (CRI steps, storage drivers, perf kernels, process roles)
// get their own palette, so a step is never mistaken for a runtime in the same chart.
const CATEGORY_COLORS = ['#0f766e', '#2563eb', '#7c3aed', '#db2777', '#ea580c', '#ca8a04', '#4d7c0f', '#0891b2', '#9f1239', '#475569'];

export function categoryColor(index: number): string {
  return CATEGORY_COLORS[((index % CATEGORY_COLORS.length) + CATEGORY_COLORS.length) % CATEGORY_COLORS.length] ?? '#0f766e';
}
