// Method ctr end to end through the Benchmarks page: the real renderer in Chromium, the
// real services, a real sshd on loopback, a real containerd (and dockerd, which the lab
// fixture starts beside it) in a temp root, and real runc started by containerd's runc
// shim. The user picks the method and its options in the UI, runs a few iterations, sees
// containerd's CPU charted next to the latency series, reads the recorded environment
// (overlayfs snapshotter) and exports the daemon readings as CSV. Screenshots land in
// test-artifacts/e2e/ (bench-ctr-*.png).

import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { DAEMON_USAGE_CSV_COLUMNS } from '../../shared/daemon-usage-csv.ts';
import { startDaemons, type TestDaemons } from '../lab/daemons.ts';
import { useDaemonSuite } from './daemon-suite.ts';
import { parseCsv } from './read-csv.ts';
import { addTrustedKeyHost, downloadOf, startRun, UI_TIMEOUT, until, untilCompleted } from './ui-flows.ts';

const RUN_TIMEOUT = 180_000;
const ITERATIONS = 6;
const WARMUPS = 1;
const NAMESPACE = 'rlab-e2e-ctr';

let runId = '';

const suite = useDaemonSuite('rlab-e2e-ctr-', (root) => startDaemons(root, '{}\n', [NAMESPACE]), { width: 1440, height: 900 });
let daemons: TestDaemons;
let page: Page;

beforeAll(() => {
  daemons = suite.daemons;
  page = suite.lab.page;
});

describe('Benchmarks page, method ctr, against a real containerd', () => {
  it('connects the host and builds a ctr plan for runc through the UI', async () => {
    await addTrustedKeyHost(page, suite.sshd, 'ctr-lab');

    await page.getByTestId('nav-benchmarks').click();
    const runtime = (name: string) => page.locator(`[data-testid="bench-runtime"][data-runtime="${name}"]`);
    await runtime('runc').waitFor({ timeout: UI_TIMEOUT });

    // OCI direct is the default; ctr shows containerd's options and a runtime type per runtime.
    await expect(page.getByTestId('bench-method').getAttribute('data-method')).resolves.toBe('oci-direct');
    await expect(page.getByTestId('bench-ctr-options').count()).resolves.toBe(0);
    await page.getByTestId('bench-method-ctr').click();
    await expect(page.getByTestId('bench-method').getAttribute('data-method')).resolves.toBe('ctr');
    await page.getByTestId('bench-ctr-options').waitFor({ timeout: UI_TIMEOUT });
    await expect(page.getByTestId('bench-containerd-address').getAttribute('placeholder')).resolves.toBe('/run/containerd/containerd.sock');
    await page.getByTestId('bench-containerd-address').fill(daemons.containerdAddress);
    await page.getByTestId('bench-containerd-namespace').fill(NAMESPACE);
    await page.getByTestId('bench-snapshotter').fill('overlayfs');
    await page.getByTestId('bench-daemon-sample').fill('100');
    await expect(runtime('runc').getByTestId('bench-runtime-ctr-type').getAttribute('placeholder')).resolves.toContain('io.containerd.runc.v2');

    // A runtime type containerd cannot have is refused where it is typed.
    await runtime('runc').getByTestId('bench-runtime-ctr-type').fill('runc');
    await expect(page.getByTestId('bench-run').isDisabled()).resolves.toBe(true);
    await runtime('runc').getByTestId('bench-runtime-ctr-type').fill('');

    // Docker shows its own options instead; back to ctr.
    await page.getByTestId('bench-method-docker').click();
    await page.getByTestId('bench-docker-options').waitFor({ timeout: UI_TIMEOUT });
    await expect(page.getByTestId('bench-storage-driver').count()).resolves.toBe(1);
    await page.getByTestId('bench-method-ctr').click();
    await expect(page.getByTestId('bench-containerd-address').inputValue()).resolves.toBe(daemons.containerdAddress);

    for (const row of await page.getByTestId('bench-runtime').all()) {
      const box = row.getByTestId('bench-runtime-check');
      if ((await row.getAttribute('data-runtime')) === 'runc') await box.check();
      else await box.uncheck();
    }
    await page.getByTestId('bench-iterations').fill(String(ITERATIONS));
    await page.getByTestId('bench-warmups').fill(String(WARMUPS));
    await expect(page.getByTestId('bench-total').textContent()).resolves.toContain(`${ITERATIONS + WARMUPS} container starts`);
    await expect(page.getByTestId('bench-run').isEnabled()).resolves.toBe(true);
    await suite.lab.screenshot('bench-ctr-01-plan');
    await page.getByTestId('bench-method').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await suite.lab.screenshot('bench-ctr-00-method');
  });

  it('runs runc through containerd and charts containerd’s CPU next to the latency series', async () => {
    const { monitor, runId: started } = await startRun(page);
    runId = started;
    await untilCompleted(page, monitor, RUN_TIMEOUT);
    await until('all points drawn', async () => (await page.getByTestId('iteration-chart').getAttribute('data-points')) === String(ITERATIONS + WARMUPS));

    // The plan that ran is the one built in the UI.
    const stored = suite.lab.services.results.getRun(runId).meta.plan;
    expect(stored.method).toBe('ctr');
    expect(stored.containerd).toEqual({ address: daemons.containerdAddress, namespace: NAMESPACE, snapshotter: 'overlayfs' });
    expect(stored.daemonSampleMs).toBe(100);
    expect(stored.runtimes.map((r) => r.name)).toEqual(['runc']);

    const card = page.getByTestId('daemon-usage-card');
    await card.waitFor({ timeout: UI_TIMEOUT });
    const chart = page.getByTestId('daemon-usage-chart');
    await until('containerd in the daemon chart', async () => ((await chart.getAttribute('data-processes')) ?? '').split(',').includes('containerd'));
    expect(Number(await chart.getAttribute('data-readings'))).toBeGreaterThan(0);
    await expect(page.locator('[data-testid="daemon-usage-process"][data-process="containerd"]').count()).resolves.toBe(1);
    // The daemon chart sits right after the iteration chart.
    const order = await page.evaluate(() => [...document.querySelectorAll('[data-testid$="-card"]')].map((e) => e.getAttribute('data-testid')));
    expect(order.indexOf('daemon-usage-card')).toBe(order.indexOf('iteration-chart-card') + 1);
    await card.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await suite.lab.screenshot('bench-ctr-02-completed-daemon-usage');

    // Its PNG, like every chart's.
    const png = await downloadOf(page, () => card.getByTestId('chart-save-png').click());
    expect(png.download.suggestedFilename()).toBe(`runtime-lab-${runId}-daemon-usage.png`);
    expect(png.content.subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('shows the recorded environment in Results and exports the daemon readings as CSV', async () => {
    await page.getByTestId('run-open-results').click();
    const detail = page.getByTestId('run-detail');
    await detail.waitFor({ timeout: UI_TIMEOUT });
    await expect(detail.getAttribute('data-run-id')).resolves.toBe(runId);
    await page.getByTestId('daemon-usage-card').waitFor({ timeout: UI_TIMEOUT });

    const snapshotter = page.getByTestId('env-snapshotter');
    await snapshotter.waitFor({ timeout: UI_TIMEOUT });
    await expect(snapshotter.textContent()).resolves.toContain('overlayfs');
    await expect(page.getByTestId('env-method').textContent()).resolves.toContain('ctr');
    await expect(page.locator('[data-testid="env-component"][data-component="containerd"]').count()).resolves.toBeGreaterThan(0);
    const argv = (await page.locator('[data-testid="env-invocation"][data-runtime="runc"]').getByTestId('env-invocation-argv').textContent()) ?? '';
    expect(argv).toContain('run');
    expect(argv).toContain(daemons.containerdAddress);
    await page.getByTestId('daemon-usage-card').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await suite.lab.screenshot('bench-ctr-03-results-daemon-usage');
    await page.getByTestId('env-method').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await suite.lab.screenshot('bench-ctr-04-results-environment');

    const csv = await downloadOf(page, () => page.getByTestId('export-daemon-usage-csv').click());
    expect(csv.download.suggestedFilename()).toBe(`runtime-lab-${runId}-daemon-usage.csv`);
    const [header, ...rows] = parseCsv(csv.content.toString('utf8'));
    expect(header).toEqual([...DAEMON_USAGE_CSV_COLUMNS]);
    const col = (name: string) => header?.indexOf(name) ?? -1;
    const stored = suite.lab.services.results.getDaemonUsage(runId);
    expect(rows).toHaveLength(stored.length);
    expect(rows.every((r) => r[col('run_id')] === runId && r[col('method')] === 'ctr' && r[col('snapshotter')] === 'overlayfs')).toBe(true);
    const containerd = rows.filter((r) => r[col('process')] === 'containerd');
    expect(containerd.length).toBeGreaterThan(0);
    expect(containerd.every((r) => Number(r[col('cpu_percent')]) >= 0 && Number(r[col('rss_bytes')]) > 0 && Number(r[col('pid')]) > 0)).toBe(true);
    expect(rows.every((r) => Number.isFinite(Number(r[col('elapsed_s')])))).toBe(true);

    expect(suite.lab.cspViolations).toEqual([]);
    expect(suite.lab.pageErrors).toEqual([]);
  });
});
