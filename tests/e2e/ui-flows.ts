import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import type { TestSshd } from '../lab/sshd.ts';

// Steps several e2e files take through the real UI before testing what they are about.

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
