// A memory-footprint run end to end, for real: the plan built on the Benchmarks page
// (measure Memory, containers per step, settle time), measured by the real agent over a
// real sshd on loopback with real runc and runsc (ptrace), then read on the Results page —
// memory per container against the number of containers (a line per runtime), where the
// memory goes by process role, every step with the processes counted, the list entry
// counting steps, and the memory-steps CSV and PNGs. Figures are asserted only as
// relations (every PSS > 0), never as numbers. Screenshots: test-artifacts/e2e/memory-*.png.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { MEMORY_STEP_CSV_COLUMNS } from '../../shared/csv-export.ts';
import { startSshd, type TestSshd } from '../lab/sshd.ts';
import { openLabPage, type LabPage } from './browser-harness.ts';
import { parseCsv } from './read-csv.ts';
import { addTrustedKeyHost, downloadOf, startRun, UI_TIMEOUT, until, untilCompleted } from './ui-flows.ts';

const RUN_TIMEOUT = 240_000;
const STEPS = [1, 2];
const RUNTIMES = ['runc', 'runsc'];

let sshd: TestSshd;
let lab: LabPage;
let dataDir: string;
let page: Page;
let runId = '';

async function attr(testId: string, name: string): Promise<string> {
  return (await page.getByTestId(testId).first().getAttribute(name)) ?? '';
}

beforeAll(async () => {
  sshd = await startSshd();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlab-e2e-memory-'));
  lab = await openLabPage({ dataDir, viewport: { width: 1440, height: 1000 } });
  page = lab.page;
}, 180_000);

afterAll(async () => {
  await lab?.close();
  await sshd?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

describe('A memory run of runc and runsc, planned, measured and read through the UI', () => {
  it('offers CRI runtime handlers and a docker storage-driver loop in the plan', async () => {
    await addTrustedKeyHost(page, sshd, 'memory-lab');
    await page.getByTestId('nav-benchmarks').click();
    const runtime = (name: string) => page.locator(`[data-testid="bench-runtime"][data-runtime="${name}"]`);
    await runtime('runc').waitFor({ timeout: UI_TIMEOUT });
    for (const row of await page.getByTestId('bench-runtime').all()) {
      const box = row.getByTestId('bench-runtime-check');
      if (RUNTIMES.includes((await row.getAttribute('data-runtime')) ?? '')) await box.check();
      else await box.uncheck();
    }
    await page.getByTestId('bench-iterations').fill('10');
    await page.getByTestId('bench-warmups').fill('1');

    // CRI: the socket, and a handler per runtime (default: the runtime's name).
    await page.getByTestId('bench-method-cri').click();
    await page.getByTestId('bench-cri-options').waitFor({ timeout: UI_TIMEOUT });
    await expect(page.getByTestId('bench-cri-address').getAttribute('placeholder')).resolves.toBe('/run/containerd/containerd.sock');
    await expect(runtime('runsc').getByTestId('bench-runtime-cri-handler').getAttribute('placeholder')).resolves.toContain('runsc');
    await runtime('runsc').getByTestId('bench-runtime-cri-handler').fill('not a handler');
    await expect(page.getByTestId('bench-run').isDisabled()).resolves.toBe(true);
    await runtime('runsc').getByTestId('bench-runtime-cri-handler').fill('runsc-ptrace');
    await expect(page.getByTestId('bench-run').isEnabled()).resolves.toBe(true);
    await expect(page.getByTestId('bench-total').textContent()).resolves.toContain('22 pod lifecycles');
    await page.getByTestId('bench-method').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await lab.screenshot('memory-00-plan-cri');

    // Docker: storage drivers picked in order make a loop; the total counts every pass.
    await page.getByTestId('bench-method-docker').click();
    const driver = (name: string) => page.locator(`[data-testid="bench-storage-driver-option"][data-driver="${name}"]`);
    await driver('vfs').click();
    await driver('overlay2').click();
    await expect(attr('bench-storage-drivers', 'data-picked')).resolves.toBe('vfs,overlay2');
    await expect(page.getByTestId('bench-storage-driver').count()).resolves.toBe(0);
    await expect(page.getByTestId('bench-total').textContent()).resolves.toContain('× 2 storage drivers');
    await page.getByTestId('bench-method').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await lab.screenshot('memory-00-plan-docker-drivers');
    await driver('vfs').click();
    await driver('overlay2').click();
    await page.getByTestId('bench-method-oci-direct').click();
  });

  it('builds a memory plan on the Benchmarks page', async () => {

    await expect(attr('bench-measurement', 'data-measurement')).resolves.toBe('startup');
    await page.getByTestId('bench-measure-memory').click();
    await page.getByTestId('bench-memory-options').waitFor({ timeout: UI_TIMEOUT });
    // Iterations do not apply to a memory plan: the section goes away.
    await expect(page.getByTestId('bench-iterations').count()).resolves.toBe(0);
    await page.getByTestId('bench-memory-containers').fill('1, x');
    await expect(page.getByTestId('bench-run').isDisabled()).resolves.toBe(true);
    await page.getByTestId('bench-memory-containers').fill(STEPS.join(', '));
    await page.getByTestId('bench-memory-settle').fill('500');
    await expect(page.getByTestId('bench-total').textContent()).resolves.toContain(`${RUNTIMES.length * STEPS.length} memory steps`);

    // CRI cannot run a memory plan: the choice is offered only where it applies.
    await page.getByTestId('bench-method-cri').click();
    await expect(page.getByTestId('bench-measure-memory').isDisabled()).resolves.toBe(true);
    await page.getByTestId('bench-method-oci-direct').click();
    await expect(page.getByTestId('bench-run').isEnabled()).resolves.toBe(true);
    await page.getByTestId('bench-measurement').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await lab.screenshot('memory-01-plan');
  });

  it('measures it and shows memory per container against the number of containers', async () => {
    const { monitor, runId: started } = await startRun(page);
    runId = started;
    await untilCompleted(page, monitor, RUN_TIMEOUT);

    const stored = lab.services.results.getRun(runId).meta.plan;
    expect(stored.memory).toEqual({ containers: STEPS, settleMs: 500 });
    expect(stored.workload).toBe('loop');
    const steps = lab.services.results.getMemorySteps(runId);
    expect(steps).toHaveLength(RUNTIMES.length * STEPS.length);
    expect(steps.every((s) => s.ok && (s.perContainerPssBytes ?? 0) > 0)).toBe(true);

    // The progress counts steps, not samples.
    await until('progress in steps', async () => (await attr('run-progress', 'data-done')) === String(steps.length));
    await expect(attr('run-progress', 'data-total')).resolves.toBe(String(steps.length));

    await until('the memory chart', async () => (await attr('memory-chart', 'data-points')) === String(steps.length));
    await expect(attr('memory-chart', 'data-runtimes')).resolves.toBe(RUNTIMES.join(','));
    await expect(attr('memory-chart', 'data-metric')).resolves.toBe('pss');
    await expect(attr('memory-roles-chart', 'data-runtimes')).resolves.toBe(RUNTIMES.join(','));
    expect((await attr('memory-roles-chart', 'data-roles')).split(',')).toContain('container');
    // Every step in the table, with the processes that were counted.
    const rows = page.getByTestId('memory-step-row');
    await expect(rows.count()).resolves.toBe(steps.length);
    for (const row of await rows.all()) expect(Number(await row.getAttribute('data-processes'))).toBeGreaterThan(0);
    await page.getByTestId('memory-card').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await lab.screenshot('memory-02-run-pss');

    await page.getByTestId('memory-metric-drop').click();
    await until('the MemAvailable view', async () => (await attr('memory-chart', 'data-metric')) === 'drop');
    await lab.screenshot('memory-03-run-memavailable');
    await page.getByTestId('memory-metric-pss').click();
  });

  it('lists it as a memory run counting steps, and exports its steps as CSV and its charts as PNG', async () => {
    await page.getByTestId('run-open-results').click();
    await until('the run open in Results', async () => (await attr('run-detail', 'data-run-id')) === runId);
    const row = page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
    await expect(row.getAttribute('data-kind')).resolves.toBe('memory');
    const counts = row.getByTestId('run-row-counts');
    await until('the list counts steps', async () => (await counts.getAttribute('data-ok')) === String(RUNTIMES.length * STEPS.length));
    await expect(counts.getAttribute('data-unit')).resolves.toBe('steps');
    await expect(attr('run-detail-kind', 'data-kind')).resolves.toBe('memory');
    await until('the memory chart', async () => (await attr('memory-chart', 'data-points')) === String(RUNTIMES.length * STEPS.length));

    // A memory run offers its steps, not samples.
    await expect(page.getByTestId('export-samples-csv').count()).resolves.toBe(0);
    const csv = await downloadOf(page, () => page.getByTestId('export-memory-steps-csv').click());
    expect(csv.download.suggestedFilename()).toBe(`runtime-lab-${runId}-memory-steps.csv`);
    const [header, ...lines] = parseCsv(csv.content.toString('utf8'));
    expect(header).toEqual([...MEMORY_STEP_CSV_COLUMNS]);
    expect(lines).toHaveLength(RUNTIMES.length * STEPS.length);
    const col = (name: string) => header?.indexOf(name) ?? -1;
    expect(new Set(lines.map((l) => l[col('runtime')]))).toEqual(new Set(RUNTIMES));
    expect(lines.every((l) => Number(l[col('per_container_pss_bytes')]) > 0 && (l[col('processes')] ?? '') !== '')).toBe(true);

    for (const [card, name] of [['memory-card', 'memory-pss'], ['memory-roles-card', 'memory-roles']] as const) {
      const png = await downloadOf(page, () => page.getByTestId(card).getByTestId('chart-save-png').click());
      expect(png.download.suggestedFilename()).toBe(`runtime-lab-${runId}-${name}.png`);
      expect(png.content.subarray(1, 4).toString('latin1')).toBe('PNG');
    }
    await page.getByTestId('memory-card').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await lab.screenshot('memory-04-results');
    await page.getByTestId('memory-steps-card').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await lab.screenshot('memory-05-results-steps');

    expect(lab.cspViolations).toEqual([]);
    expect(lab.pageErrors).toEqual([]);
  });
});
