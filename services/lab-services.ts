import fs from 'node:fs';
import type { LabEvent } from '../shared/contract/ipc-contract.ts';
import { LabError } from '../shared/lab-error.ts';
import { runtimePresets } from '../shared/bench/runtime-presets.ts';
import { memoryStepsToCsv, runSidecarJson, samplesToCsv, summaryToCsv } from '../shared/csv-export.ts';
import { daemonUsageToCsv } from '../shared/daemon-usage-csv.ts';
import { summarizeSamples } from '../shared/stats.ts';
import { createDispatcher, type Dispatcher, type Handlers } from './api/lab-api.ts';
import { dataFiles } from './app-paths.ts';
import { BenchRunner, type HostLink } from './bench/bench-runner.ts';
import { HostService } from './hosts/host-service.ts';
import type { SecretEncryptor } from './hosts/secret-vault.ts';
import { agentBundleLoader } from './agent/agent-bundle.ts';
import { readSshConfigCandidates } from './hosts/ssh-config-import.ts';
import { ResultsStore } from './results/results-store.ts';
import type { SetupService } from './setup/setup-service.ts';

export interface LabServicesOptions {
  dataDir: string;
  /** Electron's safeStorage in the app; null where no keychain can be used (CLI). */
  encryptor: SecretEncryptor | null;
  emit: (event: LabEvent) => void;
  appVersion?: string;
  log?: (line: string) => void;
  /** Test knobs for the run follower (poll and reconnect timing). */
  runner?: { pollIntervalMs?: number; reconnectAttempts?: number; reconnectDelayMs?: number };
  /** The prebuilt host agent (packaged app); absent → built from source with esbuild. */
  agentBundlePath?: string;
}

export interface LabServices {
  dispatcher: Dispatcher;
  hosts: HostService;
  results: ResultsStore;
  runner: BenchRunner;
  dispose(): Promise<void>;
}

export function hostLinkFor(hosts: HostService, hostId: string): HostLink {
  return {
    hostId,
    hostName: hosts.get(hostId).name,
    transport: () => hosts.transport(hostId),
    reset: () => hosts.disconnect(hostId),
  };
}

// Everything behind the IPC contract, assembled once. Electron's main process and the
// browser e2e tests build it the same way; only the encryptor and event sink differ.
export function createLabServices(options: LabServicesOptions): LabServices {
  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const hosts = new HostService({ dataDir: options.dataDir, encryptor: options.encryptor, emit: options.emit });
  const results = ResultsStore.open(dataFiles(options.dataDir).results);
  const runner = new BenchRunner({
    store: results,
    emit: options.emit,
    ...options.runner,
    ...(options.agentBundlePath ? { agentBundlePath: options.agentBundlePath } : {}),
  });

  const followIfPossible = (runId: string): void => {
    const follow = results.getFollow(runId);
    if (!follow || runner.isFollowing(runId)) return;
    if (!hosts.list().some((h) => h.id === follow.hostId)) return;
    void runner.follow(runId, hostLinkFor(hosts, follow.hostId)).catch((err: unknown) => options.log?.(`follow ${runId}: ${LabError.from(err).code}`));
  };
  // Runs that were being measured when the app closed: the agents went on; read on.
  for (const runId of results.runningRunIds()) followIfPossible(runId);

  // The setup wizard's service, with the knowledge base behind it, is loaded on first use.
  let setupService: Promise<SetupService> | null = null;
  const setup = () => (setupService ??= import('./setup/setup-service.ts').then((m) => new m.SetupService({ hosts, emit: options.emit, loadAgentBundle: agentBundleLoader(options.agentBundlePath) })));

  const handlers: Handlers = {
    'app:info': async () => ({
      version: options.appVersion ?? '0.0.0',
      platform: process.platform,
      localHostSupported: process.platform === 'linux',
      secretStorageAvailable: hosts.secretStorageAvailable,
      dataDir: options.dataDir,
      notices: [...hosts.notices(), ...(results.recovery ? [results.recovery.message] : [])],
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
    'hosts:runtimePresets': async ({ id }) => {
      const facts = hosts.lastFacts(id);
      if (!facts) throw new LabError('not-found', 'Connect to the host first: its runtimes are known after inspection.');
      return runtimePresets(facts);
    },
    'runs:start': async ({ hostId, plan }) => ({ runId: await runner.start(hostLinkFor(hosts, hostId), plan) }),
    'runs:abort': async ({ runId }) => {
      const follow = results.getFollow(runId);
      await runner.abort(runId, follow ? hostLinkFor(hosts, follow.hostId) : undefined);
      return { ok: true };
    },
    'runs:list': async () => results.listRuns(),
    'runs:get': async ({ runId }) => {
      const detail = results.getRun(runId);
      if (detail.meta.status === 'running') followIfPossible(runId);
      return {
        ...detail,
        environment: results.getEnvironment(runId),
        daemonUsage: results.getDaemonUsage(runId),
        memorySteps: results.getMemorySteps(runId),
        following: runner.isFollowing(runId),
      };
    },
    'runs:delete': async ({ runId }) => {
      if (runner.isFollowing(runId)) throw new LabError('invalid-input', 'This run is still being measured: abort it before deleting it.');
      results.deleteRun(runId);
      return { deleted: true };
    },
    'runs:export': async ({ runId, kind }) => {
      const { meta, samples } = results.getRun(runId);
      const base = `runtime-lab-${meta.id}`;
      if (kind === 'samples-csv') return { filename: `${base}-samples.csv`, mimeType: 'text/csv', content: samplesToCsv(meta, samples) };
      if (kind === 'daemon-usage-csv') {
        const csv = daemonUsageToCsv(meta, results.getEnvironment(runId), results.getDaemonUsage(runId));
        return { filename: `${base}-daemon-usage.csv`, mimeType: 'text/csv', content: csv };
      }
      if (kind === 'memory-steps-csv') {
        return { filename: `${base}-memory-steps.csv`, mimeType: 'text/csv', content: memoryStepsToCsv(meta, results.getMemorySteps(runId)) };
      }
      if (kind === 'summary-csv') return { filename: `${base}-summary.csv`, mimeType: 'text/csv', content: summaryToCsv(meta, summarizeSamples(samples)) };
      return { filename: `${base}-environment.json`, mimeType: 'application/json', content: runSidecarJson(meta) };
    },
    'setup:recipes': async () => (await setup()).recipes(),
    'setup:doctor': async ({ hostId, checkDownloads }) => (await setup()).doctor(hostId, { checkDownloads: checkDownloads ?? false }),
    'setup:plan': async ({ hostId, recipes, params }) => (await setup()).plan(hostId, recipes, params),
    'setup:run': async (input) => (await setup()).run(input),
    'setup:cancel': async ({ setupId }) => (await setup()).cancel(setupId),
    'setup:verify': async ({ hostId, runtimes, params, sudoPassword }) => (await setup()).verify(hostId, runtimes, params, sudoPassword),
    'setup:restore': async ({ hostId, labDir }) => (await setup()).restore(hostId, labDir),
  };

  return {
    dispatcher: createDispatcher(handlers, options.log),
    hosts,
    results,
    runner,
    async dispose() {
      if (setupService) await (await setupService).dispose();
      runner.dispose();
      await hosts.dispose();
      results.close();
    },
  };
}
