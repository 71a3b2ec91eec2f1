import { z } from 'zod';
import { HostDraft, HostId, HostView } from '../model/host.ts';
import { HostFacts } from '../model/host-facts.ts';
import type { LabErrorShape } from '../lab-error.ts';
import { Plan, RuntimeSpec } from '../model/plan.ts';
import { DaemonUsageReading, EnvironmentInfo, MemoryStep, Sample } from '../model/run-record.ts';
import { RunDetail, RunId, RunListItem } from '../model/run.ts';
import { DoctorReportView, RecipeInfo, SetupId, SetupParams, SetupPlanView, SetupRecipeList, SetupRunEvent, VerifyReport } from '../model/setup.ts';

// The one contract between renderer, preload and main. Every call names a channel here;
// main validates the input with its schema before any service sees it, and the renderer's
// typed client is derived from the same object, so the three cannot drift apart.

const Empty = z.object({}).strict();

export const ConnectResult = z.discriminatedUnion('status', [
  z.object({ status: z.literal('connected'), facts: HostFacts }),
  /** First contact: the user must compare this fingerprint and accept it. */
  z.object({ status: z.literal('host-key-unknown'), keyType: z.string(), fingerprint: z.string() }),
  /** Password or passphrase needed and not remembered: ask, then call again with `secret`. */
  z.object({ status: z.literal('secret-required'), prompt: z.string() }),
]);
export type ConnectResult = z.infer<typeof ConnectResult>;

export const SshConfigCandidate = z.object({
  alias: z.string(),
  draft: HostDraft,
  /** Why some of the entry could not be used (e.g. a ProxyCommand). */
  warnings: z.array(z.string()),
});
export type SshConfigCandidate = z.infer<typeof SshConfigCandidate>;

export const AppInfo = z.object({
  version: z.string(),
  platform: z.string(),
  /** Whether "This computer" can be a lab host (Linux only). */
  localHostSupported: z.boolean(),
  secretStorageAvailable: z.boolean(),
  dataDir: z.string(),
  /** Things the user should know about at start (a damaged file moved aside, …). */
  notices: z.array(z.string()),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const ipcContract = {
  'app:info': { input: Empty, output: AppInfo },
  'hosts:list': { input: Empty, output: z.array(HostView) },
  'hosts:add': { input: HostDraft, output: HostView },
  'hosts:update': { input: z.object({ id: HostId, draft: HostDraft }).strict(), output: HostView },
  'hosts:remove': { input: z.object({ id: HostId }).strict(), output: z.object({ removed: z.boolean() }) },
  'hosts:importSshConfig': {
    input: z.object({ path: z.string().optional() }).strict(),
    output: z.array(SshConfigCandidate),
  },
  /** Connects (verifying the host key) and inspects the host. */
  'hosts:connect': {
    input: z.object({ id: HostId, secret: z.string().max(4096).optional() }).strict(),
    output: ConnectResult,
  },
  /** Trust the key the host presented on the last connect; only that exact fingerprint is accepted. */
  'hosts:trustHostKey': {
    input: z.object({ id: HostId, fingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/) }).strict(),
    output: z.object({ trusted: z.boolean() }),
  },
  /** The facts of the last inspection of this host, if any (kept in memory for the session). */
  'hosts:facts': { input: z.object({ id: HostId }).strict(), output: HostFacts.nullable() },
  'hosts:disconnect': { input: z.object({ id: HostId }).strict(), output: z.object({ ok: z.boolean() }) },
  /** The runtimes found by the last inspection, with the flags oci-direct uses by default. */
  'hosts:runtimePresets': { input: z.object({ id: HostId }).strict(), output: z.array(RuntimeSpec) },
  'runs:start': { input: z.object({ hostId: HostId, plan: Plan }).strict(), output: z.object({ runId: RunId }) },
  'runs:abort': { input: z.object({ runId: RunId }).strict(), output: z.object({ ok: z.boolean() }) },
  'runs:list': { input: Empty, output: z.array(RunListItem) },
  'runs:get': { input: z.object({ runId: RunId }).strict(), output: RunDetail.extend({ following: z.boolean() }) },
  'runs:delete': { input: z.object({ runId: RunId }).strict(), output: z.object({ deleted: z.boolean() }) },
  /** A file for the renderer to save: samples CSV, summary CSV, the run's plan + environment JSON, daemon CPU/RSS readings CSV, or a memory run's steps CSV. */
  'runs:export': {
    input: z.object({ runId: RunId, kind: z.enum(['samples-csv', 'summary-csv', 'environment-json', 'daemon-usage-csv', 'memory-steps-csv']) }).strict(),
    output: z.object({ filename: z.string(), mimeType: z.string(), content: z.string() }),
  },
  /** The setup recipes: what each installs, requires, and which methods it enables. */
  'setup:recipes': { input: Empty, output: z.array(RecipeInfo) },
  /** Prerequisite verdicts and the runtime × method matrix derived from the host's facts (no download probes unless asked). */
  'setup:doctor': {
    input: z.object({ hostId: HostId, checkDownloads: z.boolean().optional() }).strict(),
    output: DoctorReportView,
  },
  /** The dry run as data: every step with why, and every command exactly as it would run. Runs read-only checks only. */
  'setup:plan': {
    input: z.object({ hostId: HostId, recipes: SetupRecipeList, params: SetupParams.optional() }).strict(),
    output: SetupPlanView,
  },
  /** Starts a setup (one at a time per host); progress arrives as setup:* events. The sudo password stays in main, in memory. */
  'setup:run': {
    input: z
      .object({
        hostId: HostId,
        recipes: SetupRecipeList,
        params: SetupParams.optional(),
        sudoPassword: z.string().min(1).max(4096).optional(),
        autoFix: z.boolean().optional(),
        fresh: z.boolean().optional(),
      })
      .strict(),
    output: z.object({ setupId: SetupId }),
  },
  /** Kills the running command and runs the step's cleanup. */
  'setup:cancel': { input: z.object({ setupId: SetupId }).strict(), output: z.object({ ok: z.boolean() }) },
  /** Runs the hello workload through every method of each runtime; cells also arrive as setup:verify-cell events. */
  'setup:verify': {
    input: z.object({ hostId: HostId, runtimes: SetupRecipeList, params: SetupParams.optional(), sudoPassword: z.string().min(1).max(4096).optional() }).strict(),
    output: VerifyReport,
  },
  /** Puts back every config file a setup changed, byte for byte (or removes what did not exist before). */
  'setup:restore': {
    input: z.object({ hostId: HostId, labDir: z.string().min(1).max(4096).optional() }).strict(),
    output: z.object({ restored: z.array(z.string()) }),
  },
} as const;

export type IpcContract = typeof ipcContract;
export type Channel = keyof IpcContract;
export type ChannelInput<C extends Channel> = z.input<IpcContract[C]['input']>;
export type ChannelOutput<C extends Channel> = z.output<IpcContract[C]['output']>;

/** What crosses the IPC boundary: errors travel as data, since Electron drops Error fields. */
export type IpcReply<T> = { ok: true; value: T } | { ok: false; error: LabErrorShape };

/** Events main pushes to the renderer on the single 'lab:event' channel. */
export const RunPhase = z.enum(['deploying', 'running', 'reconnecting', 'detached', 'completed', 'aborted', 'failed']);
export type RunPhase = z.infer<typeof RunPhase>;

export const LabEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('host:connection'), hostId: HostId, state: z.enum(['connecting', 'connected', 'disconnected']), message: z.string().optional() }),
  /** Where a run is; "detached" = the host is unreachable but the agent goes on measuring. */
  z.object({ type: z.literal('run:phase'), runId: RunId, phase: RunPhase, message: z.string().optional() }),
  /** Samples as they are stored, in seq order; the live chart appends them. */
  z.object({ type: z.literal('run:samples'), runId: RunId, samples: z.array(Sample) }),
  /** Daemon CPU/RSS readings, memory steps and the environment as they are stored, for the live charts. */
  z.object({
    type: z.literal('run:extras'),
    runId: RunId,
    daemonUsage: z.array(DaemonUsageReading),
    memorySteps: z.array(MemoryStep),
    environment: EnvironmentInfo.optional(),
  }),
  z.object({ type: z.literal('run:log'), runId: RunId, level: z.enum(['info', 'warn', 'error']), message: z.string() }),
  /** Setup progress: started, step started/output/finished/failed (with the recognised failure), auto-fix, finished, verify cells. */
  ...SetupRunEvent.options,
]);
export type LabEvent = z.infer<typeof LabEvent>;

export { IPC_INVOKE_CHANNEL, IPC_EVENT_CHANNEL } from './ipc-channels.ts';

/** The API the preload script exposes as `window.lab` (and the e2e bridge imitates). */
export interface LabBridge {
  invoke<C extends Channel>(channel: C, input: ChannelInput<C>): Promise<IpcReply<ChannelOutput<C>>>;
  onEvent(listener: (event: LabEvent) => void): () => void;
}

export function isChannel(name: unknown): name is Channel {
  return typeof name === 'string' && Object.hasOwn(ipcContract, name);
}
