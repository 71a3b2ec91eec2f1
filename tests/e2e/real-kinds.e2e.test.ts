// The perf and CRI result views on REAL runs, planned through the Benchmarks page: the real
// renderer in Chromium, the real services, a real sshd on loopback and the real agent.
// perf: oci-direct with real runc and runsc (ptrace) running the perf binary's three kernels.
// CRI: runc pods through a real containerd's CRI plugin (started for this file in a temp root,
// the agent building and importing its own pause image). results-kinds.e2e.test.ts checks the
// same views on invented fixtures; here only structure and sane relations are asserted (every
// kernel and step present per runtime, medians > 0, the whole iteration at least as long as
// its parts), never figures. Screenshots: test-artifacts/e2e/real-*.png.

import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CRI_STEPS, PERF_KERNELS } from '../../shared/model/plan.ts';
import { startDaemons, type TestDaemons } from '../lab/daemons.ts';
import { useDaemonSuite } from './daemon-suite.ts';
import { expectPng, medianTable, openInResults, pickRuntimes, samplesCsv } from './real-run-views.ts';
import { addTrustedKeyHost, expectEachPartDrawn, startRun, UI_TIMEOUT, until, untilCompleted } from './ui-flows.ts';

const RUN_TIMEOUT = 240_000;
const PERF_RUNTIMES = ['runc', 'runsc'];
const PERF_ITERATIONS = 2;
const PERF_WARMUPS = 1;
const CRI_ITERATIONS = 4;
const CRI_WARMUPS = 1;
// A name containerd does not have: the agent builds its pause image offline and imports it under it.
const SANDBOX_IMAGE = 'runtime-lab/pause:e2e-real';


async function attr(testId: string, name: string): Promise<string> {
  return (await page.getByTestId(testId).first().getAttribute(name)) ?? '';
}

/**
 * The parts of an iteration (kernels, CRI calls) are timed inside its whole: per iteration
 * of each runtime (warm-ups apart), the whole row is at least the sum of its step rows.
 */
function expectWholeHoldsParts(csv: { header: string[]; rows: string[][] }, iterations: number): void {
  const col = (name: string) => csv.header.indexOf(name);
  const groups = new Map<string, { whole: number[]; parts: number }>();
  for (const r of csv.rows) {
    const key = [r[col('runtime')], r[col('warmup')], r[col('iteration')]].join('/');
    const group = groups.get(key) ?? { whole: [], parts: 0 };
    const ms = Number(r[col('duration_ms')]);
    if (r[col('step')] === '') group.whole.push(ms);
    else group.parts += ms;
    groups.set(key, group);
  }
  expect(groups.size).toBe(iterations);
  for (const [key, { whole, parts }] of groups) {
    expect(whole, key).toHaveLength(1);
    expect(whole[0], key).toBeGreaterThanOrEqual(parts);
  }
}

const suite = useDaemonSuite('rlab-e2e-real-', (root) => startDaemons(root, '{}\n', [], { docker: false, cri: { sandboxImage: SANDBOX_IMAGE, handlers: { runc: {} } } }));
let daemons: TestDaemons;
let page: Page;

beforeAll(() => {
  daemons = suite.daemons;
  page = suite.lab.page;
});

describe('Real perf and CRI runs, planned on the Benchmarks page and read in Results', () => {
  it('perf via OCI direct on runc and runsc: every kernel per runtime, medians > 0, PNG and CSV', async () => {
    await addTrustedKeyHost(page, suite.sshd, 'real-kinds-lab');
    await page.getByTestId('nav-benchmarks').click();
    await pickRuntimes(page, PERF_RUNTIMES);
    await page.getByTestId('bench-method-oci-direct').click();
    await page.getByTestId('bench-measure-perf').click();
    await page.getByTestId('bench-perf-options').waitFor({ timeout: UI_TIMEOUT });
    await page.getByTestId('bench-perf-cpu').fill('20000000');
    await page.getByTestId('bench-perf-syscalls').fill('20000');
    await page.getByTestId('bench-perf-io').fill('4');
    await page.getByTestId('bench-iterations').fill(String(PERF_ITERATIONS));
    await page.getByTestId('bench-warmups').fill(String(PERF_WARMUPS));
    await expect(page.getByTestId('bench-total').textContent()).resolves.toContain('3 kernels each');
    await page.getByTestId('bench-measurement').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await suite.lab.screenshot('real-perf-00-plan');

    const { monitor, runId } = await startRun(page);
    await untilCompleted(page, monitor, RUN_TIMEOUT);
    const stored = suite.lab.services.results.getRun(runId);
    expect(stored.meta.plan.perf).toEqual({ cpuLoops: 20_000_000, syscalls: 20_000, ioBytes: 4 * 1024 * 1024 });
    expect(stored.samples.every((s) => s.ok), stored.samples.filter((s) => !s.ok).map((s) => s.error).join('\n')).toBe(true);

    await openInResults(page, runId, 'perf');
    await page.getByTestId('perf-analysis').waitFor({ timeout: UI_TIMEOUT });
    await until('the kernel chart', async () => (await attr('perf-chart', 'data-values')) === String(PERF_RUNTIMES.length * (PERF_KERNELS.length + 1)));
    await expect(attr('perf-chart', 'data-groups')).resolves.toBe([...PERF_KERNELS, 'whole iteration'].join(','));
    await expect(attr('perf-chart', 'data-bars')).resolves.toBe(PERF_RUNTIMES.join(','));
    await expect(attr('perf-scale', 'data-scale')).resolves.toBe('relative');
    await page.getByTestId('perf-card').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await suite.lab.screenshot('real-perf-01-relative');
    await expectPng(page, 'perf-card', `runtime-lab-${runId}-perf-relative.png`);

    // Every kernel's median > 0 for both runtimes, the whole iteration's above any kernel's
    // (medians do not add up; the CSV check below holds each iteration to its sum).
    const medians = await medianTable(page, 'perf-table');
    expect(Object.keys(medians)).toEqual([...PERF_KERNELS, 'whole iteration']);
    for (const runtime of PERF_RUNTIMES) {
      for (const kernel of PERF_KERNELS) expect(medians[kernel]?.[runtime], `${runtime} ${kernel}`).toBeGreaterThan(0);
      expect(medians['whole iteration']?.[runtime], runtime).toBeGreaterThan(Math.max(...PERF_KERNELS.map((k) => medians[k]?.[runtime] ?? 0)));
    }
    console.log(`perf medians (ms): ${JSON.stringify(medians)}`);

    await page.getByTestId('perf-scale-absolute').click();
    await expect(attr('perf-scale', 'data-scale')).resolves.toBe('absolute');
    await suite.lab.screenshot('real-perf-02-absolute');
    await expectPng(page, 'perf-card', `runtime-lab-${runId}-perf-absolute.png`);

    const card = page.getByTestId('perf-iterations-card');
    await expectEachPartDrawn(card, PERF_KERNELS, PERF_RUNTIMES.join(','), PERF_RUNTIMES.length * (PERF_ITERATIONS + PERF_WARMUPS));
    await card.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await suite.lab.screenshot('real-perf-03-iterations');
    await page.getByTestId('perf-table-card').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await suite.lab.screenshot('real-perf-04-table');

    const csv = await samplesCsv(page, runId);
    const col = (name: string) => csv.header.indexOf(name);
    expect(csv.rows).toHaveLength(stored.samples.length);
    expect(new Set(csv.rows.map((r) => r[col('step')]))).toEqual(new Set([...PERF_KERNELS, '']));
    expect(new Set(csv.rows.map((r) => r[col('runtime')]))).toEqual(new Set(PERF_RUNTIMES));
    for (const kernel of PERF_KERNELS) {
      const rows = csv.rows.filter((r) => r[col('step')] === kernel);
      expect(rows, kernel).toHaveLength(PERF_RUNTIMES.length * (PERF_ITERATIONS + PERF_WARMUPS));
      expect(rows.every((r) => r[col('ok')] === 'true' && Number(r[col('duration_ms')]) > 0), kernel).toBe(true);
    }
    expectWholeHoldsParts(csv, PERF_RUNTIMES.length * (PERF_ITERATIONS + PERF_WARMUPS));
  });

  it('CRI on runc against a real containerd: the 7 steps in order with the whole loop marked, per-step series, CSV', async () => {
    await page.getByTestId('nav-benchmarks').click();
    await pickRuntimes(page, ['runc']);
    await page.getByTestId('bench-measure-startup').click();
    await page.getByTestId('bench-method-cri').click();
    await page.getByTestId('bench-cri-options').waitFor({ timeout: UI_TIMEOUT });
    await page.getByTestId('bench-cri-address').fill(daemons.containerdAddress);
    await page.getByTestId('bench-daemon-sample').fill('100');
    await page.getByTestId('bench-iterations').fill(String(CRI_ITERATIONS));
    await page.getByTestId('bench-warmups').fill(String(CRI_WARMUPS));
    await expect(page.getByTestId('bench-total').textContent()).resolves.toContain(`${CRI_ITERATIONS + CRI_WARMUPS} pod lifecycles`);
    await expect(page.getByTestId('bench-run').isEnabled()).resolves.toBe(true);
    await page.getByTestId('bench-method').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await suite.lab.screenshot('real-cri-00-plan');

    const { monitor, runId } = await startRun(page);
    await untilCompleted(page, monitor, RUN_TIMEOUT);
    const stored = suite.lab.services.results.getRun(runId);
    expect(stored.meta.plan.method).toBe('cri');
    expect(stored.meta.plan.cri).toEqual({ address: daemons.containerdAddress });
    expect(stored.samples.every((s) => s.ok), stored.samples.filter((s) => !s.ok).map((s) => s.error).join('\n')).toBe(true);

    await openInResults(page, runId, 'cri');
    await page.getByTestId('cri-analysis').waitFor({ timeout: UI_TIMEOUT });
    await until('the step chart', async () => (await attr('cri-steps-chart', 'data-steps')) !== '');
    expect((await attr('cri-steps-chart', 'data-steps')).split(',')).toEqual([...CRI_STEPS]);
    await expect(attr('cri-steps-chart', 'data-runtimes')).resolves.toBe('runc');
    await expect(attr('cri-steps-chart', 'data-loop-marks')).resolves.toBe('1');
    await expect(page.getByTestId('cri-step-legend').count()).resolves.toBe(CRI_STEPS.length);
    await page.getByTestId('cri-steps-card').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await suite.lab.screenshot('real-cri-01-steps');
    await expectPng(page, 'cri-steps-card', `runtime-lab-${runId}-cri-steps.png`);

    // Every call's median > 0 over every measured pod; the whole loop holds the calls.
    const medians = await medianTable(page, 'cri-step-table');
    expect(Object.keys(medians)).toEqual([...CRI_STEPS, 'sum', 'loop']);
    for (const step of CRI_STEPS) {
      expect(medians[step]?.runc, step).toBeGreaterThan(0);
      await expect(page.locator(`[data-testid="cri-step-table-row"][data-row="${step}"] td[data-runtime="runc"]`).getAttribute('data-n')).resolves.toBe(String(CRI_ITERATIONS));
    }
    // Medians do not add up, so only the loop against its largest call; the CSV check holds each pod to its sum.
    expect(medians.loop?.runc).toBeGreaterThan(Math.max(...CRI_STEPS.map((s) => medians[s]?.runc ?? 0)));
    console.log(`CRI medians (ms): ${JSON.stringify(medians)}`);
    await page.getByTestId('cri-step-table-card').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await suite.lab.screenshot('real-cri-02-table');

    // Each step's iterations, warm-ups included.
    const card = page.getByTestId('cri-iterations-card');
    expect(await card.getByTestId('part-option').evaluateAll((els) => els.map((e) => e.getAttribute('data-part')))).toEqual(['whole', ...CRI_STEPS]);
    await expectEachPartDrawn(card, CRI_STEPS, 'runc', CRI_ITERATIONS + CRI_WARMUPS);
    await card.locator('[data-testid="part-option"][data-part="RunPodSandbox"]').click();
    await card.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await suite.lab.screenshot('real-cri-03-iterations');
    await expectPng(page, 'cri-iterations-card', `runtime-lab-${runId}-cri-iterations-RunPodSandbox.png`);

    // containerd serves the CRI: its CPU is charted beside the latencies.
    await until('containerd in the daemon chart', async () => (await attr('daemon-usage-chart', 'data-processes')).split(',').includes('containerd'));
    await page.getByTestId('daemon-usage-card').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await suite.lab.screenshot('real-cri-04-daemon');

    const csv = await samplesCsv(page, runId);
    const col = (name: string) => csv.header.indexOf(name);
    expect(csv.rows).toHaveLength(stored.samples.length);
    expect(new Set(csv.rows.map((r) => r[col('step')]))).toEqual(new Set([...CRI_STEPS, '']));
    for (const step of CRI_STEPS) {
      const rows = csv.rows.filter((r) => r[col('step')] === step);
      expect(rows, step).toHaveLength(CRI_ITERATIONS + CRI_WARMUPS);
      expect(rows.every((r) => r[col('ok')] === 'true' && r[col('method')] === 'cri' && Number(r[col('duration_ms')]) > 0), step).toBe(true);
    }
    expectWholeHoldsParts(csv, CRI_ITERATIONS + CRI_WARMUPS);

    expect(suite.lab.cspViolations).toEqual([]);
    expect(suite.lab.pageErrors).toEqual([]);
  });
});
