import { categoryColor, runtimeColor } from './palette.ts';

// Legend entries the run views share, in the colours the charts draw with: one per
// series (a line for line charts, a swatch for bars), by default a runtime coloured by its
// position; or one swatch per category (CRI step, storage driver) with its name on a data
// attribute for the tests. `colorOf` gives a view's own colours (see the rule in palette.ts);
// each entry carries its colour on data-color so tests can compare it with the charts'.

type ColorOf = (name: string, index: number) => string;

export function RuntimeLegendItems({ names, mark = 'line', colorOf = (_, i) => runtimeColor(i) }: { names: readonly string[]; mark?: 'line' | 'swatch'; colorOf?: ColorOf }) {
  return names.map((name, i) => (
    <span key={name} className="chart-legend__item" data-testid="series-legend" data-series={name} data-color={colorOf(name, i)}>
      <span className={mark === 'line' ? 'legend-line' : 'swatch'} style={{ background: colorOf(name, i) }} />
      <span className="mono">{name}</span>
    </span>
  ));
}

export function CategoryLegendItems({
  names,
  testId,
  dataName,
  colorOf = (_, i) => categoryColor(i),
}: {
  names: readonly string[];
  testId: string;
  dataName: string;
  colorOf?: ColorOf;
}) {
  return names.map((name, i) => (
    <span key={name} className="chart-legend__item" data-testid={testId} data-color={colorOf(name, i)} {...{ [`data-${dataName}`]: name }}>
      <span className="swatch" style={{ background: colorOf(name, i) }} />
      <span className="mono">{name}</span>
    </span>
  ));
}
