import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabEvent } from '../shared/contract/ipc-contract.ts';
import type { DoctorReportView, RecipeInfo, SetupPlanView, VerifyReport } from '../shared/model/setup.ts';
import { createLabServices, type LabServices } from '../services/lab-services.ts';
import { probeHost, type HostContext } from '../services/setup/host-context.ts';
import { controlDaemon } from '../services/setup/maintenance.ts';
import { createLocalTransport } from '../services/transport/local-transport.ts';
import { startSshd, type TestSshd } from './lab/sshd.ts';
import { labParams } from './lab/setup-params.ts';
import { CAP_SYS_RESOURCE, hasCapability } from './lab/process-state.ts';

// The setup wizard's service behind the IPC channels, for real: the app's own dispatcher
// (input and output validated against the contract, as the renderer gets them), HostService
// connecting to a real OpenSSH server on 127.0.0.1, and the setup engine running runc,
// runsc, crun, containerd and Docker on this machine. containerd and dockerd keep their
// state, sockets and configs under a temp folder and are stopped at the end; the config
// files' originals are restored. Download-host probes stay off: nothing goes to the internet.

const root = mkdtempSync(join(tmpdir(), 'rlab-setup-svc-'));
const PARAMS = labParams(root);
const DAEMONS = ['runc', 'runsc', 'containerd', 'docker'];
const ORIGINAL_DAEMON_JSON = '{ "debug" :false,\n\t"log-level": "warn" }\n';
const ORIGINAL_CONTAINERD = 'version = 2\n';
const SUDO_PASSWORD = `sudo-${Math.random().toString(36).slice(2)}-Zq9`;

const RUN_DIRS = ['/run/containerd/runc/runtime-lab', '/run/containerd/runc', '/run/containerd/s', '/run/containerd', '/run/docker/plugins', '/run/docker'];
const preexisting = new Set(RUN_DIRS.filter((d) => existsSync(d)));

const local = createLocalTransport();
let localContext: HostContext;
let sshd: TestSshd;
let dataDir: string;
let services: LabServices;
const events: LabEvent[] = [];
let hostId: string;

async function call<T>(channel: string, input: unknown): Promise<T> {
  const reply = await services.dispatcher.dispatch(channel, input);
  if (!reply.ok) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
  return reply.value as T;
}

async function callError(channel: string, input: unknown): Promise<{ code: string; message: string }> {
  const reply = await services.dispatcher.dispatch(channel, input);
  if (reply.ok) throw new Error(`${channel} was expected to fail`);
  return reply.error;
}

type SetupEvents = Extract<LabEvent, { setupId: string }>;

function setupEvents(setupId: string): SetupEvents[] {
  return events.filter((e): e is SetupEvents => 'setupId' in e && e.setupId === setupId);
}

async function finished(setupId: string, timeoutMs: number): Promise<Extract<LabEvent, { type: 'setup:finished' }>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const done = setupEvents(setupId).find((e) => e.type === 'setup:finished');
    if (done?.type === 'setup:finished') return done;
    if (Date.now() > until) throw new Error(`setup ${setupId} did not finish in ${timeoutMs} ms; last events: ${JSON.stringify(setupEvents(setupId).slice(-5))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function logOf(setupId: string, key: string): string {
  return setupEvents(setupId).filter((e) => e.type === 'setup:output' && e.key === key).map((e) => (e.type === 'setup:output' ? e.text : '')).join('');
}

async function addTrustedHost(name: string, user: string, auth: object, secret?: string): Promise<string> {
  const view = await call<{ id: string }>('hosts:add', { name, target: { kind: 'ssh', ssh: { host: sshd.host, port: sshd.port, user, auth } } });
  const first = await call<{ status: string; fingerprint?: string }>('hosts:connect', secret ? { id: view.id, secret } : { id: view.id });
  if (first.status === 'host-key-unknown') {
    await call('hosts:trustHostKey', { id: view.id, fingerprint: first.fingerprint });
    const second = await call<{ status: string }>('hosts:connect', secret ? { id: view.id, secret } : { id: view.id });
    expect(second.status).toBe('connected');
  } else {
    expect(first.status).toBe('connected');
  }
  return view.id;
}

beforeAll(async () => {
  for (const dir of ['etc/docker', 'etc/containerd']) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(PARAMS.dockerDaemonJson as string, ORIGINAL_DAEMON_JSON);
  writeFileSync(PARAMS.containerdConfig as string, ORIGINAL_CONTAINERD);
  localContext = await probeHost(local);
  sshd = await startSshd();
  dataDir = mkdtempSync(join(tmpdir(), 'rlab-setup-svc-data-'));
  services = createLabServices({ dataDir, encryptor: null, emit: (e) => events.push(e) });
  hostId = await addTrustedHost('lab-root', 'root', { method: 'key', keyPath: sshd.keys.plain, rememberSecret: false });
});

afterAll(async () => {
  await services?.dispose();
  const full = { recipes: DAEMONS, params: PARAMS };
  for (const daemon of ['dockerd', 'containerd']) await controlDaemon(local, localContext, full, daemon, 'stop').catch(() => undefined);
  await sshd?.stop();
  await local.close();
  rmSync(root, { recursive: true, force: true });
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  for (const dir of RUN_DIRS.filter((d) => !preexisting.has(d))) {
    if (dir === '/run/containerd/runc/runtime-lab') rmSync(dir, { recursive: true, force: true });
    else spawnSync('rmdir', [dir]);
  }
});

const hybrid = () => Boolean(localContext.probes.unifiedControllers);

describe('setup service over SSH', () => {
  it('lists the recipes with what each requires and the methods it enables', async () => {
    const recipes = await call<RecipeInfo[]>('setup:recipes', {});
    const runsc = recipes.find((r) => r.id === 'runsc');
    expect(runsc).toMatchObject({ kind: 'runtime', requires: ['oci-bundle'], ran: true });
    expect(runsc?.methods.map((m) => m.method)).toEqual(['oci-direct', 'ctr', 'docker', 'cri']);
    expect(recipes.find((r) => r.id === 'crictl')).toMatchObject({ kind: 'component', ran: false });
  });

  it('the doctor gives verdicts with reasons; crun\'s cgroup trap is a failed check with its fix', async () => {
    const report = await call<DoctorReportView>('setup:doctor', { hostId });
    expect(report.access).toEqual({ user: 'root', mode: 'root' });
    expect(report.host).toBe(`root@127.0.0.1:${sshd.port}`);
    const crun = report.recipes.find((r) => r.id === 'crun')!.prerequisites.find((p) => p.id === 'cgroup-crun')!;
    if (hybrid()) {
      expect(crun.verdict).toBe('fail');
      expect(crun.reason).toContain('cgroups in hybrid mode not supported');
      expect(crun.fix).toContain('systemd.unified_cgroup_hierarchy=1');
      expect(report.matrix.find((m) => m.runtime === 'crun')?.cells['oci-direct'].status).toBe('fails');
    }
    // Root tried containerd's -998 on itself: refused without CAP_SYS_RESOURCE, and explained.
    const oom = report.checks.find((c) => c.id === 'oom-score-adj')!;
    expect(oom.verdict).toBe(hasCapability(CAP_SYS_RESOURCE) ? 'ok' : 'warn');
    if (oom.verdict === 'warn') expect(oom.fix).toContain('restrict_oom_score_adj = true');
    // No download probe was made: the reachability check is "not checked".
    const runscDownloads = report.recipes.find((r) => r.id === 'runsc')!.prerequisites.find((p) => p.id === 'downloads-reachable')!;
    expect(runscDownloads.reason).toContain('not checked');
  });

  let plan: SetupPlanView;
  it('shows the plan for runc + runsc before anything runs: every step, why, the exact commands, what is done already', async () => {
    const before = events.length;
    plan = await call<SetupPlanView>('setup:plan', { hostId, recipes: ['runc', 'runsc'], params: PARAMS });
    expect(plan.recipes.map((r) => r.id)).toEqual(['oci-bundle', 'runc', 'runsc']);
    expect(plan.needsSudoPassword).toBe(false);
    const step = (key: string) => plan.steps.find((s) => s.key === key)!;
    expect(step('runc/install')).toMatchObject({ title: 'Install runc', alreadyDone: true, skip: null });
    expect(step('runc/install').apply.join('\n')).toContain('apt-get');
    expect(step('oci-bundle/config').alreadyDone).toBe(false);
    expect(step('runsc/ctr-wrapper').skip).toContain('containerd');
    const direct = step('runsc/run-direct');
    expect(direct.phase).toBe('verify');
    expect(direct.alreadyDone).toBeNull();
    expect(direct.apply[0]).toContain('run --bundle');
    expect(direct.apply[0]).toContain(`runscNetwork=sandbox`);
    expect(plan.paramNotes.runscPlatform).toBeTruthy();
    for (const s of plan.steps.filter((x) => x.skip === null)) for (const c of s.apply) expect(plan.text).toContain(c.split('\n')[0]);
    // A dry run: nothing was written on the host and no setup event was sent.
    expect(existsSync(PARAMS.labDir as string)).toBe(false);
    expect(events.slice(before).filter((e) => e.type.startsWith('setup:'))).toEqual([]);
  });

  it('runs runc + runsc with live events; runsc\'s network failure is recognised and fixed by itself', async () => {
    const { setupId } = await call<{ setupId: string }>('setup:run', { hostId, recipes: ['runc', 'runsc'], params: PARAMS });
    const end = await finished(setupId, 240_000);
    expect(end.error).toBeNull();
    expect(end.status).toBe('complete');
    expect(end.autoFixes.map((f) => f.signatureId)).toContain('runsc-network-root-netns');
    expect(end.params.runscNetwork).toBe('none');

    const mine = setupEvents(setupId);
    expect(mine[0]).toMatchObject({ type: 'setup:started', hostId, planId: plan.planId, recipes: ['oci-bundle', 'runc', 'runsc'] });
    const failed = mine.find((e) => e.type === 'setup:step-failed');
    expect(failed).toMatchObject({ key: 'runsc/run-direct', diagnosis: { signatureId: 'runsc-network-root-netns', autoFix: 'add --network=none to runsc and retry' } });
    expect(failed?.type === 'setup:step-failed' && failed.diagnosis?.meaning).toMatch(/network namespace/);
    expect(mine.find((e) => e.type === 'setup:auto-fix')).toMatchObject({ key: 'runsc/run-direct', signatureId: 'runsc-network-root-netns' });
    // Live output: the commands as the plan showed them, then what they printed.
    const runcLog = logOf(setupId, 'runc/run-direct');
    expect(runcLog).toContain(`$ ${plan.steps.find((s) => s.key === 'runc/run-direct')!.apply[0]!.split('\n')[0]}`);
    expect(runcLog).toContain('Hello');
    expect(logOf(setupId, 'runsc/run-direct')).toContain('cannot run with network enabled in root network namespace');
    expect(logOf(setupId, 'runsc/run-direct')).toContain('runscNetwork=none');
    const startedAt = mine.findIndex((e) => e.type === 'setup:step-started' && e.key === 'runc/run-direct');
    const outputAt = mine.findIndex((e) => e.type === 'setup:output' && e.key === 'runc/run-direct');
    const finishedAt = mine.findIndex((e) => e.type === 'setup:step-finished' && e.key === 'runc/run-direct');
    expect(startedAt).toBeGreaterThan(-1);
    expect(outputAt).toBeGreaterThan(startedAt);
    expect(finishedAt).toBeGreaterThan(outputAt);
    expect(mine.find((e) => e.type === 'setup:step-finished' && e.key === 'runc/install')).toMatchObject({ outcome: 'already-done' });
    expect(mine.at(-1)?.type).toBe('setup:finished');

    // The next dry run knows: the fix is kept (journal) and the steps are done.
    const again = await call<SetupPlanView>('setup:plan', { hostId, recipes: ['runc', 'runsc'], params: PARAMS });
    expect(again.fixes).toEqual({ runscNetwork: 'none' });
    expect(again.steps.find((s) => s.key === 'oci-bundle/config')?.alreadyDone).toBe(true);
  }, 300_000);

  it('cancels a hanging step: the command is killed, the run ends "cancelled", and a second setup is refused meanwhile', async () => {
    // containerd cannot start with its root under a regular file, so the restart after the
    // config change waits for readiness (30 s) — a hang to cancel, in a folder of its own.
    writeFileSync(join(root, 'not-a-dir'), '');
    const params = {
      ...PARAMS,
      labDir: `${root}/cancel-lab`,
      containerdConfig: `${root}/cancel/config.toml`,
      containerdRoot: `${root}/not-a-dir/root`,
      containerdState: `${root}/cancel/state`,
      containerdAddress: `${root}/cancel/containerd.sock`,
    };
    const started = Date.now();
    const { setupId } = await call<{ setupId: string }>('setup:run', { hostId, recipes: ['containerd'], params });
    const refused = await callError('setup:run', { hostId, recipes: ['runc'], params: PARAMS });
    expect(refused.code).toBe('invalid-input');
    expect(refused.message).toContain('already running');

    const until = Date.now() + 60_000;
    while (!setupEvents(setupId).some((e) => e.type === 'setup:output' && e.key === 'containerd/config' && e.stream === 'command' && e.text.includes('setsid'))) {
      if (Date.now() > until) throw new Error(`the config step never restarted containerd: ${JSON.stringify(setupEvents(setupId).slice(-4))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await call('setup:cancel', { setupId })).toEqual({ ok: true });
    const end = await finished(setupId, 30_000);
    expect(end.status).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(25_000);
    expect(setupEvents(setupId).find((e) => e.type === 'setup:step-finished' && e.key === 'containerd/config')).toMatchObject({ outcome: 'cancelled' });
    expect(await call('setup:cancel', { setupId })).toEqual({ ok: false });
    // The host is free again.
    expect(spawnSync('sh', ['-c', `ps -eo args | grep -F '${root}/cancel/config.toml' | grep -v grep`]).status).not.toBe(0);
  }, 120_000);

  it('sets up containerd and Docker (temp roots) and crun, whose hybrid-cgroup failure is recognised, not "fixed"', async () => {
    const daemons = await call<{ setupId: string }>('setup:run', { hostId, recipes: DAEMONS, params: PARAMS });
    const full = await finished(daemons.setupId, 420_000);
    expect(full.error).toBeNull();
    expect(full.failure).toBeNull();
    expect(full.status).toBe('complete');

    const crun = await call<{ setupId: string }>('setup:run', { hostId, recipes: ['crun', 'containerd', 'docker'], params: PARAMS });
    const end = await finished(crun.setupId, 240_000);
    if (!hybrid()) {
      expect(end.status).toBe('complete');
      return;
    }
    expect(end.status).toBe('failed');
    expect(end.failure).toMatchObject({ key: 'crun/run-direct', diagnosis: { signatureId: 'crun-hybrid-cgroup', autoFix: null } });
    expect(end.failure?.output).toContain('cgroups in hybrid mode not supported');
    expect(end.failure?.diagnosis?.meaning).toMatch(/hybrid/);
    expect(end.autoFixes).toEqual([]);
  }, 600_000);

  it('verify fills the runtime × method matrix from real runs', async () => {
    const before = events.length;
    const report = await call<VerifyReport>('setup:verify', { hostId, runtimes: ['runc', 'crun', 'runsc'], params: PARAMS });
    const row = (id: string) => report.rows.find((r) => r.runtime === id)!;
    const runc = row('runc').cells;
    expect(runc['oci-direct']).toMatchObject({ status: 'works', signatureId: null });
    expect(runc['oci-direct'].evidence?.output).toContain('Hello');
    expect(runc['oci-direct'].evidence?.commands[0]).toContain('runc run --bundle');
    expect(runc.ctr.status).toBe('works');
    expect(runc.docker.status).toBe('works');
    // cri: a real pod lifecycle through Runtime Lab's CRI client, run by the host agent. Without
    // CAP_SYS_RESOURCE (this lab) the sandbox's oom_score_adj of -998 cannot be set, so the
    // containerd recipe chose restrict_oom_score_adj = true from the host probe: it works either way.
    expect(runc.cri.evidence?.commands[0]).toMatch(/runtime-lab-agent-[0-9a-f]+\.cjs run --run-dir/);
    expect(readFileSync(PARAMS.containerdConfig as string, 'utf8')).toContain(`restrict_oom_score_adj = ${hasCapability(CAP_SYS_RESOURCE) ? 'false' : 'true'}`);
    expect(runc.cri).toMatchObject({ status: 'works', autoFixed: null });
    expect(runc.cri.reason).toMatch(/handler "runc" printed "Hello" \(RunPodSandbox \d+ ms, .*RemovePodSandbox \d+ ms\)/);

    const crun = row('crun').cells['oci-direct'];
    if (hybrid()) {
      expect(crun).toMatchObject({ status: 'fails', signatureId: 'crun-hybrid-cgroup' });
      expect(crun.reason).toContain('cgroups in hybrid mode not supported');
      expect(crun.meaning).toMatch(/hybrid mode/);
      expect(crun.fix).toContain('systemd.unified_cgroup_hierarchy=1');
    } else {
      expect(crun.status).toBe('works');
    }

    // Verify without the setup's parameters: runsc's network trap is met and fixed again.
    const runsc = row('runsc').cells;
    expect(runsc['oci-direct'].status).toBe('works');
    expect(runsc.ctr.status).toBe('works');
    expect(runsc.docker.status).toBe('works');
    // Debian has no runsc shim for containerd, and the recipe registers a CRI handler only where
    // it has (the runc shim with runsc as BinaryName never sees a pod's containers exit): said plainly.
    expect(runsc.cri).toMatchObject({ status: 'fails', signatureId: 'runsc-cri-no-shim' });
    expect(runsc.cri.reason).toMatch(/no runtime for "runsc" is configured .*configured handlers: .*\brunc\b/);
    expect(runsc.cri.meaning).toMatch(/containerd-shim-runsc-v1, which Debian 12 does not ship.*never reaches EXITED/);
    expect(runsc.cri.fix).toContain('runtime_type = "io.containerd.runsc.v1"');
    const fresh = await call<VerifyReport>('setup:verify', { hostId, runtimes: ['runsc'], params: { ...PARAMS, runscNetwork: 'sandbox' } });
    expect(fresh.rows[0]!.cells['oci-direct']).toMatchObject({ status: 'works', autoFixed: 'add --network=none to runsc and retry' });

    // Cells arrive live, one event each.
    const cells = events.slice(before).filter((e) => e.type === 'setup:verify-cell' && e.verifyId === report.verifyId);
    expect(cells).toHaveLength(12);
  }, 300_000);

  it('restores the config files byte for byte', async () => {
    const { restored } = await call<{ restored: string[] }>('setup:restore', { hostId, labDir: PARAMS.labDir });
    expect(restored).toEqual(expect.arrayContaining([`restored ${String(PARAMS.dockerDaemonJson)}`, `restored ${String(PARAMS.containerdConfig)}`]));
    expect(readFileSync(PARAMS.dockerDaemonJson as string, 'utf8')).toBe(ORIGINAL_DAEMON_JSON);
    expect(readFileSync(PARAMS.containerdConfig as string, 'utf8')).toBe(ORIGINAL_CONTAINERD);
    expect(await call('setup:restore', { hostId, labDir: PARAMS.labDir })).toEqual({ restored: [] });
  });
});

describe('the sudo password', () => {
  it('is asked for when the login user has no way to root, and never appears in a plan, an event or an error', async () => {
    const userId = await addTrustedHost('lab-user', sshd.passwordUser.name, { method: 'password', rememberSecret: false }, sshd.passwordUser.password);
    const report = await call<DoctorReportView>('setup:doctor', { hostId: userId });
    expect(report.access).toEqual({ user: sshd.passwordUser.name, mode: 'none' });
    expect(report.checks.find((c) => c.id === 'sudo')).toMatchObject({ verdict: 'fail' });

    const plan = await call<SetupPlanView>('setup:plan', { hostId: userId, recipes: ['runc'], params: { labDir: `${root}/user-lab` } });
    expect(plan.needsSudoPassword).toBe(true);
    expect(plan.steps.find((s) => s.key === 'runc/install')?.apply[0]).toMatch(/^sudo -S -k -p '' -- /);

    // This machine has no sudo (or the user is not allowed): refused before anything runs.
    const error = await callError('setup:run', { hostId: userId, recipes: ['runc'], params: { labDir: `${root}/user-lab` }, sudoPassword: SUDO_PASSWORD });
    expect(['unsupported', 'auth-password-rejected']).toContain(error.code);
    expect(error.message).toMatch(/sudo/);
    expect(JSON.stringify(error)).not.toContain(SUDO_PASSWORD);
    expect(existsSync(`${root}/user-lab`)).toBe(false);
    const verifyError = await callError('setup:verify', { hostId: userId, runtimes: ['runc'], params: { labDir: `${root}/user-lab` }, sudoPassword: SUDO_PASSWORD });
    expect(verifyError.code).toBe(error.code);
    expect(JSON.stringify(verifyError)).not.toContain(SUDO_PASSWORD);
    // Refused passwords are not kept: the doctor still sees no way to root.
    expect((await call<DoctorReportView>('setup:doctor', { hostId: userId })).access.mode).toBe('none');

    // As root the password is not needed (nor kept); the run goes on and nothing shows it.
    const { setupId } = await call<{ setupId: string }>('setup:run', { hostId, recipes: ['runc'], params: PARAMS, sudoPassword: SUDO_PASSWORD });
    expect((await finished(setupId, 120_000)).status).toBe('complete');

    expect(JSON.stringify(events)).not.toContain(SUDO_PASSWORD);
    const files = readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile()).map((f) => join(f.parentPath, f.name));
    for (const file of files) if (statSync(file).size < 10_000_000) expect(readFileSync(file, 'utf8')).not.toContain(SUDO_PASSWORD);
  }, 180_000);
});
