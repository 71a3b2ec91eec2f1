import os from 'node:os';
import path from 'node:path';

// The data folder Electron's app.getPath('userData') gives "Runtime Lab", computed the
// same way here so that the CLI and the app share hosts, trusted host keys and results.
export const APP_NAME = 'Runtime Lab';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.RUNTIME_LAB_DATA_DIR) return path.resolve(env.RUNTIME_LAB_DATA_DIR);
  const home = os.homedir();
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', APP_NAME);
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), APP_NAME);
  return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), APP_NAME);
}

export function dataFiles(dataDir: string) {
  return {
    hosts: path.join(dataDir, 'hosts.json'),
    secrets: path.join(dataDir, 'secrets.json'),
    knownHosts: path.join(dataDir, 'known_hosts'),
    results: path.join(dataDir, 'results.sqlite'),
  };
}
