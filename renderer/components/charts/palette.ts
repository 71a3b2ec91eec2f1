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
