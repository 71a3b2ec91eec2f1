import { categoryColor, runtimeColor } from './palette.ts';

// Legend entries the run views share, in the colours the charts draw with: one per
// runtime (a line for line charts, a swatch for bars), or one swatch per category (CRI
// step, storage driver) with its name on a data attribute for the tests.

export function RuntimeLegendItems({ names, mark = 'line' }: { names: readonly string[]; mark?: 'line' | 'swatch' }) {
  return names.map((name, i) => (
    <span key={name} className="chart-legend__item">
      <span className={mark === 'line' ? 'legend-line' : 'swatch'} style={{ background: runtimeColor(i) }} />
      <span className="mono">{name}</span>
    </span>
  ));
}

export function CategoryLegendItems({ names, testId, dataName }: { names: readonly string[]; testId: string; dataName: string }) {
  return names.map((name, i) => (
    <span key={name} className="chart-legend__item" data-testid={testId} {...{ [`data-${dataName}`]: name }}>
      <span className="swatch" style={{ background: categoryColor(i) }} />
      <span className="mono">{name}</span>
    </span>
  ));
}
