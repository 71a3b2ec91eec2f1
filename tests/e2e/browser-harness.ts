// Browser e2e harness: the real renderer (built by Vite with vite.renderer.config.ts), in
// Debian's Chromium driven by playwright-core, with `window.lab` bridged to the real
// services running in this test process — the same two functions electron/preload.ts
// exposes, backed by the same dispatcher electron/main.ts uses.
//
//   const lab = await openLabPage();             // build (once), serve, launch, load
//   await lab.page.getByTestId('host-add').click();
//   await lab.screenshot('01-hosts-empty');      // → test-artifacts/e2e/01-hosts-empty.png
//   await lab.close();                           // browser, server, services, temp dirs
//
// Electron cannot run on these machines (its binary cannot be downloaded); on a machine
// with Electron, Playwright's `_electron` launcher can drive the real app with the same tests.

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { CONTENT_SECURITY_POLICY } from '../../shared/contract/content-security-policy.ts';
import type { LabEvent } from '../../shared/contract/ipc-contract.ts';
import { createLabServices, type LabServices } from '../../services/lab-services.ts';
import type { SecretEncryptor } from '../../services/hosts/secret-vault.ts';

export const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');
export const ARTIFACTS_DIR = path.join(PROJECT_ROOT, 'test-artifacts/e2e');
const RENDERER_CONFIG = path.join(PROJECT_ROOT, 'vite.renderer.config.ts');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
const BUILD_DIR_PREFIX = 'runtime-lab-e2e-renderer-';

/**
 * TEST ONLY. Stands in for Electron's safeStorage, which cannot run here (no Electron
 * binary on these machines): AES-256-GCM with a random key that lives as long as the test
 * process. Same shape as safeStorage, so the services cannot tell the difference.
 */
export const testOnlyEncryptor: SecretEncryptor = (() => {
  const key = randomBytes(32);
  return {
    isEncryptionAvailable: () => true,
    encryptString(plain: string): Buffer {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    decryptString(encrypted: Buffer): string {
      const decipher = createDecipheriv('aes-256-gcm', key, encrypted.subarray(0, 12));
      decipher.setAuthTag(encrypted.subarray(12, 28));
      return Buffer.concat([decipher.update(encrypted.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
})();

// ---- Build the renderer once per test run ---------------------------------------------

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/** A hash of everything the renderer build depends on: same inputs, same build. */
function buildInputsHash(): string {
  const hash = createHash('sha256');
  const inputs = [
    ...listFiles(path.join(PROJECT_ROOT, 'renderer')),
    ...listFiles(path.join(PROJECT_ROOT, 'shared')),
    RENDERER_CONFIG,
    path.join(PROJECT_ROOT, 'package-lock.json'),
  ];
  for (const file of inputs) {
    if (!fs.existsSync(file)) continue;
    hash.update(path.relative(PROJECT_ROOT, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

let builtRenderer: Promise<string> | undefined;

/**
 * Builds the renderer with Vite's JS API into a temp dir and returns that dir. Vitest runs
 * each test file in its own worker, so the output is keyed by a hash of the build's inputs:
 * the first file of a run builds, the others reuse it; a source change means a new build.
 */
export function buildRenderer(): Promise<string> {
  builtRenderer ??= doBuildRenderer().catch((err: unknown) => {
    builtRenderer = undefined;
    throw err;
  });
  return builtRenderer;
}

async function doBuildRenderer(): Promise<string> {
  const outDir = path.join(os.tmpdir(), `${BUILD_DIR_PREFIX}${buildInputsHash()}`);
  if (fs.existsSync(path.join(outDir, 'index.html'))) return outDir;

  const staging = `${outDir}.staging-${process.pid}`;
  // Vitest sets NODE_ENV=test, and Vite would then bundle React's development build: the
  // app ships the production one, so build as production.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: RENDERER_CONFIG,
      mode: 'production',
      logLevel: 'warn',
      build: { outDir: staging, emptyOutDir: true, sourcemap: false },
    });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  try {
    fs.renameSync(staging, outDir);
  } catch (err) {
    // Another worker finished the same build first: use theirs.
    fs.rmSync(staging, { recursive: true, force: true });
    if (!fs.existsSync(path.join(outDir, 'index.html'))) throw err;
  }
  pruneOldBuilds(outDir);
  return outDir;
}

/** Removes builds of earlier sources (older than an hour, so a concurrent run keeps its own). */
function pruneOldBuilds(keep: string): void {
  const tmp = os.tmpdir();
  for (const name of fs.readdirSync(tmp)) {
    const dir = path.join(tmp, name);
    if (!name.startsWith(BUILD_DIR_PREFIX) || dir === keep) continue;
    try {
      if (Date.now() - fs.statSync(dir).mtimeMs > 3_600_000) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Gone already, or not ours to remove.
    }
  }
}

// ---- Serve it over http on loopback, with the app's CSP --------------------------------

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

interface StaticServer {
  url: string;
  close(): Promise<void>;
}

function serveStatic(root: string): Promise<StaticServer> {
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    const file = path.resolve(root, `.${pathname === '/' ? '/index.html' : pathname}`);
    const inside = file === root || file.startsWith(root + path.sep);
    if (req.method !== 'GET' || !inside || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
    });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

// ---- The page, with window.lab bridged to the services ----------------------------------

// Runs in the page before any of its scripts: the same API the preload exposes.
function installLabBridge(): void {
  type Listener = (event: unknown) => void;
  const w = window as unknown as {
    lab: unknown;
    __labInvoke(channel: string, input: unknown): Promise<unknown>;
    __labDeliverEvent(event: unknown): void;
    __labCspViolation(text: string): void;
  };
  const listeners = new Set<Listener>();
  w.__labDeliverEvent = (event) => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        console.error(err);
      }
    }
  };
  w.lab = Object.freeze({
    invoke: (channel: string, input: unknown) => w.__labInvoke(channel, input),
    onEvent(listener: Listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  });
  window.addEventListener('securitypolicyviolation', (e) => {
    w.__labCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
  });
}

export interface LabPageOptions {
  /** Data folder for the services; a fresh temp dir (removed on close) when omitted. */
  dataDir?: string;
  /** Defaults to testOnlyEncryptor; null = a system without secret storage. */
  encryptor?: SecretEncryptor | null;
  appVersion?: string;
  viewport?: { width: number; height: number };
}

export interface LabPage {
  page: Page;
  context: BrowserContext;
  services: LabServices;
  dataDir: string;
  url: string;
  /** Every event the services emitted, in order. */
  events: LabEvent[];
  /** CSP violations the page reported (should stay empty). */
  cspViolations: string[];
  /** Console errors and uncaught page errors. */
  pageErrors: string[];
  /** Saves a full-window PNG to test-artifacts/e2e/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openLabPage(options: LabPageOptions = {}): Promise<LabPage> {
  const root = await buildRenderer();
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'rlab-e2e-data-'));
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rlab-e2e-chromium-'));
  const events: LabEvent[] = [];
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  let page: Page | null = null;
  let delivery = Promise.resolve();

  const services = createLabServices({
    dataDir,
    encryptor: options.encryptor === undefined ? testOnlyEncryptor : options.encryptor,
    appVersion: options.appVersion ?? '0.0.0-e2e',
    emit: (event) => {
      events.push(event);
      // In order, like webContents.send; events for a page that is gone are dropped, as in Electron.
      delivery = delivery.then(async () => {
        await page?.evaluate((e) => (window as unknown as { __labDeliverEvent?(e: unknown): void }).__labDeliverEvent?.(e), event).catch(() => {});
      });
    },
  });

  let server: StaticServer | null = null;
  let context: BrowserContext | null = null;
  const close = async () => {
    await context?.close().catch(() => {});
    await server?.close();
    await services.dispose();
    fs.rmSync(userDataDir, { recursive: true, force: true });
    if (ownDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    server = await serveStatic(root);
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: options.viewport ?? { width: 1360, height: 860 },
      deviceScaleFactor: 1,
      locale: 'en-US',
      timezoneId: 'UTC',
    });
    await context.exposeBinding('__labInvoke', (_source, channel: unknown, input: unknown) => services.dispatcher.dispatch(channel, input));
    await context.exposeBinding('__labCspViolation', (_source, text: unknown) => void cspViolations.push(String(text)));
    await context.addInitScript(installLabBridge);
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    page.on('pageerror', (err) => pageErrors.push(`${err.name}: ${err.message}`));
    // Console errors for failed loads do not name the URL; the response does.
    page.on('response', (response) => {
      if (response.status() >= 400) pageErrors.push(`HTTP ${response.status()} for ${response.url()}`);
    });
    await page.goto(server.url);
    await page
      .getByTestId('sidebar')
      .waitFor({ timeout: 15_000 })
      .catch((err: unknown) => {
        throw new Error(`the renderer did not start: ${[...pageErrors, ...cspViolations].join('; ') || 'no error reported'}`, { cause: err });
      });
  } catch (err) {
    await close();
    throw err;
  }

  const openedPage = page;
  return {
    page: openedPage,
    context,
    services,
    dataDir,
    url: server.url,
    events,
    cspViolations,
    pageErrors,
    async screenshot(name) {
      fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
      const file = path.join(ARTIFACTS_DIR, `${name.replace(/[^\w.-]+/g, '-')}.png`);
      // Let pending events land and animations settle, so the picture shows a stable state.
      await delivery;
      await openedPage.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      await openedPage.screenshot({ path: file, animations: 'disabled' });
      return file;
    },
    close,
  };
}
