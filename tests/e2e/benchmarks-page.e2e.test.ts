// The Benchmarks and Results pages end to end: the real renderer in Chromium, the real
// services, a real OpenSSH server on loopback and real runc and runsc measured by the real
// agent. Screenshots of each key step land in test-artifacts/e2e/ (bench-*.png).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { SAMPLE_CSV_COLUMNS } from '../../shared/csv-export.ts';
import type { Sample } from '../../shared/model/run-record.ts';
import type { RunMeta } from '../../shared/model/run.ts';
import { startSshd, type TestSshd } from '../lab/sshd.ts';
import { openLabPage, type LabPage } from './browser-harness.ts';
import { parseCsv } from './read-csv.ts';
import { addTrustedKeyHost, CONNECT_TIMEOUT, downloadOf, expectCompleted, startRun, UI_TIMEOUT, until } from './ui-flows.ts';

// 2 runtimes × (20 + 2 warm-ups), runsc under ptrace included: seconds here, generous for CI.
const RUN_TIMEOUT = 180_000;
const ITERATIONS = 20;
const WARMUPS = 2;

let sshd: TestSshd;
let lab: LabPage;
let dataDir: string;
let page: Page;
let runId = '';

function summaryCell(testId: string, runtime: string) {
  return page.locator(`[data-testid="${testId}"][data-runtime="${runtime}"]`);
}

function attr(testId: string, name: string): Promise<string | null> {
  return page.getByTestId(testId).first().getAttribute(name);
}

async function openLab(): Promise<void> {
  lab = await openLabPage({ dataDir, viewport: { width: 1440, height: 900 } });
  page = lab.page;
}

beforeAll(async () => {
  sshd = await startSshd();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlab-e2e-bench-'));
  await openLab();
});

afterAll(async () => {
  await lab?.close();
  await sshd?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('Benchmarks page against real services, a real sshd, real runc and runsc', () => {
  it('offers to connect a host first, and Results starts empty', async () => {
    await page.getByTestId('nav-benchmarks').click();
    await page.getByTestId('bench-no-host').waitFor({ timeout: UI_TIMEOUT });
    await expect(page.getByTestId('bench-run').count()).resolves.toBe(0);
    await lab.screenshot('bench-01-no-host');
    await page.getByTestId('nav-results').click();
    await page.getByTestId('results-empty').waitFor({ timeout: UI_TIMEOUT });
    await lab.screenshot('bench-02-results-empty');
  });

  it('connects a key-auth root host through the UI and offers its runtimes with their flags', async () => {
    await addTrustedKeyHost(page, sshd, 'bench-lab');

    await page.getByTestId('nav-benchmarks').click();
    const select = page.getByTestId('bench-host-select');
    await select.waitFor({ timeout: UI_TIMEOUT });
    await expect(select.locator('option:checked').textContent()).resolves.toBe('bench-lab');
    const runtime = (name: string) => page.locator(`[data-testid="bench-runtime"][data-runtime="${name}"]`);
    await runtime('runc').waitFor({ timeout: UI_TIMEOUT });
    await runtime('runsc').waitFor({ timeout: UI_TIMEOUT });
    // runsc's preset flags are shown, editable, as text.
    await expect(runtime('runsc').getByTestId('bench-runtime-flags').inputValue()).resolves.toBe('--network=none --platform=ptrace');
    await expect(runtime('runc').getByTestId('bench-runtime-flags').inputValue()).resolves.toBe('');

    // Only runc and runsc.
    for (const row of await page.getByTestId('bench-runtime').all()) {
      const name = await row.getAttribute('data-runtime');
      const box = row.getByTestId('bench-runtime-check');
      if (name === 'runc' || name === 'runsc') await box.check();
      else await box.uncheck();
    }
    await page.getByTestId('bench-iterations').fill(String(ITERATIONS));
    await page.getByTestId('bench-warmups').fill(String(WARMUPS));
    await page.getByTestId('bench-order-round-robin').click();
    await expect(page.getByTestId('bench-total').textContent()).resolves.toContain('44 container starts');
    await expect(page.getByTestId('bench-run').isEnabled()).resolves.toBe(true);

    // A bad number is caught where it is typed, and Run is not offered for it.
    await page.getByTestId('bench-iterations').fill('0');
    await expect(page.getByTestId('bench-run').isDisabled()).resolves.toBe(true);
    await page.getByTestId('bench-iterations').fill(String(ITERATIONS));
    await lab.screenshot('bench-03-plan');
  });

  it('runs the benchmark with live progress and a chart that grows while the run goes on', async () => {
    const { monitor, runId: started } = await startRun(page);
    runId = started;

    // Watch the chart's point count while the run is measuring: it must be seen at (at
    // least) two different, growing values before the run completes.
    const seen: number[] = [];
    let shotTaken = false;
    const deadline = Date.now() + RUN_TIMEOUT;
    for (;;) {
      const phase = await monitor.getAttribute('data-phase');
      const points = Number((await attr('iteration-chart', 'data-points')) ?? 0);
      if (phase === 'running' && points > 0 && points < 44 && seen[seen.length - 1] !== points) seen.push(points);
      if (!shotTaken && phase === 'running' && points >= 12 && points < 40) {
        shotTaken = true;
        await lab.screenshot('bench-04-running-live');
      }
      if (phase === 'completed' || phase === 'failed' || phase === 'aborted') break;
      if (Date.now() > deadline) throw new Error(`the run did not finish in time (phase ${phase}, ${points} points)`);
      await new Promise((r) => setTimeout(r, 40));
    }
    await expectCompleted(page, monitor);
    expect(seen.length, `point counts seen while running: ${seen.join(', ')}`).toBeGreaterThanOrEqual(2);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);

    // Everything arrived: 44 points (warm-ups included), progress full, per-runtime counts.
    await until('all 44 points drawn', async () => (await attr('iteration-chart', 'data-points')) === '44');
    await expect(attr('run-progress', 'data-done')).resolves.toBe('44');
    await expect(attr('run-progress', 'data-total')).resolves.toBe('44');
    for (const name of ['runc', 'runsc']) {
      const count = page.locator(`[data-testid="run-count"][data-runtime="${name}"]`);
      await expect(count.getAttribute('data-ok')).resolves.toBe(String(ITERATIONS));
      await expect(count.getAttribute('data-failed')).resolves.toBe('0');
      await expect(count.getAttribute('data-warmups')).resolves.toBe(String(WARMUPS));
    }

    // The summary chart and table: both runtimes with n = 20 (which is faster is not asserted).
    await expect(attr('summary-chart', 'data-runtimes')).resolves.toBe('2');
    for (const name of ['runc', 'runsc']) {
      await expect(summaryCell('summary-n', name).textContent()).resolves.toBe(String(ITERATIONS));
      await expect(summaryCell('summary-failures', name).textContent()).resolves.toBe('0');
      expect(Number(await summaryCell('summary-median', name).getAttribute('data-ms'))).toBeGreaterThan(0);
    }
    await expect(page.getByTestId('run-log').count()).resolves.toBe(1);
    await lab.screenshot('bench-05-completed');
    await page.getByTestId('summary-card').evaluate((el) => el.scrollIntoView({ block: 'end' }));
    await lab.screenshot('bench-06-completed-summary');
  });

  it('lists the run in Results as completed, shows its environment, exports CSV, JSON and PNG', async () => {
    await page.getByTestId('run-open-results').click();
    await page.getByTestId('results-page').waitFor({ timeout: UI_TIMEOUT });
    const row = page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
    await row.waitFor({ timeout: UI_TIMEOUT });
    await expect(row.getAttribute('data-status')).resolves.toBe('completed');
    await expect(row.textContent()).resolves.toContain('bench-lab');
    const counts = row.getByTestId('run-row-counts');
    await expect(counts.getAttribute('data-ok')).resolves.toBe(String(2 * ITERATIONS));
    await expect(counts.getAttribute('data-warmups')).resolves.toBe(String(2 * WARMUPS));

    const detail = page.getByTestId('run-detail');
    await detail.waitFor({ timeout: UI_TIMEOUT });
    await expect(detail.getAttribute('data-run-id')).resolves.toBe(runId);
    await until('the stored run drawn', async () => (await attr('iteration-chart', 'data-points')) === '44');
    for (const name of ['runc', 'runsc']) {
      await expect(summaryCell('summary-n', name).textContent()).resolves.toBe(String(ITERATIONS));
    }
    await expect(page.getByTestId('env-kernel').textContent()).resolves.toContain(os.release());
    await expect(page.getByTestId('env-order').textContent()).resolves.toContain('round-robin');
    await expect(page.getByTestId('env-bundle-digest').textContent()).resolves.toMatch(/[0-9a-f]{16,}/);
    await expect(page.locator('[data-testid="env-runtime"][data-runtime="runc"]').getByTestId('env-runtime-version').textContent()).resolves.toMatch(/\d/);
    await lab.screenshot('bench-07-results-run');
    await page.getByTestId('run-environment').evaluate((el) => el.scrollIntoView({ block: 'end' }));
    await lab.screenshot('bench-08-results-environment');
    await page.getByTestId('run-detail').evaluate((el) => el.closest('.split__detail')?.scrollTo({ top: 0 }));

    // Samples CSV: 44 rows (warm-ups flagged), the agreed header.
    const samples = await downloadOf(page, () => page.getByTestId('export-samples-csv').click());
    expect(samples.download.suggestedFilename()).toBe(`runtime-lab-${runId}-samples.csv`);
    const rows = parseCsv(samples.content.toString('utf8'));
    const [header, ...body] = rows;
    expect(header).toEqual([...SAMPLE_CSV_COLUMNS]);
    expect(body).toHaveLength(44);
    const col = (name: string) => header?.indexOf(name) ?? -1;
    expect(body.every((r) => r[col('run_id')] === runId && r[col('host')] === 'bench-lab' && r[col('method')] === 'oci-direct')).toBe(true);
    for (const name of ['runc', 'runsc']) {
      const mine = body.filter((r) => r[col('runtime')] === name);
      expect(mine).toHaveLength(ITERATIONS + WARMUPS);
      expect(mine.filter((r) => r[col('warmup')] === 'true')).toHaveLength(WARMUPS);
      expect(mine.filter((r) => r[col('warmup')] === 'false')).toHaveLength(ITERATIONS);
      expect(mine.every((r) => r[col('ok')] === 'true' && Number(r[col('duration_ms')]) > 0)).toBe(true);
    }

    const summary = await downloadOf(page, () => page.getByTestId('export-summary-csv').click());
    expect(summary.download.suggestedFilename()).toBe(`runtime-lab-${runId}-summary.csv`);
    const summaryRows = parseCsv(summary.content.toString('utf8'));
    const sHeader = summaryRows[0] ?? [];
    expect(summaryRows.slice(1).map((r) => [r[sHeader.indexOf('runtime')], r[sHeader.indexOf('n')]])).toEqual([
      ['runc', String(ITERATIONS)],
      ['runsc', String(ITERATIONS)],
    ]);

    const env = await downloadOf(page, () => page.getByTestId('export-environment-json').click());
    expect(env.download.suggestedFilename()).toBe(`runtime-lab-${runId}-environment.json`);
    const meta = JSON.parse(env.content.toString('utf8')) as RunMeta;
    expect(meta.plan.iterations).toBe(ITERATIONS);
    expect(meta.plan.order).toBe('round-robin');
    expect(meta.facts.os.kernel).toBe(os.release());

    const png = await downloadOf(page, () => page.getByTestId('iteration-chart-card').getByTestId('chart-save-png').click());
    expect(png.download.suggestedFilename()).toBe(`runtime-lab-${runId}-iterations.png`);
    expect(png.content.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect(png.content.length).toBeGreaterThan(5_000);
  });

  it('follows a real run live on the Results page, and aborts it from there', async () => {
    await page.getByTestId('nav-benchmarks').click();
    await page.getByTestId('run-new').click();
    await page.getByTestId('bench-intro').waitFor({ timeout: UI_TIMEOUT });
    for (const row of await page.getByTestId('bench-runtime').all()) {
      const box = row.getByTestId('bench-runtime-check');
      if ((await row.getAttribute('data-runtime')) === 'runc') await box.check();
      else await box.uncheck();
    }
    await page.getByTestId('bench-iterations').fill('2000');
    await page.getByTestId('bench-warmups').fill('0');
    await page.getByTestId('bench-order-random').click();
    await page.getByTestId('bench-seed').fill('7');
    await page.getByTestId('bench-run').click();
    const monitor = page.getByTestId('run-monitor');
    await until('the second run to start', async () => {
      const id = (await monitor.count()) > 0 ? await monitor.getAttribute('data-run-id') : null;
      return id !== null && id !== runId && (await monitor.getAttribute('data-phase')) === 'running';
    }, CONNECT_TIMEOUT);
    const abortId = (await monitor.getAttribute('data-run-id')) ?? '';

    await page.getByTestId('nav-results').click();
    const row = page.locator(`[data-testid="run-row"][data-run-id="${abortId}"]`);
    await row.waitFor({ timeout: UI_TIMEOUT });
    await expect(row.getAttribute('data-status')).resolves.toBe('running');
    await row.click();
    await page.locator(`[data-testid="run-detail"][data-run-id="${abortId}"]`).waitFor({ timeout: UI_TIMEOUT });
    await expect(page.getByTestId('env-order').textContent()).resolves.toContain('seed 7');
    const points = async () => Number((await attr('iteration-chart', 'data-points')) ?? 0);
    await until('samples drawn on the Results page', async () => (await points()) > 0, CONNECT_TIMEOUT);
    const first = await points();
    await until('the Results chart to grow', async () => (await points()) > first, CONNECT_TIMEOUT);
    await lab.screenshot('bench-09-results-live');

    await page.getByTestId('run-abort').click();
    await until('the run to be aborted', async () => (await attr('run-detail', 'data-status')) === 'aborted', CONNECT_TIMEOUT);
    await until('the list to show it aborted', async () => (await row.getAttribute('data-status')) === 'aborted');
    const stored = lab.services.results.getRun(abortId);
    expect(stored.meta.status).toBe('aborted');
    expect(stored.samples.length).toBeGreaterThan(first);
    expect(stored.samples.length).toBeLessThan(2000);
    await until('every stored sample drawn', async () => (await points()) === stored.samples.length);
    await lab.screenshot('bench-10-results-aborted');
  });

  it('keeps the run across an app restart', async () => {
    expect(lab.cspViolations).toEqual([]);
    expect(lab.pageErrors).toEqual([]);
    await lab.close();
    await openLab();
    await page.getByTestId('nav-results').click();
    const row = page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
    await row.waitFor({ timeout: UI_TIMEOUT });
    await expect(row.getAttribute('data-status')).resolves.toBe('completed');
    await row.click();
    await page.locator(`[data-testid="run-detail"][data-run-id="${runId}"]`).waitFor({ timeout: UI_TIMEOUT });
    await until('the reopened run drawn', async () => (await attr('iteration-chart', 'data-points')) === '44');
  });

  it('draws a stored run of 10,000 samples without freezing the page (decimated)', async () => {
    const base = lab.services.results.getRun(runId).meta;
    const perfId = 'perf-10k-stored';
    const perRuntime = 5_000;
    const warmups = 10;
    const plan = { ...base.plan, iterations: perRuntime - warmups, warmups };
    lab.services.results.createRun({ ...base, id: perfId, plan, startedAt: new Date(Date.parse(base.startedAt) + 1000).toISOString() });
    lab.services.results.appendSamples(perfId, generatedSamples(['runc', 'runsc'], perRuntime, warmups));
    lab.services.results.finishRun(perfId, { status: 'completed', finishedAt: new Date().toISOString() });

    await page.getByTestId('results-refresh').click();
    const row = page.locator(`[data-testid="run-row"][data-run-id="${perfId}"]`);
    await row.waitFor({ timeout: UI_TIMEOUT });
    const started = Date.now();
    await row.click();
    await page.waitForFunction(() => document.querySelector('[data-testid="iteration-chart"]')?.getAttribute('data-points') === '10000', undefined, {
      timeout: 15_000,
      polling: 50,
    });
    const renderMs = Date.now() - started;
    await expect(attr('iteration-chart', 'data-decimated')).resolves.toBe('true');
    // Smoke check, not a benchmark: the page answers promptly once the chart is drawn.
    const frameMs = await page.evaluate(() => new Promise<number>((resolve) => {
      const t0 = performance.now();
      requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0)));
    }));
    expect(frameMs).toBeLessThan(1_000);
    expect(renderMs).toBeLessThan(10_000);
    for (const name of ['runc', 'runsc']) {
      await expect(summaryCell('summary-n', name).textContent()).resolves.toMatch(/^4,?9\d\d$/);
    }
    await expect(attr('legend-failures', 'data-failures')).resolves.not.toBe('0');
    await lab.screenshot('bench-11-results-10k');
  });

  it('appends 10,000 live samples to an open run, batch by batch, without falling behind', async () => {
    const base = lab.services.results.getRun(runId).meta;
    const liveId = 'perf-10k-live';
    const perRuntime = 5_000;
    const warmups = 10;
    const plan = { ...base.plan, iterations: perRuntime - warmups, warmups };
    lab.services.results.createRun({ ...base, id: liveId, plan, status: 'running', finishedAt: null, startedAt: new Date(Date.parse(base.startedAt) + 2000).toISOString() });
    await page.getByTestId('results-refresh').click();
    const row = page.locator(`[data-testid="run-row"][data-run-id="${liveId}"]`);
    await row.waitFor({ timeout: UI_TIMEOUT });
    await row.click();
    await page.locator(`[data-testid="run-detail"][data-run-id="${liveId}"]`).waitFor({ timeout: UI_TIMEOUT });
    await page.getByTestId('run-progress').waitFor({ timeout: UI_TIMEOUT });

    // The run:samples events main would send, 100 samples each, straight into the page.
    const samples = generatedSamples(['runc', 'runsc'], perRuntime, warmups);
    let slowest = 0;
    for (let i = 0; i < samples.length; i += 100) {
      const batch = samples.slice(i, i + 100);
      // As the runner does: stored first, then announced.
      lab.services.results.appendSamples(liveId, batch);
      const t0 = Date.now();
      await page.evaluate(
        (event) => (window as unknown as { __labDeliverEvent(e: unknown): void }).__labDeliverEvent(event),
        { type: 'run:samples', runId: liveId, samples: batch },
      );
      slowest = Math.max(slowest, Date.now() - t0);
      if (i === 3_000) await lab.screenshot('bench-12-live-10k-partway');
    }
    await page.waitForFunction(() => document.querySelector('[data-testid="iteration-chart"]')?.getAttribute('data-points') === '10000', undefined, {
      timeout: 15_000,
      polling: 50,
    });
    expect(slowest).toBeLessThan(2_000);
    await expect(attr('run-progress', 'data-done')).resolves.toBe('10000');
    await lab.screenshot('bench-13-live-10k');
    lab.services.results.finishRun(liveId, { status: 'aborted', finishedAt: new Date().toISOString(), message: 'synthetic run for the e2e test' });
  });

  it('deletes a run only after confirmation', async () => {
    await page.getByTestId('results-refresh').click();
    const row = page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
    await row.click();
    await page.locator(`[data-testid="run-detail"][data-run-id="${runId}"]`).waitFor({ timeout: UI_TIMEOUT });
    await page.getByTestId('run-delete').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor({ timeout: UI_TIMEOUT });
    await expect(dialog.textContent()).resolves.toContain('44 samples');
    await lab.screenshot('bench-14-delete-confirm');
    await page.getByTestId('confirm-cancel').click();
    await dialog.waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    await expect(row.count()).resolves.toBe(1);
    expect(lab.services.results.listRuns().some((r) => r.id === runId)).toBe(true);

    await page.getByTestId('run-delete').click();
    await page.getByTestId('confirm-ok').click();
    await row.waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    expect(lab.services.results.listRuns().some((r) => r.id === runId)).toBe(false);
    // Another run is opened in its place.
    await expect(page.locator(`[data-testid="run-detail"][data-run-id="${runId}"]`).count()).resolves.toBe(0);
  });

  it('ran under the CSP without a single violation or page error', () => {
    expect(lab.cspViolations).toEqual([]);
    expect(lab.pageErrors).toEqual([]);
  });
});

/** Interleaved samples like the agent writes, with a slow drift, some jitter and ~1% failures. */
function generatedSamples(runtimes: string[], perRuntime: number, warmups: number): Sample[] {
  let state = 42;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const samples: Sample[] = [];
  const t0 = Date.parse('2025-01-01T00:00:00Z');
  for (let round = 0; round < perRuntime; round++) {
    runtimes.forEach((runtime, r) => {
      const warmup = round < warmups;
      const failed = !warmup && random() < 0.01;
      const base = r === 0 ? 22 : 130;
      const seq = samples.length;
      samples.push({
        seq,
        runtime,
        iteration: warmup ? round : round - warmups,
        warmup,
        startedAt: new Date(t0 + seq * 80).toISOString(),
        durationMs: base * (1 + round / perRuntime / 5) + random() * base * 0.3 + (random() < 0.005 ? base * 3 : 0),
        ok: !failed,
        exitCode: failed ? 1 : 0,
        timedOut: false,
        error: failed ? 'container_linux.go: starting container process caused: synthetic failure' : null,
      });
    });
  }
  return samples;
}
