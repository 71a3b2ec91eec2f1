// The Hosts page end to end: the real renderer in Chromium, the real services, a real
// OpenSSH server on loopback. Screenshots of each key step land in test-artifacts/e2e/.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startSshd, type TestSshd } from '../lab/sshd.ts';
import { openLabPage, type LabPage } from './browser-harness.ts';

const UI_TIMEOUT = 10_000;
// Connecting runs the whole inspection over SSH (a few seconds here; generous for CI).
const CONNECT_TIMEOUT = 45_000;

let sshd: TestSshd;
let lab: LabPage;
let dataDir: string;
let page: Page;

function runcVersion(): string {
  const out = execFileSync('runc', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const match = /^runc version v?(\S+)/m.exec(out);
  if (!match?.[1]) throw new Error(`unexpected runc --version output: ${out}`);
  return match[1];
}

function hostRow(name: string) {
  return page.locator(`[data-testid="host-row"][data-host-name="${name}"]`);
}

async function addSshHost(fields: { name: string; user: string; auth: 'key' | 'password'; keyPath?: string }, shot?: string) {
  await page.getByTestId('host-add').click();
  const form = page.getByTestId('host-form');
  await form.waitFor({ timeout: UI_TIMEOUT });
  await page.getByTestId('host-form-name').fill(fields.name);
  await page.getByTestId('host-form-kind-ssh').click();
  await page.getByTestId('host-form-host').fill(sshd.host);
  await page.getByTestId('host-form-port').fill(String(sshd.port));
  await page.getByTestId('host-form-user').fill(fields.user);
  await page.getByTestId('host-form-auth').selectOption(fields.auth);
  if (fields.keyPath) await page.getByTestId('host-form-key-path').fill(fields.keyPath);
  // Remember stays off: the secret, if any, is asked for at connect time.
  expect(await page.getByTestId('host-form-remember').isChecked()).toBe(false);
  if (shot) await lab.screenshot(shot);
  await page.getByTestId('host-form-submit').click();
  await page.getByTestId('host-form-dialog').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
  await hostRow(fields.name).waitFor({ timeout: UI_TIMEOUT });
}

beforeAll(async () => {
  sshd = await startSshd();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlab-e2e-hosts-'));
  lab = await openLabPage({ dataDir });
  page = lab.page;
});

afterAll(async () => {
  await lab?.close();
  await sshd?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('Hosts page against real services and a real sshd', () => {
  it('starts empty; Benchmarks asks for a connected host and Results has no runs', async () => {
    await page.getByTestId('host-list-empty').waitFor({ timeout: UI_TIMEOUT });
    await lab.screenshot('01-hosts-empty');

    await page.getByTestId('nav-benchmarks').click();
    await page.getByTestId('benchmarks-page').getByTestId('bench-no-host').waitFor({ timeout: UI_TIMEOUT });
    await page.getByTestId('nav-results').click();
    await page.getByTestId('results-page').getByTestId('results-empty').waitFor({ timeout: UI_TIMEOUT });
    await page.getByTestId('nav-hosts').click();
    await page.getByTestId('hosts-page').waitFor({ timeout: UI_TIMEOUT });
  });

  it('adds a key host, shows the exact fingerprint, and after Accept shows this machine’s facts', async () => {
    await addSshHost({ name: 'lab-key', user: 'root', auth: 'key', keyPath: sshd.keys.plain }, '02-add-host-form');
    await expect(hostRow('lab-key').getByTestId('host-target').textContent()).resolves.toBe(`root@${sshd.host}:${sshd.port}`);

    await hostRow('lab-key').click();
    await page.getByTestId('host-connect').click();
    const dialog = page.getByTestId('hostkey-dialog');
    await dialog.waitFor({ timeout: CONNECT_TIMEOUT });
    await expect(page.getByTestId('hostkey-fingerprint').textContent()).resolves.toBe(sshd.hostKeyFingerprint);
    await expect(page.getByTestId('hostkey-type').textContent()).resolves.toBe(sshd.hostKeys[0]?.keyType);
    await lab.screenshot('03-hostkey-dialog');

    await page.getByTestId('hostkey-accept').click();
    await page.getByTestId('facts-view').waitFor({ timeout: CONNECT_TIMEOUT });
    await expect(dialog.count()).resolves.toBe(0);

    await expect(page.getByTestId('fact-kernel').textContent()).resolves.toBe(os.release());
    const runc = page.locator('[data-testid="tool-row"][data-tool="runc"]');
    await expect(runc.getAttribute('data-found')).resolves.toBe('true');
    await expect(runc.getByTestId('tool-version').textContent()).resolves.toBe(runcVersion());
    await expect(runc.getByTestId('tool-path').textContent()).resolves.toMatch(/\/runc$/);
    await expect(page.locator('[data-testid="tool-row"]').count()).resolves.toBe(14);
    await expect(page.getByTestId('fact-user').textContent()).resolves.toContain('root');
    await expect(hostRow('lab-key').getByTestId('host-state').getAttribute('data-state')).resolves.toBe('connected');
    await lab.screenshot('04-facts');
    await page.getByTestId('card-virtualization').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await lab.screenshot('05-facts-virtualization');
    await page.getByTestId('card-runtimes').evaluate((el) => el.scrollIntoView({ block: 'end' }));
    await lab.screenshot('05-facts-runtimes');
  });

  it('asks for a password that is not remembered; a wrong one is refused with the auth message, the right one connects', async () => {
    await addSshHost({ name: 'lab-password', user: sshd.passwordUser.name, auth: 'password' });
    await hostRow('lab-password').click();
    await page.getByTestId('host-connect').click();

    // The password is asked for before the connection is opened.
    const prompt = page.getByTestId('secret-dialog');
    await prompt.waitFor({ timeout: CONNECT_TIMEOUT });
    await lab.screenshot('06-password-prompt');

    await page.getByTestId('secret-input').fill(`${sshd.passwordUser.password}-wrong`);
    await page.getByTestId('secret-submit').click();
    const error = page.getByTestId('secret-error');
    await error.waitFor({ timeout: CONNECT_TIMEOUT });
    await expect(error.textContent()).resolves.toContain('rejected the password');
    // The typed secret is not kept in the form after the call.
    await expect(page.getByTestId('secret-input').inputValue()).resolves.toBe('');
    await lab.screenshot('07-password-wrong');

    await page.getByTestId('secret-input').fill(sshd.passwordUser.password);
    await page.getByTestId('secret-submit').click();
    // Same sshd, same host:port: its key is trusted already, so no fingerprint question.
    await page.getByTestId('facts-view').waitFor({ timeout: CONNECT_TIMEOUT });
    await expect(prompt.count()).resolves.toBe(0);
    await expect(page.getByTestId('fact-user').textContent()).resolves.toContain(sshd.passwordUser.name);
    await expect(hostRow('lab-password').getByTestId('host-state').getAttribute('data-state')).resolves.toBe('connected');
    const stored = await lab.services.dispatcher.dispatch('hosts:list', {});
    expect(stored.ok && (stored.value as { name: string; hasStoredSecret: boolean }[]).find((h) => h.name === 'lab-password')?.hasStoredSecret).toBe(false);
    await lab.screenshot('08-password-connected');
  });

  it('refuses a changed host key loudly, naming both fingerprints, and refreshes no facts', async () => {
    const oldFingerprint = sshd.hostKeyFingerprint;
    const hostId = await hostRow('lab-key').getAttribute('data-host-id');
    expect(hostId).toBeTruthy();
    const before = await lab.services.dispatcher.dispatch('hosts:facts', { id: hostId });
    const collectedBefore = before.ok ? (before.value as { collectedAt: string } | null)?.collectedAt : undefined;
    expect(collectedBefore).toBeTruthy();

    await sshd.restartWithNewHostKey();
    const newFingerprint = sshd.hostKeyFingerprint;
    expect(newFingerprint).not.toBe(oldFingerprint);

    await hostRow('lab-key').click();
    await page.getByTestId('facts-view').waitFor({ timeout: UI_TIMEOUT });
    await page.getByTestId('host-connect').click();
    const panel = page.getByTestId('hostkey-changed-panel');
    await panel.waitFor({ timeout: CONNECT_TIMEOUT });
    const text = (await panel.textContent()) ?? '';
    expect(text).toContain(oldFingerprint);
    expect(text).toContain(newFingerprint);
    await expect(page.getByTestId('hostkey-changed-expected').textContent()).resolves.toContain(oldFingerprint);
    await expect(page.getByTestId('hostkey-changed-presented').textContent()).resolves.toContain(newFingerprint);
    // No question to accept the new key, and no facts shown for a host that may be an impostor.
    await expect(page.getByTestId('hostkey-dialog').count()).resolves.toBe(0);
    await expect(page.getByTestId('facts-view').count()).resolves.toBe(0);
    await expect(hostRow('lab-key').getByTestId('host-state').getAttribute('data-state')).resolves.toBe('refused');
    const after = await lab.services.dispatcher.dispatch('hosts:facts', { id: hostId });
    expect(after.ok ? (after.value as { collectedAt: string } | null)?.collectedAt : undefined).toBe(collectedBefore);
    await lab.screenshot('09-hostkey-changed');
  });

  it('imports hosts from an SSH config file, showing warnings, adding only the picked ones', async () => {
    const configPath = path.join(dataDir, 'ssh_config');
    fs.writeFileSync(
      configPath,
      [
        'Host lab-imported',
        `  HostName ${sshd.host}`,
        `  Port ${sshd.port}`,
        '  User root',
        `  IdentityFile ${sshd.keys.plain}`,
        '',
        'Host old-box',
        '  HostName 192.0.2.10',
        '  User admin',
        '  IdentityFile ~/.ssh/id_old',
        '  ProxyCommand nc -X 5 -x proxy:1080 %h %p',
        '  StrictHostKeyChecking no',
        '',
        'Host *',
        '  ServerAliveInterval 30',
        '',
      ].join('\n'),
    );
    await page.getByTestId('ssh-import-open').click();
    await page.getByTestId('ssh-import-dialog').waitFor({ timeout: UI_TIMEOUT });
    await page.getByTestId('ssh-import-path').fill(configPath);
    await page.getByTestId('ssh-import-read').click();
    const candidate = (alias: string) => page.locator(`[data-testid="ssh-candidate"][data-alias="${alias}"]`);
    await candidate('lab-imported').waitFor({ timeout: UI_TIMEOUT });
    await expect(page.locator('[data-testid="ssh-candidate"]').count()).resolves.toBe(2);
    await expect(candidate('old-box').getByTestId('ssh-candidate-warnings').textContent()).resolves.toContain('ProxyCommand');
    await candidate('lab-imported').getByTestId('ssh-candidate-pick').check();
    await lab.screenshot('10-ssh-import');
    await page.getByTestId('ssh-import-add').click();
    await page.getByTestId('ssh-import-dialog').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    await hostRow('lab-imported').waitFor({ timeout: UI_TIMEOUT });
    await expect(hostRow('old-box').count()).resolves.toBe(0);
  });

  it('edits a host, then removes it only after confirmation', async () => {
    await hostRow('lab-imported').click();
    await page.getByTestId('host-edit').click();
    await page.getByTestId('host-form').waitFor({ timeout: UI_TIMEOUT });
    await expect(page.getByTestId('host-form-name').inputValue()).resolves.toBe('lab-imported');
    await expect(page.getByTestId('host-form-key-path').inputValue()).resolves.toBe(sshd.keys.plain);
    await page.getByTestId('host-form-name').fill('lab-renamed');
    await page.getByTestId('host-form-submit').click();
    await hostRow('lab-renamed').waitFor({ timeout: UI_TIMEOUT });
    await expect(page.getByTestId('host-detail-name').textContent()).resolves.toBe('lab-renamed');

    await page.getByTestId('host-remove').click();
    await page.getByTestId('confirm-dialog').waitFor({ timeout: UI_TIMEOUT });
    await lab.screenshot('11-remove-confirm');
    await page.getByTestId('confirm-cancel').click();
    await expect(hostRow('lab-renamed').count()).resolves.toBe(1);
    await page.getByTestId('host-remove').click();
    await page.getByTestId('confirm-ok').click();
    await hostRow('lab-renamed').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
  });

  it('connects without asking when the password is remembered (encrypted by the stand-in keychain)', async () => {
    // A second sshd: a host whose key is not known yet, with nothing left over from above.
    const other = await startSshd();
    try {
      await page.getByTestId('host-add').click();
      await page.getByTestId('host-form').waitFor({ timeout: UI_TIMEOUT });
      await page.getByTestId('host-form-name').fill('lab-remembered');
      await page.getByTestId('host-form-host').fill(other.host);
      await page.getByTestId('host-form-port').fill(String(other.port));
      await page.getByTestId('host-form-user').fill(other.passwordUser.name);
      await page.getByTestId('host-form-auth').selectOption('password');
      await page.getByTestId('host-form-remember').check();
      await page.getByTestId('host-form-secret').fill(other.passwordUser.password);
      await page.getByTestId('host-form-submit').click();
      await hostRow('lab-remembered').waitFor({ timeout: UI_TIMEOUT });

      await page.getByTestId('host-connect').click();
      await page.getByTestId('hostkey-dialog').waitFor({ timeout: CONNECT_TIMEOUT });
      await expect(page.getByTestId('hostkey-fingerprint').textContent()).resolves.toBe(other.hostKeyFingerprint);
      await page.getByTestId('hostkey-accept').click();
      await page.getByTestId('facts-view').waitFor({ timeout: CONNECT_TIMEOUT });
      await expect(page.getByTestId('secret-dialog').count()).resolves.toBe(0);
      await expect(page.getByTestId('fact-user').textContent()).resolves.toContain(other.passwordUser.name);
      // The data folder holds ciphertext only.
      const files = fs.readdirSync(dataDir).map((f) => path.join(dataDir, f)).filter((f) => fs.statSync(f).isFile());
      expect(files.some((f) => fs.readFileSync(f, 'utf8').includes(other.passwordUser.password))).toBe(false);
      await lab.screenshot('12-remembered-password-connected');
    } finally {
      await page.getByTestId('host-disconnect').click().catch(() => {});
      await other.stop();
    }
  });

  it('ran under the CSP without a single violation or page error', () => {
    expect(lab.cspViolations).toEqual([]);
    expect(lab.pageErrors).toEqual([]);
  });
});

describe('Hosts page on a system without secret storage', () => {
  it('offers no "remember" and says why', async () => {
    const plain = await openLabPage({ encryptor: null });
    try {
      await plain.page.getByTestId('host-add').click();
      await plain.page.getByTestId('host-form-auth').selectOption('password');
      const remember = plain.page.getByTestId('host-form-remember');
      await expect(remember.isDisabled()).resolves.toBe(true);
      await expect(plain.page.getByTestId('host-form-remember-unavailable').textContent()).resolves.toContain('no secret storage');
      await plain.screenshot('13-no-secret-storage');
      expect(plain.cspViolations).toEqual([]);
    } finally {
      await plain.close();
    }
  });
});
