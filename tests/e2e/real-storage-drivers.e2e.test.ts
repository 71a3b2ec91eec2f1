// The docker storage-driver loop (issue 4 points 6, 9) as a user runs it: planned on the
// Benchmarks page (method docker, runc and runsc, overlay2 then vfs, the test dockerd's
// socket as the docker host) and read in Results — the real renderer in Chromium, the real
// services, a real sshd on loopback, the real agent and a real dockerd started for this file
// in a temp root. The form names no daemon.json: the agent edits the one this dockerd reads
// (--config-file). Checked: structure and sane relations (both drivers per runtime, medians
// > 0, every iteration drawn, the CSV's storage_driver), never figures; and afterwards the
// user's daemon.json byte for byte and dockerd on its own driver again.
// Screenshots: test-artifacts/e2e/real-drivers-*.png.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { PENDING_SUFFIX } from '../../agent/daemon-json.ts';
import { startDaemons, type TestDaemons } from '../lab/daemons.ts';
import { useDaemonSuite } from './daemon-suite.ts';
import { expectDriverColoursAgree } from './colour-agreement.ts';
import { expectPng, medianTable, openInResults, pickRuntimes, samplesCsv } from './real-run-views.ts';
import { addTrustedKeyHost, startRun, UI_TIMEOUT, until, untilCompleted } from './ui-flows.ts';

const RUN_TIMEOUT = 360_000;
const RUNTIMES = ['runc', 'runsc'];
const DRIVERS = ['overlay2', 'vfs'];
const ITERATIONS = 3;
const WARMUPS = 1;
// Odd spacing on purpose: the loop must give back these exact bytes, not a re-serialised JSON.
const ORIGINAL_DAEMON_JSON = '{ "log-level" :"warn",\n\t"debug": false }\n';

/** The driver the test dockerd picks by itself (its daemon.json names none). */
let originalDriver = '';

function docker(...args: string[]) {
  return spawnSync('docker', ['-H', daemons.dockerHost, ...args], { encoding: 'utf8', timeout: 60_000 });
}

async function attr(testId: string, name: string): Promise<string> {
  return (await page.getByTestId(testId).first().getAttribute(name)) ?? '';
}

const suite = useDaemonSuite('rlab-e2e-drivers-', (root) => startDaemons(root, ORIGINAL_DAEMON_JSON, []));
let daemons: TestDaemons;
let page: Page;

beforeAll(() => {
  daemons = suite.daemons;
  page = suite.lab.page;
  originalDriver = docker('info', '--format', '{{.Driver}}').stdout.trim();
});

describe('Real docker storage-driver loop, planned on the Benchmarks page and read in Results', () => {
  it('runc and runsc on overlay2 and vfs: both drivers per runtime with medians > 0, series, CSV, PNG; daemon.json and the driver given back', async () => {
    expect(originalDriver).toBe('overlay2');
    const pidBefore = daemons.dockerdPid();
    await addTrustedKeyHost(page, suite.sshd, 'real-drivers-lab');
    await page.getByTestId('nav-benchmarks').click();
    await pickRuntimes(page, RUNTIMES);
    await page.getByTestId('bench-measure-startup').click();
    await page.getByTestId('bench-method-docker').click();
    await page.getByTestId('bench-docker-options').waitFor({ timeout: UI_TIMEOUT });
    await page.getByTestId('bench-docker-host').fill(daemons.dockerHost);
    for (const driver of DRIVERS) await page.locator(`[data-testid="bench-storage-driver-option"][data-driver="${driver}"]`).click();
    await expect(attr('bench-storage-drivers', 'data-picked')).resolves.toBe(DRIVERS.join(','));
    await page.getByTestId('bench-daemon-sample').fill('100');
    await page.getByTestId('bench-iterations').fill(String(ITERATIONS));
    await page.getByTestId('bench-warmups').fill(String(WARMUPS));
    await expect(page.getByTestId('bench-total').textContent()).resolves.toContain(`× ${DRIVERS.length} storage drivers`);
    await expect(page.getByTestId('bench-run').isEnabled()).resolves.toBe(true);
    await page.getByTestId('bench-docker-options').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await suite.lab.screenshot('real-drivers-00-plan');

    const started = Date.now();
    const { monitor, runId } = await startRun(page);
    await untilCompleted(page, monitor, RUN_TIMEOUT);
    console.log(`storage-driver loop: ${((Date.now() - started) / 1000).toFixed(1)} s from Run to completed`);
    const stored = suite.lab.services.results.getRun(runId);
    expect(stored.meta.plan.method).toBe('docker');
    expect(stored.meta.plan.docker).toMatchObject({ host: daemons.dockerHost, storageDrivers: DRIVERS });
    expect(stored.meta.plan.docker?.daemonJson).toBeUndefined();
    expect(stored.samples).toHaveLength(RUNTIMES.length * DRIVERS.length * (ITERATIONS + WARMUPS));
    expect(stored.samples.every((s) => s.ok), stored.samples.filter((s) => !s.ok).map((s) => s.error).join('\n')).toBe(true);
    // The agent found the file this dockerd reads (--config-file) and dockerd confirmed each driver in turn.
    expect(suite.lab.services.results.getEnvironment(runId)?.docker).toMatchObject({ host: daemons.dockerHost, daemonJson: daemons.daemonJson, storageDrivers: DRIVERS, storageDriver: 'mixed' });

    // Given back: the file byte for byte, no journal beside it, dockerd restarted onto its own
    // driver, and no runtime the run registered.
    expect(fs.readFileSync(daemons.daemonJson, 'utf8')).toBe(ORIGINAL_DAEMON_JSON);
    expect(fs.existsSync(daemons.daemonJson + PENDING_SUFFIX)).toBe(false);
    expect(docker('info', '--format', '{{.Driver}}').stdout.trim()).toBe(originalDriver);
    expect(daemons.dockerdPid()).not.toBe(pidBefore);
    expect(Object.keys(JSON.parse(docker('info', '--format', '{{json .Runtimes}}').stdout) as object).filter((n) => n.startsWith('rlab-'))).toEqual([]);
    expect(docker('ps', '-aq').stdout.trim()).toBe('');

    await openInResults(page, runId, 'storage-drivers');
    await page.getByTestId('drivers-analysis').waitFor({ timeout: UI_TIMEOUT });
    await until('the driver chart', async () => (await attr('drivers-chart', 'data-values')) === String(RUNTIMES.length * DRIVERS.length));
    await expect(attr('drivers-chart', 'data-groups')).resolves.toBe(RUNTIMES.join(','));
    await expect(attr('drivers-chart', 'data-bars')).resolves.toBe(DRIVERS.join(','));
    await expect(attr('drivers-chart', 'data-whiskers')).resolves.toBe(String(RUNTIMES.length * DRIVERS.length));
    expect(await page.getByTestId('driver-legend').evaluateAll((els) => els.map((e) => e.getAttribute('data-driver')))).toEqual(DRIVERS);
    await page.getByTestId('drivers-card').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await suite.lab.screenshot('real-drivers-01-bars');
    await expectPng(page, 'drivers-card', `runtime-lab-${runId}-storage-drivers.png`);

    // Every runtime × driver median > 0 over every measured iteration.
    const medians = await medianTable(page, 'drivers-table');
    expect(Object.keys(medians)).toEqual(DRIVERS);
    for (const driver of DRIVERS) {
      for (const runtime of RUNTIMES) {
        expect(medians[driver]?.[runtime], `${runtime} · ${driver}`).toBeGreaterThan(0);
        await expect(page.locator(`[data-testid="drivers-table-row"][data-row="${driver}"] td[data-runtime="${runtime}"]`).getAttribute('data-n')).resolves.toBe(String(ITERATIONS));
      }
    }
    console.log(`docker run medians per driver (ms): ${JSON.stringify(medians)}`);
    await page.getByTestId('drivers-table-card').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await suite.lab.screenshot('real-drivers-02-table');

    // One series per runtime · driver, warm-ups included.
    const series = RUNTIMES.flatMap((r) => DRIVERS.map((d) => `${r} · ${d}`)).join(',');
    const iterations = page.getByTestId('drivers-iterations-card');
    await until('every series drawn', async () => (await iterations.getByTestId('iteration-chart').getAttribute('data-series')) === series);
    await until('every iteration drawn', async () => (await iterations.getByTestId('iteration-chart').getAttribute('data-points')) === String(stored.samples.length));
    await expectDriverColoursAgree(page, RUNTIMES, DRIVERS);
    await iterations.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await suite.lab.screenshot('real-drivers-03-iterations');
    await expectPng(page, 'drivers-iterations-card', `runtime-lab-${runId}-iterations.png`);

    // dockerd serves the runs: its CPU is charted beside the latencies, its restart per driver a break in its line.
    await until('dockerd in the daemon chart', async () => (await attr('daemon-usage-chart', 'data-processes')).split(',').includes('dockerd'));
    // Each driver's pass begins with its own warm-ups, shaded on the readings' clock.
    await expect(attr('daemon-usage-chart', 'data-warmup-spans')).resolves.toBe(String(DRIVERS.length));
    await page.getByTestId('daemon-usage-card').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await suite.lab.screenshot('real-drivers-04-daemon');

    const csv = await samplesCsv(page, runId);
    const col = (name: string) => csv.header.indexOf(name);
    expect(csv.rows).toHaveLength(stored.samples.length);
    for (const driver of DRIVERS) {
      for (const runtime of RUNTIMES) {
        const rows = csv.rows.filter((r) => r[col('storage_driver')] === driver && r[col('runtime')] === runtime);
        expect(rows, `${runtime} · ${driver}`).toHaveLength(ITERATIONS + WARMUPS);
        expect(rows.filter((r) => r[col('warmup')] === 'true'), `${runtime} · ${driver}`).toHaveLength(WARMUPS);
        expect(rows.every((r) => r[col('ok')] === 'true' && r[col('method')] === 'docker' && Number(r[col('duration_ms')]) > 0), `${runtime} · ${driver}`).toBe(true);
      }
    }

    expect(suite.lab.cspViolations).toEqual([]);
    expect(suite.lab.pageErrors).toEqual([]);
  }, RUN_TIMEOUT + 120_000);
});
