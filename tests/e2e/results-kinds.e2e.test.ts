// The Results page for the kinds of run whose agent side is being built right now — CRI
// pod lifecycle, docker storage-driver loop, in-container perf — in the real renderer in
// Chromium with the real services. Their runs are FIXTURES (tests/e2e/fixtures/), agent
// events stored through the real ResultsStore; so only the views' structure is asserted
// (every step, driver and kernel present, one series per runtime, exports whole), never a
// number. Screenshots land in test-artifacts/e2e/ (results-kind-*.png).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CRI_STEPS, PERF_KERNELS } from '../../shared/model/plan.ts';
import { SAMPLE_CSV_COLUMNS, SUMMARY_CSV_COLUMNS } from '../../shared/csv-export.ts';
import { openLabPage, type LabPage } from './browser-harness.ts';
import { chartColours, colourByAttr, expectDriverColoursAgree } from './colour-agreement.ts';
import { criRunFixture, perfRunFixture, seedRun, storageDriverRunFixture } from './fixtures/agent-event-fixtures.ts';
import { parseCsv } from './read-csv.ts';
import { downloadOf, expectEachPartDrawn, UI_TIMEOUT, until } from './ui-flows.ts';

const CRI_RUN = 'fixture-cri';
const DRIVERS_RUN = 'fixture-storage-drivers';
const PERF_RUN = 'fixture-perf';
const CRI_ITERATIONS = 12;

let lab: LabPage;
let page: Page;

async function openRun(runId: string): Promise<void> {
  await page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`).click();
  await until(`run ${runId} open`, async () => (await page.getByTestId('run-detail').getAttribute('data-run-id')) === runId);
}

async function attr(testId: string, name: string): Promise<string> {
  return (await page.getByTestId(testId).first().getAttribute(name)) ?? '';
}

async function expectPng(card: string, filename: string): Promise<void> {
  const png = await downloadOf(page, () => page.getByTestId(card).getByTestId('chart-save-png').click());
  expect(png.download.suggestedFilename()).toBe(filename);
  expect(png.content.subarray(1, 4).toString('latin1')).toBe('PNG');
  expect(png.content.length).toBeGreaterThan(5_000);
}

async function exportCsv(kind: string): Promise<{ filename: string; header: string[]; rows: string[][] }> {
  const file = await downloadOf(page, () => page.getByTestId(`export-${kind}`).click());
  const [header = [], ...rows] = parseCsv(file.content.toString('utf8'));
  return { filename: file.download.suggestedFilename(), header, rows };
}

beforeAll(async () => {
  lab = await openLabPage({ viewport: { width: 1440, height: 1000 } });
  page = lab.page;
  const store = lab.services.results;
  seedRun(store, CRI_RUN, 'fixture-lab', criRunFixture(CRI_RUN, '2026-01-01T10:00:00.000Z', CRI_ITERATIONS));
  seedRun(store, DRIVERS_RUN, 'fixture-lab', storageDriverRunFixture(DRIVERS_RUN, '2026-01-01T11:00:00.000Z'));
  seedRun(store, PERF_RUN, 'fixture-lab', perfRunFixture(PERF_RUN, '2026-01-01T12:00:00.000Z'));
}, 120_000);

afterAll(async () => {
  await lab?.close();
}, 60_000);

describe('Results views per kind of run (fixture runs in the real store)', () => {
  it('lists each run with its kind, counting iterations, not their steps', async () => {
    await page.getByTestId('nav-results').click();
    await page.getByTestId('run-list').waitFor({ timeout: UI_TIMEOUT });
    const row = (id: string) => page.locator(`[data-testid="run-row"][data-run-id="${id}"]`);
    await row(CRI_RUN).waitFor({ timeout: UI_TIMEOUT });
    await expect(row(CRI_RUN).getAttribute('data-kind')).resolves.toBe('cri');
    await expect(row(DRIVERS_RUN).getAttribute('data-kind')).resolves.toBe('storage-drivers');
    await expect(row(PERF_RUN).getAttribute('data-kind')).resolves.toBe('perf');
    // 2 runtimes × 12 measured pods: the 7 step samples of each are parts, not iterations.
    await expect(row(CRI_RUN).getByTestId('run-row-counts').getAttribute('data-ok')).resolves.toBe(String(2 * CRI_ITERATIONS));
  });

  it('CRI: stacked step medians per runtime with the whole loop marked, per-step iteration series and the step table', async () => {
    await openRun(CRI_RUN);
    await expect(attr('run-detail-kind', 'data-kind')).resolves.toBe('cri');
    await page.getByTestId('cri-analysis').waitFor({ timeout: UI_TIMEOUT });
    await until('the step chart', async () => (await attr('cri-steps-chart', 'data-steps')) !== '');
    expect((await attr('cri-steps-chart', 'data-steps')).split(',')).toEqual([...CRI_STEPS]);
    expect((await attr('cri-steps-chart', 'data-runtimes')).split(',')).toEqual(['runc', 'runsc']);
    await expect(attr('cri-steps-chart', 'data-loop-marks')).resolves.toBe('2');
    await expect(page.getByTestId('cri-step-legend').count()).resolves.toBe(CRI_STEPS.length);

    // The table: a row per call, then the sum of their medians and the whole loop, a cell per runtime with n.
    const rows = page.getByTestId('cri-step-table-row');
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-row')))).toEqual([...CRI_STEPS, 'sum', 'loop']);
    for (const step of CRI_STEPS) {
      const cells = page.locator(`[data-testid="cri-step-table-row"][data-row="${step}"] td`);
      expect(await cells.evaluateAll((els) => els.map((e) => [e.getAttribute('data-runtime'), e.getAttribute('data-n')]))).toEqual([
        ['runc', String(CRI_ITERATIONS)],
        ['runsc', String(CRI_ITERATIONS)],
      ]);
    }

    // Each step's iterations, one line per runtime, warm-ups included.
    const card = page.getByTestId('cri-iterations-card');
    expect(await card.getByTestId('part-option').evaluateAll((els) => els.map((e) => e.getAttribute('data-part')))).toEqual(['whole', ...CRI_STEPS]);
    await expectEachPartDrawn(card, CRI_STEPS, 'runc,runsc', 2 * (CRI_ITERATIONS + 2));
    await card.locator('[data-testid="part-option"][data-part="RunPodSandbox"]').click();

    // One colour per thing across the cards: a step's swatch is the same in legend and table,
    // a runtime's the same in the iteration card and the table, and no step wears a runtime's.
    const runtimeColours = await colourByAttr(page.getByTestId('cri-step-table-runtime'), 'data-runtime');
    expect(Object.keys(runtimeColours)).toEqual(['runc', 'runsc']);
    await until('RunPodSandbox series coloured', async () => Object.keys(await chartColours(card.getByTestId('iteration-chart'))).join(',') === 'runc,runsc');
    expect(await chartColours(card.getByTestId('iteration-chart'))).toEqual(runtimeColours);
    expect(await colourByAttr(card.getByTestId('series-legend'), 'data-series')).toEqual(runtimeColours);
    const stepColours = await colourByAttr(page.getByTestId('cri-step-legend'), 'data-step');
    expect(Object.keys(stepColours)).toEqual([...CRI_STEPS]);
    const stepRows = await colourByAttr(page.getByTestId('cri-step-table-row'), 'data-row');
    for (const step of CRI_STEPS) expect(stepRows[step], step).toBe(stepColours[step]);
    expect(new Set(Object.values(stepColours)).size).toBe(CRI_STEPS.length);
    for (const colour of Object.values(stepColours)) expect(Object.values(runtimeColours)).not.toContain(colour);

    // The endpoint's daemon beside the latencies.
    await until('daemon readings', async () => (await attr('daemon-usage-chart', 'data-processes')).includes('containerd'));

    await page.getByTestId('cri-steps-card').evaluate((el) => el.scrollIntoView({ block: 'end' }));
    await lab.screenshot('results-kind-cri-01-steps');
    await card.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await lab.screenshot('results-kind-cri-02-iterations');
    await page.getByTestId('cri-step-table-card').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await lab.screenshot('results-kind-cri-03-table');

    await expectPng('cri-steps-card', `runtime-lab-${CRI_RUN}-cri-steps.png`);
    await expectPng('cri-iterations-card', `runtime-lab-${CRI_RUN}-cri-iterations-RunPodSandbox.png`);

    const samples = await exportCsv('samples-csv');
    expect(samples.filename).toBe(`runtime-lab-${CRI_RUN}-samples.csv`);
    expect(samples.header).toEqual([...SAMPLE_CSV_COLUMNS]);
    const step = samples.header.indexOf('step');
    expect(new Set(samples.rows.map((r) => r[step]))).toEqual(new Set([...CRI_STEPS, '']));
    expect(samples.rows).toHaveLength(lab.services.results.getRun(CRI_RUN).samples.length);
    const summary = await exportCsv('summary-csv');
    expect(summary.header).toEqual([...SUMMARY_CSV_COLUMNS]);
    expect(summary.rows).toHaveLength(2 * (CRI_STEPS.length + 1));
    await expect(page.getByTestId('export-memory-steps-csv').count()).resolves.toBe(0);
  });

  it('storage drivers: grouped bars runtime × driver with CI whiskers, series per runtime and driver, the table', async () => {
    await openRun(DRIVERS_RUN);
    await expect(attr('run-detail-kind', 'data-kind')).resolves.toBe('storage-drivers');
    await page.getByTestId('drivers-analysis').waitFor({ timeout: UI_TIMEOUT });
    await until('the driver chart', async () => (await attr('drivers-chart', 'data-bars')) !== '');
    await expect(attr('drivers-chart', 'data-groups')).resolves.toBe('runc,runsc');
    await expect(attr('drivers-chart', 'data-bars')).resolves.toBe('overlay2,vfs');
    await expect(attr('drivers-chart', 'data-values')).resolves.toBe('4');
    await expect(attr('drivers-chart', 'data-whiskers')).resolves.toBe('4');
    expect(await page.getByTestId('drivers-table-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-row')))).toEqual(['overlay2', 'vfs']);
    await until('every series drawn', async () => (await attr('iteration-chart', 'data-series')) === 'runc · overlay2,runc · vfs,runsc · overlay2,runsc · vfs');
    await expectDriverColoursAgree(page, ['runc', 'runsc'], ['overlay2', 'vfs']);
    // The failed iteration is kept and drawn, not dropped.
    await expect(attr('iteration-chart', 'data-failed')).resolves.toBe('1');
    await until('daemon readings', async () => (await attr('daemon-usage-chart', 'data-processes')).includes('dockerd'));

    await lab.screenshot('results-kind-drivers-01-bars');
    await page.getByTestId('drivers-table-card').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await lab.screenshot('results-kind-drivers-02-table');
    await expectPng('drivers-card', `runtime-lab-${DRIVERS_RUN}-storage-drivers.png`);

    const samples = await exportCsv('samples-csv');
    const driver = samples.header.indexOf('storage_driver');
    expect(new Set(samples.rows.map((r) => r[driver]))).toEqual(new Set(['overlay2', 'vfs']));
    const ok = samples.header.indexOf('ok');
    expect(samples.rows.filter((r) => r[ok] === 'false')).toHaveLength(1);
  });

  it('perf: per-kernel bars per runtime, relative or in ms, the whole iteration too, and per-kernel series', async () => {
    await openRun(PERF_RUN);
    await expect(attr('run-detail-kind', 'data-kind')).resolves.toBe('perf');
    await page.getByTestId('perf-analysis').waitFor({ timeout: UI_TIMEOUT });
    await until('the kernel chart', async () => (await attr('perf-chart', 'data-groups')) !== '');
    await expect(attr('perf-chart', 'data-groups')).resolves.toBe([...PERF_KERNELS, 'whole iteration'].join(','));
    await expect(attr('perf-chart', 'data-bars')).resolves.toBe('runc,runsc');
    await expect(attr('perf-chart', 'data-values')).resolves.toBe(String(2 * (PERF_KERNELS.length + 1)));
    await expect(attr('perf-scale', 'data-scale')).resolves.toBe('relative');
    await lab.screenshot('results-kind-perf-01-relative');
    await expectPng('perf-card', `runtime-lab-${PERF_RUN}-perf-relative.png`);

    await page.getByTestId('perf-scale-absolute').click();
    await expect(attr('perf-scale', 'data-scale')).resolves.toBe('absolute');
    await lab.screenshot('results-kind-perf-02-absolute');
    await expectPng('perf-card', `runtime-lab-${PERF_RUN}-perf-absolute.png`);

    expect(await page.getByTestId('perf-table-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-row')))).toEqual([...PERF_KERNELS, 'whole iteration']);
    // Runtimes are the only coloured things: each bar in its runtime's table colour, no kernel swatch.
    const runtimeColours = await colourByAttr(page.getByTestId('perf-table-runtime'), 'data-runtime');
    const barColours = await chartColours(page.getByTestId('perf-chart'));
    for (const group of [...PERF_KERNELS, 'whole iteration']) for (const r of ['runc', 'runsc']) expect(barColours[`${group} · ${r}`], `${group} · ${r}`).toBe(runtimeColours[r]);
    expect(Object.values(await colourByAttr(page.getByTestId('perf-table-row'), 'data-row')).filter(Boolean)).toEqual([]);
    const card = page.getByTestId('perf-iterations-card');
    expect(await colourByAttr(card.getByTestId('series-legend'), 'data-series')).toEqual(runtimeColours);
    await expectEachPartDrawn(card, PERF_KERNELS, 'runc,runsc');
    // oci-direct: no daemon in the path, so no daemon card.
    await expect(page.getByTestId('daemon-usage-card').count()).resolves.toBe(0);
    await card.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await lab.screenshot('results-kind-perf-03-iterations');

    const samples = await exportCsv('samples-csv');
    const step = samples.header.indexOf('step');
    expect(new Set(samples.rows.map((r) => r[step]))).toEqual(new Set([...PERF_KERNELS, '']));

    expect(lab.cspViolations).toEqual([]);
    expect(lab.pageErrors).toEqual([]);
  });
});
