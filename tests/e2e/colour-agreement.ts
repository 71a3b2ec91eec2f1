import { expect } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { until } from './ui-flows.ts';

// The colours a run view's cards draw with, read off the data attributes the charts, legends
// and tables carry (data-colors="series=#hex;…" on charts, data-color on legend entries,
// table columns and rows), so a test can assert that every card gives a thing one colour.

/** A chart's data-colors, by series name. */
export async function chartColours(chart: Locator): Promise<Record<string, string>> {
  const raw = (await chart.getAttribute('data-colors')) ?? '';
  return Object.fromEntries(
    raw
      .split(';')
      .filter(Boolean)
      .map((pair) => {
        const at = pair.lastIndexOf('=');
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
  );
}

/** data-color of each element, by the value of its `keyAttr`. */
export async function colourByAttr(items: Locator, keyAttr: string): Promise<Record<string, string>> {
  const pairs = await items.evaluateAll((els, key) => els.map((e) => [e.getAttribute(key) ?? '', e.getAttribute('data-color') ?? ''] as const), keyAttr);
  return Object.fromEntries(pairs);
}

/**
 * The storage-driver view's rule (palette.ts): hue = runtime, shade = driver. The bars, the
 * iteration and CDF charts and their legend give each runtime · driver one colour; its first
 * driver is the runtime's table colour; the driver legend and table rows agree and use no runtime's colour.
 */
export async function expectDriverColoursAgree(page: Page, runtimes: readonly string[], drivers: readonly string[]): Promise<void> {
  const series = runtimes.flatMap((r) => drivers.map((d) => `${r} · ${d}`));
  const iterationChart = page.getByTestId('drivers-iterations-card').getByTestId('iteration-chart');
  await until('series coloured', async () => Object.keys(await chartColours(iterationChart)).join(',') === series.join(','));
  const colours = await chartColours(iterationChart);
  expect(new Set(Object.values(colours)).size).toBe(series.length);
  expect(await chartColours(page.getByTestId('drivers-chart'))).toEqual(colours);
  expect(await chartColours(page.getByTestId('cdf-chart'))).toEqual(colours);
  expect(await colourByAttr(page.getByTestId('drivers-iterations-card').getByTestId('series-legend'), 'data-series')).toEqual(colours);
  const runtimeColours = await colourByAttr(page.getByTestId('drivers-table-runtime'), 'data-runtime');
  for (const r of runtimes) expect(colours[`${r} · ${drivers[0] ?? ''}`], r).toBe(runtimeColours[r]);
  const driverColours = await colourByAttr(page.getByTestId('driver-legend'), 'data-driver');
  expect(await colourByAttr(page.getByTestId('drivers-table-row'), 'data-row')).toEqual(driverColours);
  for (const colour of Object.values(driverColours)) expect(Object.values(runtimeColours)).not.toContain(colour);
}
