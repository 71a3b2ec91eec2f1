import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Module, { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { CONTENT_SECURITY_POLICY } from '../shared/contract/content-security-policy.ts';

// Electron's binary cannot be downloaded on these machines, so this test loads the REAL
// built main-process bundle (.vite/build/main.cjs, built by `npm run build` exactly as
// Forge builds it) with a FAKE `electron` module that records what main asks of it.
// It proves the security wiring; a machine with Electron runs the app itself.

const root = path.resolve(import.meta.dirname, '..');
const bundle = path.join(root, '.vite/build/main.cjs');

type Listener = (...args: unknown[]) => unknown;

function fakeElectron(userData: string) {
  const appListeners = new Map<string, Listener>();
  const handlers = new Map<string, Listener>();
  const windows: { options: Record<string, unknown>; loaded: string[] }[] = [];
  let headersHook: Listener | undefined;
  let permissionHook: Listener | undefined;
  class BrowserWindow {
    webContents = { send: () => {}, on: () => {} };
    record: { options: Record<string, unknown>; loaded: string[] };
    constructor(options: Record<string, unknown>) {
      this.record = { options, loaded: [] };
      windows.push(this.record);
    }
    once() {}
    on() {}
    loadURL(url: string) { this.record.loaded.push(url); return Promise.resolve(); }
    loadFile(file: string) { this.record.loaded.push(file); return Promise.resolve(); }
    static getAllWindows() { return windows; }
  }
  const electron = {
    app: {
      enableSandbox: () => {},
      requestSingleInstanceLock: () => true,
      on: (name: string, fn: Listener) => appListeners.set(name, fn),
      whenReady: () => Promise.resolve(),
      getPath: () => userData,
      getVersion: () => '0.0.0-test',
      getAppPath: () => root,
      isPackaged: false,
      quit: () => {},
    },
    BrowserWindow,
    ipcMain: { handle: (channel: string, fn: Listener) => handlers.set(channel, fn) },
    safeStorage: { isEncryptionAvailable: () => false, getSelectedStorageBackend: () => 'basic_text', encryptString: () => Buffer.alloc(0), decryptString: () => '' },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (fn: Listener) => (permissionHook = fn),
        webRequest: { onHeadersReceived: (fn: Listener) => (headersHook = fn) },
      },
    },
    shell: { openExternal: () => Promise.resolve() },
  };
  return { electron, appListeners, handlers, windows, hooks: () => ({ headersHook, permissionHook }) };
}

describe('Electron main process wiring (real bundle, fake electron module)', () => {
  let fake: ReturnType<typeof fakeElectron>;

  beforeAll(async () => {
    const built = spawnSync(process.execPath, ['scripts/build-all.mjs'], { cwd: root, encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    fake = fakeElectron(fs.mkdtempSync(path.join(os.tmpdir(), 'runtime-lab-test-electron-')));
    const moduleWithLoad = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
    const original = moduleWithLoad._load;
    moduleWithLoad._load = function (request: string, ...rest: unknown[]) {
      return request === 'electron' ? fake.electron : original.call(this, request, ...rest);
    };
    try {
      createRequire(import.meta.url)(bundle);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      moduleWithLoad._load = original;
    }
  }, 180_000);

  it('opens the window with context isolation, the sandbox, no Node integration and the preload', () => {
    const prefs = fake.windows[0]?.options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true });
    expect(prefs.preload).toBe(path.join(root, '.vite/build/preload.cjs'));
    expect(fs.existsSync(prefs.preload as string)).toBe(true);
    expect(fake.windows[0]?.loaded[0]).toBe(path.join(root, '.vite/renderer/main_window/index.html'));
  });

  it('sends the strict CSP header and denies every permission request', () => {
    const { headersHook, permissionHook } = fake.hooks();
    let headers: Record<string, string[]> = {};
    headersHook?.({ responseHeaders: {} }, (r: { responseHeaders: Record<string, string[]> }) => (headers = r.responseHeaders));
    expect(headers['Content-Security-Policy']).toEqual([CONTENT_SECURITY_POLICY]);
    let granted: boolean | undefined;
    permissionHook?.({}, 'media', (g: boolean) => (granted = g));
    expect(granted).toBe(false);
  });

  it('blocks navigation away from the app, webviews and new windows', () => {
    const contentsListeners = new Map<string, Listener>();
    let openHandler: Listener | undefined;
    fake.appListeners.get('web-contents-created')?.({}, { on: (n: string, fn: Listener) => contentsListeners.set(n, fn), setWindowOpenHandler: (fn: Listener) => (openHandler = fn) });
    let prevented = false;
    contentsListeners.get('will-navigate')?.({ preventDefault: () => (prevented = true) }, 'https://evil.example/');
    expect(prevented).toBe(true);
    let webviewPrevented = false;
    contentsListeners.get('will-attach-webview')?.({ preventDefault: () => (webviewPrevented = true) });
    expect(webviewPrevented).toBe(true);
    expect(openHandler?.({ url: 'https://example.org/' })).toEqual({ action: 'deny' });
  });

  it('validates IPC: refuses foreign frames, unknown channels and bad input; serves the contract', async () => {
    const invoke = fake.handlers.get('lab:invoke')!;
    const ownFrame = { senderFrame: { url: `file://${path.join(root, '.vite/renderer/main_window/index.html')}` } };
    expect(await invoke({ senderFrame: { url: 'https://evil.example/' } }, 'hosts:list', {})).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    expect(await invoke(ownFrame, 'fs:readFile', {})).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    expect(await invoke(ownFrame, 'hosts:add', { name: '', target: { kind: 'ssh' } })).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    expect(await invoke(ownFrame, 'hosts:list', {})).toEqual({ ok: true, value: [] });
    // With safeStorage on its plain-text fallback, secrets are not remembered at all.
    expect(await invoke(ownFrame, 'app:info', {})).toMatchObject({ ok: true, value: { secretStorageAvailable: false } });
  });
});
