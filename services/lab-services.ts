import fs from 'node:fs';
import type { LabEvent } from '../shared/contract/ipc-contract.ts';
import { createDispatcher, type Dispatcher, type Handlers } from './api/lab-api.ts';
import { HostService } from './hosts/host-service.ts';
import type { SecretEncryptor } from './hosts/secret-vault.ts';
import { readSshConfigCandidates } from './hosts/ssh-config-import.ts';

export interface LabServicesOptions {
  dataDir: string;
  /** Electron's safeStorage in the app; null where no keychain can be used (CLI). */
  encryptor: SecretEncryptor | null;
  emit: (event: LabEvent) => void;
  appVersion?: string;
  log?: (line: string) => void;
}

export interface LabServices {
  dispatcher: Dispatcher;
  hosts: HostService;
  dispose(): Promise<void>;
}

// Everything behind the IPC contract, assembled once. Electron's main process and the
// browser e2e tests build it the same way; only the encryptor and event sink differ.
export function createLabServices(options: LabServicesOptions): LabServices {
  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const hosts = new HostService({ dataDir: options.dataDir, encryptor: options.encryptor, emit: options.emit });

  const handlers: Handlers = {
    'app:info': async () => ({
      version: options.appVersion ?? '0.0.0',
      platform: process.platform,
      localHostSupported: process.platform === 'linux',
      secretStorageAvailable: hosts.secretStorageAvailable,
      dataDir: options.dataDir,
      notices: hosts.notices(),
    }),
    'hosts:list': async () => hosts.list(),
    'hosts:add': async (draft) => hosts.add(draft),
    'hosts:update': async ({ id, draft }) => hosts.update(id, draft),
    'hosts:remove': async ({ id }) => ({ removed: await hosts.remove(id) }),
    'hosts:importSshConfig': async ({ path }) => readSshConfigCandidates(path),
    'hosts:connect': async ({ id, secret }) => hosts.connect(id, secret),
    'hosts:trustHostKey': async ({ id, fingerprint }) => ({ trusted: await hosts.trustHostKey(id, fingerprint) }),
    'hosts:facts': async ({ id }) => hosts.lastFacts(id),
    'hosts:disconnect': async ({ id }) => {
      await hosts.disconnect(id);
      return { ok: true };
    },
  };

  return {
    dispatcher: createDispatcher(handlers, options.log),
    hosts,
    dispose: () => hosts.dispose(),
  };
}
