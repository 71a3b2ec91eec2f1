// The Setup wizard end to end: the real renderer in Chromium, the real services and setup
// engine, a real OpenSSH server on loopback, runc and crun on this machine. Only runc and
// crun (no daemon is started): the test bundle goes to a temp lab folder, removed at the
// end. Screenshots of each step land in test-artifacts/e2e/.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startSshd, type TestSshd } from '../lab/sshd.ts';
import { openLabPage, type LabPage } from './browser-harness.ts';
import { addTrustedKeyHost, CONNECT_TIMEOUT, UI_TIMEOUT } from './ui-flows.ts';

const RUN_TIMEOUT = 120_000;

let sshd: TestSshd;
let lab: LabPage;
let page: Page;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rlab-setup-e2e-'));
const labDir = `${root}/lab`;
// crun refuses hybrid cgroups with controllers in the cgroup2 mount (this project's lab machines).
const hybrid = (() => {
  try {
    return fs.readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim() !== '';
  } catch {
    return false;
  }
})();

const byTestId = (id: string, attrs: Record<string, string> = {}) =>
  page.locator(`[data-testid="${id}"]${Object.entries(attrs).map(([k, v]) => `[data-${k}="${v}"]`).join('')}`);

async function clipboard(): Promise<string> {
  return page.evaluate(() => navigator.clipboard.readText());
}

beforeAll(async () => {
  sshd = await startSshd();
  lab = await openLabPage();
  page = lab.page;
  await lab.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(lab.url).origin });
});

afterAll(async () => {
  await lab?.close();
  await sshd?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('Setup wizard for runc + crun over SSH', () => {
  it('adds and trusts a host on the Hosts page', async () => {
    await addTrustedKeyHost(page, sshd, 'lab');
  });

  it('chooses runc and crun from the recipes, with what each requires and the doctor\'s verdict', async () => {
    await page.getByTestId('nav-setup').click();
    await page.getByTestId('setup-page').waitFor({ timeout: UI_TIMEOUT });
    await expect(page.getByTestId('setup-host').inputValue()).resolves.not.toBe('');
    await byTestId('recipe-card', { recipe: 'runc' }).waitFor({ timeout: UI_TIMEOUT });
    await expect(byTestId('setup-next').isDisabled()).resolves.toBe(true);

    await byTestId('recipe-card', { recipe: 'runc' }).getByTestId('recipe-pick').check();
    await byTestId('recipe-card', { recipe: 'crun' }).getByTestId('recipe-pick').check();
    // The test bundle goes to a temp lab folder: a parameter, as `setup --set labDir=…`.
    await page.locator('.su-advanced summary').click();
    await page.getByTestId('setup-params').fill(`labDir=${labDir}`);
    await expect(byTestId('recipe-card', { recipe: 'crun' }).textContent()).resolves.toContain('adds oci-bundle');
    // oci-bundle is added (required), shown as such.
    await expect(byTestId('component-card', { recipe: 'oci-bundle' }).locator('input').isChecked()).resolves.toBe(true);
    const crunVerdict = byTestId('recipe-card', { recipe: 'crun' }).getByTestId('recipe-verdict');
    await crunVerdict.waitFor({ timeout: CONNECT_TIMEOUT });
    if (hybrid) await expect(crunVerdict.getAttribute('data-tone')).resolves.toBe('bad');
    await expect(byTestId('recipe-card', { recipe: 'runc' }).getByTestId('recipe-verdict').getAttribute('data-tone')).resolves.not.toBe('bad');
    await page.getByTestId('setup-body').evaluate((el) => el.scrollTo({ top: 0 }));
    await lab.screenshot('20-setup-runtimes');
  });

  it('checks: crun\'s cgroup prerequisite fails in red with its reason and fix', async () => {
    await page.getByTestId('setup-next').click();
    await page.getByTestId('checks-step').waitFor({ timeout: UI_TIMEOUT });
    const cgroup = byTestId('recipe-checks', { recipe: 'crun' }).locator('[data-testid="check-row"][data-check="cgroup-crun"]');
    await cgroup.waitFor({ timeout: CONNECT_TIMEOUT });
    if (hybrid) {
      await expect(cgroup.getAttribute('data-verdict')).resolves.toBe('fail');
      await expect(cgroup.getByTestId('check-reason').textContent()).resolves.toContain('cgroups in hybrid mode not supported');
      await expect(cgroup.getByTestId('check-fix').textContent()).resolves.toContain('systemd.unified_cgroup_hierarchy=1');
      await expect(page.getByTestId('checks-summary').textContent()).resolves.toContain('crun: cgroup layout crun accepts');
      const color = await cgroup.locator('.su-check__title').evaluate((el) => getComputedStyle(el).color);
      expect(color).toBe('rgb(180, 35, 24)');
    }
    // Root over SSH: no sudo password is asked for.
    await expect(page.getByTestId('sudo-password').count()).resolves.toBe(0);
    await lab.screenshot('21-setup-checks');
  });

  it('plan: every step with its exact commands, before anything runs, copyable', async () => {
    await page.getByTestId('setup-next').click();
    const direct = byTestId('plan-step', { key: 'runc/run-direct' });
    await direct.waitFor({ timeout: CONNECT_TIMEOUT });
    await expect(direct.getByTestId('plan-command').first().textContent()).resolves.toMatch(/runc run --bundle "\$bundleDir" rlab-verify-runc-direct/);
    await expect(direct.getByTestId('plan-command').first().textContent()).resolves.toContain(`bundleDir=${labDir}/bundle`);
    await expect(byTestId('plan-step', { key: 'runc/install' }).getAttribute('data-state')).resolves.toBe('done');
    await expect(byTestId('plan-step', { key: 'crun/containerd-runtime' }).getAttribute('data-state')).resolves.toBe('skip');
    await expect(byTestId('plan-step', { key: 'oci-bundle/config' }).getAttribute('data-state')).resolves.toBe('run');
    // Nothing has run yet: the lab folder does not exist.
    expect(fs.existsSync(labDir)).toBe(false);

    await page.getByTestId('plan-copy').click();
    await byTestId('plan-copy', { state: 'copied' }).waitFor({ timeout: UI_TIMEOUT });
    const copied = await clipboard();
    expect(copied).toContain('[crun/run-direct] Run the test bundle with crun');
    expect(copied).toContain('crun run --bundle');
    await lab.screenshot('22-setup-plan');
    await byTestId('plan-recipe', { recipe: 'crun' }).evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await lab.screenshot('23-setup-plan-crun');
  });

  it('run: per-step status, live log, crun\'s recognised failure explained beside its log', async () => {
    // Never run against the real ~/.runtime-lab: the plan on screen must use the temp lab folder.
    await expect(byTestId('plan-step', { key: 'oci-bundle/config' }).textContent()).resolves.toContain(`${labDir}/bundle/config.json`);
    const before = lab.events.length;
    await page.getByTestId('setup-run').click();
    await page.getByTestId('run-step-view').waitFor({ timeout: UI_TIMEOUT });
    const banner = page.getByTestId('run-banner');
    await page.waitForFunction(() => {
      const status = document.querySelector('[data-testid="run-banner"]')?.getAttribute('data-status');
      return status === 'complete' || status === 'failed' || status === 'cancelled';
    }, undefined, { timeout: RUN_TIMEOUT });
    // The log arrived live, as setup:output events, before the run finished.
    const kinds = lab.events.slice(before).map((e) => e.type);
    expect(kinds.indexOf('setup:output')).toBeGreaterThan(-1);
    expect(kinds.indexOf('setup:output')).toBeLessThan(kinds.indexOf('setup:finished'));
    await expect(byTestId('run-step', { key: 'runc/run-direct' }).getAttribute('data-status')).resolves.toBe('applied');
    await expect(byTestId('run-step', { key: 'runc/install' }).getAttribute('data-status')).resolves.toBe('already-done');
    await expect(byTestId('run-step', { key: 'crun/docker-runtime' }).getAttribute('data-status')).resolves.toBe('skipped');

    if (hybrid) {
      await expect(banner.getAttribute('data-status')).resolves.toBe('failed');
      await expect(page.getByTestId('run-failure').textContent()).resolves.toContain('crun-hybrid-cgroup');
      // The failed step is shown: its log, and the explanation beside it.
      await expect(page.getByTestId('log-panel').getAttribute('data-key')).resolves.toBe('crun/run-direct');
      await expect(page.getByTestId('step-log').textContent()).resolves.toContain('cgroups in hybrid mode not supported, drop all controllers from cgroupv2');
      const diag = page.getByTestId('diagnosis-panel');
      await expect(diag.getAttribute('data-signature')).resolves.toBe('crun-hybrid-cgroup');
      await expect(diag.getByTestId('diagnosis-meaning').textContent()).resolves.toContain('hybrid mode');
      await expect(diag.getByTestId('diagnosis-fix').textContent()).resolves.toContain('systemd.unified_cgroup_hierarchy=1');
      await expect(diag.getByTestId('diagnosis-manual').count()).resolves.toBe(1);
      const [logBox, diagBox] = await Promise.all([page.getByTestId('log-panel').boundingBox(), diag.boundingBox()]);
      expect(diagBox!.x).toBeGreaterThan(logBox!.x + logBox!.width - 1);
      await expect(byTestId('setup-step-run').getAttribute('data-mark')).resolves.toBe('bad');
      await lab.screenshot('24-setup-run-crun-failed');
    } else {
      await expect(banner.getAttribute('data-status')).resolves.toBe('complete');
    }

    await byTestId('run-step', { key: 'runc/run-direct' }).click();
    await expect(page.getByTestId('log-panel').getAttribute('data-key')).resolves.toBe('runc/run-direct');
    const log = (await page.getByTestId('step-log').textContent()) ?? '';
    expect(log).toMatch(/^\$ sh -c /);
    expect(log).toContain('Hello');
    await expect(page.locator('[data-testid="step-log"] .su-term__command').count()).resolves.toBeGreaterThan(0);
    await page.getByTestId('log-copy').click();
    await byTestId('log-copy', { state: 'copied' }).waitFor({ timeout: UI_TIMEOUT });
    expect(await clipboard()).toBe(log);
    await lab.screenshot('25-setup-run-runc-log');
  });

  it('verify: the runtime × method matrix from real runs — runc oci-direct works, crun fails with the reason', async () => {
    expect(fs.existsSync(`${labDir}/bundle/config.json`)).toBe(true);
    await page.getByTestId('setup-next').click();
    await page.getByTestId('verify-step-view').waitFor({ timeout: UI_TIMEOUT });
    await expect(byTestId('matrix-cell', { runtime: 'runc', method: 'oci-direct' }).getAttribute('data-status')).resolves.toBe('none');
    await page.getByTestId('verify-run').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="verify-step-view"]')?.getAttribute('data-running') === 'false', undefined, { timeout: RUN_TIMEOUT });
    await expect(page.getByTestId('verify-error').count()).resolves.toBe(0);

    const runc = byTestId('matrix-cell', { runtime: 'runc', method: 'oci-direct' });
    await expect(runc.getAttribute('data-status')).resolves.toBe('works');
    await expect(runc.getAttribute('title')).resolves.toContain('printed "Hello"');
    await expect(byTestId('matrix-cell', { runtime: 'runc', method: 'cri' }).getAttribute('data-status')).resolves.toBe('unknown');
    for (const method of ['ctr', 'docker']) {
      await expect(byTestId('matrix-cell', { runtime: 'runc', method }).getAttribute('data-status')).resolves.toMatch(/^(works|fails|unknown)$/);
    }
    const crun = byTestId('matrix-cell', { runtime: 'crun', method: 'oci-direct' });
    if (hybrid) {
      await expect(crun.getAttribute('data-status')).resolves.toBe('fails');
      await expect(crun.getAttribute('title')).resolves.toContain('cgroups in hybrid mode not supported');
      await expect(crun.evaluate((el) => getComputedStyle(el).backgroundColor)).resolves.toBe('rgb(253, 236, 234)');
      await expect(runc.evaluate((el) => getComputedStyle(el).backgroundColor)).resolves.toBe('rgb(227, 245, 234)');
    } else {
      await expect(crun.getAttribute('data-status')).resolves.toBe('works');
    }
    await lab.screenshot('26-setup-verify-matrix');

    await crun.click();
    const detail = page.getByTestId('matrix-detail');
    await detail.waitFor({ timeout: UI_TIMEOUT });
    if (hybrid) await expect(detail.getByTestId('matrix-detail-meaning').textContent()).resolves.toContain('hybrid mode');
    await expect(detail.textContent()).resolves.toContain('crun run --bundle');
    await detail.evaluate((el) => el.scrollIntoView({ block: 'end' }));
    await lab.screenshot('27-setup-verify-detail');
  });

  it('restores configs: nothing to put back for runc and crun alone', async () => {
    await page.getByTestId('restore-open').click();
    await page.getByTestId('restore-dialog').waitFor({ timeout: UI_TIMEOUT });
    await page.getByTestId('restore-confirm').click();
    await page.getByTestId('restore-result').waitFor({ timeout: CONNECT_TIMEOUT });
    await expect(page.getByTestId('restore-result').textContent()).resolves.toContain('Nothing to restore');
    await lab.screenshot('28-setup-restore');
    await page.getByTestId('restore-close').click();
    await page.getByTestId('restore-dialog').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
  });

  it('ran under the CSP without a single violation or page error', () => {
    expect(lab.cspViolations).toEqual([]);
    expect(lab.pageErrors).toEqual([]);
  });
});
