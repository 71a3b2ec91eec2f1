import fs from 'node:fs';
import { expect } from 'vitest';
import type { Download, Locator, Page } from 'playwright-core';
import type { TestSshd } from '../lab/sshd.ts';

// Steps several e2e files take through the real UI before testing what they are about,
// and the waits they share.

export const UI_TIMEOUT = 10_000;
export const CONNECT_TIMEOUT = 45_000;

/**
 * Adds `root@sshd` with key auth on the Hosts page, connects, checks that the fingerprint
 * dialog shows exactly sshd's key, accepts it, and waits for the host's facts.
 */
export async function addTrustedKeyHost(page: Page, sshd: TestSshd, name: string): Promise<void> {
  await page.getByTestId('nav-hosts').click();
  await page.getByTestId('host-add').click();
  await page.getByTestId('host-form').waitFor({ timeout: UI_TIMEOUT });
  await page.getByTestId('host-form-name').fill(name);
  await page.getByTestId('host-form-kind-ssh').click();
  await page.getByTestId('host-form-host').fill(sshd.host);
  await page.getByTestId('host-form-port').fill(String(sshd.port));
  await page.getByTestId('host-form-user').fill('root');
  await page.getByTestId('host-form-auth').selectOption('key');
  await page.getByTestId('host-form-key-path').fill(sshd.keys.plain);
  await page.getByTestId('host-form-submit').click();
  await page.getByTestId('host-form-dialog').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
  await page.getByTestId('host-connect').click();
  await page.getByTestId('hostkey-dialog').waitFor({ timeout: CONNECT_TIMEOUT });
  await expect(page.getByTestId('hostkey-fingerprint').textContent()).resolves.toBe(sshd.hostKeyFingerprint);
  await page.getByTestId('hostkey-accept').click();
  await page.getByTestId('facts-view').waitFor({ timeout: CONNECT_TIMEOUT });
}

/** Clicks (`click`) and waits for the download it starts: the file's name and content. */
export async function downloadOf(page: Page, click: () => Promise<void>): Promise<{ download: Download; content: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: UI_TIMEOUT }), click()]);
  return { download, content: fs.readFileSync(await download.path()) };
}

/** Polls `check` until it holds; throws naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = UI_TIMEOUT): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Clicks Run on the Benchmarks page and waits for the run's monitor: the monitor and the run's id. */
/**
 * Picks each part of a run's per-part iteration card, the whole iteration first: every part
 * is drawn with `series` (and `points` points, when given), and every step's plotted total is
 * below the whole iteration's, so the chart shows the part picked, not the whole again.
 */
export async function expectEachPartDrawn(card: Locator, steps: readonly string[], series: string, points?: number): Promise<void> {
  const chart = card.getByTestId('iteration-chart');
  let wholeSum = 0;
  for (const part of ['whole', ...steps]) {
    await card.locator(`[data-testid="part-option"][data-part="${part}"]`).click();
    await until(`${part} drawn`, async () => {
      const [drawn, count, sum] = await Promise.all([chart.getAttribute('data-series'), chart.getAttribute('data-points'), chart.getAttribute('data-sum-ms')]);
      if (drawn !== series || (points !== undefined && count !== String(points))) return false;
      if (part === 'whole') return (wholeSum = Number(sum)) > 0;
      return Number(sum) > 0 && Number(sum) < wholeSum;
    });
  }
}

export async function startRun(page: Page): Promise<{ monitor: Locator; runId: string }> {
  await page.getByTestId('bench-run').click();
  const monitor = page.getByTestId('run-monitor');
  await monitor.waitFor({ timeout: CONNECT_TIMEOUT });
  const runId = (await monitor.getAttribute('data-run-id')) ?? '';
  expect(runId).not.toBe('');
  return { monitor, runId };
}

/** Checks the run on the monitor completed, with the run's own message when it did not. */
export async function expectCompleted(page: Page, monitor: Locator): Promise<void> {
  expect(await monitor.getAttribute('data-phase'), (await page.getByTestId('run-phase-message').textContent()) ?? '').toBe('completed');
}

/** Waits for the run on the monitor to end, then checks it completed. */
export async function untilCompleted(page: Page, monitor: Locator, timeoutMs: number): Promise<void> {
  await until('the run to end', async () => ['completed', 'failed', 'aborted'].includes((await monitor.getAttribute('data-phase')) ?? ''), timeoutMs);
  await expectCompleted(page, monitor);
}
