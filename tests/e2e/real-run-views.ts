import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { SAMPLE_CSV_COLUMNS } from '../../shared/csv-export.ts';
import { parseCsv } from './read-csv.ts';
import { downloadOf, UI_TIMEOUT, until } from './ui-flows.ts';

// Steps the real-run e2e files (real-*.e2e.test.ts) share: planning on the Benchmarks page
// and reading the run back in Results, where only structure and sane relations are checked.

async function attr(page: Page, testId: string, name: string): Promise<string> {
  return (await page.getByTestId(testId).first().getAttribute(name)) ?? '';
}

/** Ticks exactly `names` in the Benchmarks page's runtime list. */
export async function pickRuntimes(page: Page, names: readonly string[]): Promise<void> {
  await page.locator('[data-testid="bench-runtime"][data-runtime="runc"]').waitFor({ timeout: UI_TIMEOUT });
  for (const row of await page.getByTestId('bench-runtime').all()) {
    const box = row.getByTestId('bench-runtime-check');
    if (names.includes((await row.getAttribute('data-runtime')) ?? '')) await box.check();
    else await box.uncheck();
  }
}

/** Opens the monitored run in Results and waits for its detail. */
export async function openInResults(page: Page, runId: string, kind: string): Promise<void> {
  await page.getByTestId('run-open-results').click();
  await until('the run open in Results', async () => (await attr(page, 'run-detail', 'data-run-id')) === runId);
  await expect(page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`).getAttribute('data-kind')).resolves.toBe(kind);
  await expect(attr(page, 'run-detail-kind', 'data-kind')).resolves.toBe(kind);
}

/** A median table as the page shows it: row → runtime → median ms (NaN where empty). */
export async function medianTable(page: Page, testId: string): Promise<Record<string, Record<string, number>>> {
  return page.getByTestId(`${testId}-row`).evaluateAll((rows) =>
    Object.fromEntries(
      rows.map((row) => [
        row.getAttribute('data-row') ?? '',
        Object.fromEntries([...row.querySelectorAll('td')].map((td) => [td.getAttribute('data-runtime') ?? '', Number(td.getAttribute('data-ms') || 'NaN')])),
      ]),
    ),
  );
}

/** The card's PNG export: its file name, and a real PNG with something drawn in it. */
export async function expectPng(page: Page, card: string, filename: string): Promise<void> {
  const png = await downloadOf(page, () => page.getByTestId(card).getByTestId('chart-save-png').click());
  expect(png.download.suggestedFilename()).toBe(filename);
  expect(png.content.subarray(1, 4).toString('latin1')).toBe('PNG');
  expect(png.content.length).toBeGreaterThan(5_000);
}

/** The run's samples CSV as exported from Results: its header (checked) and rows. */
export async function samplesCsv(page: Page, runId: string): Promise<{ header: string[]; rows: string[][] }> {
  const file = await downloadOf(page, () => page.getByTestId('export-samples-csv').click());
  expect(file.download.suggestedFilename()).toBe(`runtime-lab-${runId}-samples.csv`);
  const [header = [], ...rows] = parseCsv(file.content.toString('utf8'));
  expect(header).toEqual([...SAMPLE_CSV_COLUMNS]);
  return { header, rows };
}
