import path from 'node:path';
import { app, BrowserWindow, ipcMain, safeStorage, session, shell } from 'electron';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../shared/contract/ipc-channels.ts';
import type { LabEvent } from '../shared/contract/ipc-contract.ts';
import { createLabServices } from '../services/lab-services.ts';
import type { SecretEncryptor } from '../services/hosts/secret-vault.ts';
import { CONTENT_SECURITY_POLICY } from '../shared/contract/content-security-policy.ts';

// Wiring only: every decision lives in services/ (tested under Node without Electron).

declare const MAIN_WINDOW_VITE_DEV_SERVER_URL: string | undefined;
declare const MAIN_WINDOW_VITE_NAME: string;

let mainWindow: BrowserWindow | null = null;

// On Linux without a keyring, safeStorage falls back to a hard-coded key ("basic_text"):
// that is not secret storage, so Runtime Lab then refuses to remember secrets at all.
const encryptor: SecretEncryptor = {
  isEncryptionAvailable: () =>
    safeStorage.isEncryptionAvailable() && (process.platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text'),
  encryptString: (plain) => safeStorage.encryptString(plain),
  decryptString: (encrypted) => safeStorage.decryptString(encrypted),
};

function emit(event: LabEvent): void {
  mainWindow?.webContents.send(IPC_EVENT_CHANNEL, event);
}

function isOwnPage(url: string): boolean {
  if (MAIN_WINDOW_VITE_DEV_SERVER_URL) return url.startsWith(MAIN_WINDOW_VITE_DEV_SERVER_URL);
  return url.startsWith('file://') && decodeURIComponent(new URL(url).pathname).startsWith(path.join(__dirname, '..', 'renderer'));
}

function createWindow(): void {
  mainWindow = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 960,
    minHeight: 600,
    title: 'Runtime Lab',
    show: false,
    webPreferences: {
      preload: path.join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  mainWindow.on('closed', () => (mainWindow = null));
  if (MAIN_WINDOW_VITE_DEV_SERVER_URL) void mainWindow.loadURL(MAIN_WINDOW_VITE_DEV_SERVER_URL);
  else void mainWindow.loadFile(path.join(__dirname, `../renderer/${MAIN_WINDOW_VITE_NAME}/index.html`));
}

app.enableSandbox();
if (!app.requestSingleInstanceLock()) app.quit();

app.on('second-instance', () => {
  if (mainWindow?.isMinimized()) mainWindow.restore();
  mainWindow?.focus();
});

// No navigation, no new windows, no webviews: links to the web open in the browser.
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (event, url) => {
    if (!isOwnPage(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
});

void app.whenReady().then(() => {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });

  const services = createLabServices({
    dataDir: app.getPath('userData'),
    encryptor,
    emit,
    appVersion: app.getVersion(),
    // Built by Forge's generateAssets hook; shipped next to the asar by extraResource.
    agentBundlePath: app.isPackaged
      ? path.join(process.resourcesPath, 'runtime-lab-agent.cjs')
      : path.join(app.getAppPath(), 'dist/agent/runtime-lab-agent.cjs'),
    log: (line) => console.log(line),
  });

  ipcMain.handle(IPC_INVOKE_CHANNEL, (event, channel: unknown, input: unknown) => {
    // Only our own page may call in; a frame that navigated elsewhere gets nothing.
    const frameUrl = event.senderFrame?.url ?? '';
    if (!isOwnPage(frameUrl)) return { ok: false, error: { code: 'invalid-input', message: 'IPC from an unknown frame refused.' } };
    return services.dispatcher.dispatch(channel, input);
  });

  app.on('before-quit', () => void services.dispose());
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
