import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CriClient } from '../agent/cri/cri-client.ts';
import { ensurePauseImage } from '../agent/cri/pause-image.ts';
import { startDaemonSampler } from '../agent/daemon-sampler.ts';
import { CRI_STEPS } from '../shared/model/plan.ts';
import type { AgentEvent, Sample } from '../shared/model/run-record.ts';
import { startDaemons, type TestDaemons } from './lab/daemons.ts';
import { createAgentWorkspace, logs, readEvents, samplesOf, type AgentWorkspace } from './lab/agent-process.ts';

// Method "cri" as it runs on a lab host: the bundled agent speaks CRI v1 over gRPC (its own
// client) to a real containerd started for this file with the CRI plugin, handlers runc and
// runsc (the runc shim with a runsc wrapper), and a sandbox image name that does not exist
// yet — the agent builds its pause image offline and imports it under that name. Its CNI conf
// dir holds a bridge network (Debian's plugins), used by the plans that ask for cri.network cni.

const SANDBOX_IMAGE = 'runtime-lab/pause:cri-test';
const RUNSC_ARGS = ['--network=host', '--platform=ptrace'];
/** A bridge of this process's own: another suite's pods (on theirs) do not blur what this one left. */
const CNI = { bridge: `rlab${process.pid}`.slice(0, 15), subnet: '10.213.0.0/24' };

let ws: AgentWorkspace;
let daemons: TestDaemons;
let client: CriClient;

beforeAll(async () => {
  ws = await createAgentWorkspace('rlab-cri-');
  const runsc = spawnSync('sh', ['-c', 'command -v runsc'], { encoding: 'utf8' }).stdout.trim() || '/usr/bin/runsc';
  daemons = startDaemons(path.join(ws.work, 'lab'), '{}\n', [], {
    docker: false,
    cri: { sandboxImage: SANDBOX_IMAGE, handlers: { runc: {}, runsc: { binary: runsc, args: RUNSC_ARGS } }, cni: CNI },
  });
  client = new CriClient(daemons.containerdAddress);
}, 180_000);

afterAll(() => {
  client?.close();
  daemons?.stop();
  ws?.remove();
}, 180_000);

function criPlan(runtimes: object[], extra: object = {}) {
  return { method: 'cri', runtimes, iterations: 3, warmups: 1, cri: { address: daemons.containerdAddress }, ...extra };
}

function finished(events: AgentEvent[]): Extract<AgentEvent, { type: 'finished' }> {
  const last = events.at(-1);
  if (last?.type !== 'finished') throw new Error(`no finished event: ${JSON.stringify(events.slice(-3))}`);
  return last;
}

/** Samples grouped per runtime and iteration (warm-ups apart). */
function iterations(samples: Sample[]): Map<string, Sample[]> {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const key = `${s.runtime}/${s.warmup ? 'w' : 'm'}${s.iteration}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return groups;
}

async function podsLeft(): Promise<number> {
  return (await client.listPodSandbox({}, { timeoutMs: 10_000 })).length;
}

/** The bridge's ports (the host ends of its pods' veths), by name. */
function bridgePorts(bridge: string): string[] {
  const out = spawnSync('ip', ['-o', 'link', 'show', 'master', bridge], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter(Boolean).map((line) => line.split(': ')[1]!.split('@')[0]!);
}

const POD_LIMITS = { timeoutMs: 60_000 };

/** A pod on the host network made through the agent's client, outside any run (its sandbox image imported as a run would, when missing). */
async function startHostPod(name: string): Promise<string> {
  const scratch = path.join(ws.work, `pod-${name}`);
  const ctr = ['ctr', '--address', daemons.containerdAddress, '--namespace', 'k8s.io'];
  const present = (await client.imageStatus(SANDBOX_IMAGE, POD_LIMITS)) !== null;
  await ensurePauseImage(ctr, SANDBOX_IMAGE, present, 'overlayfs', scratch, { ...POD_LIMITS, scratchDir: scratch });
  return client.runPodSandbox({
    metadata: { name, uid: name, namespace: 'someone-else', attempt: 0 },
    linux: { securityContext: { namespaceOptions: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } },
  }, 'runc', POD_LIMITS);
}

async function removePod(podId: string): Promise<void> {
  await client.stopPodSandbox(podId, POD_LIMITS);
  await client.removePodSandbox(podId, POD_LIMITS);
}

/** The pid of the containerd shim serving the pod (its -id is the sandbox ID). */
function shimPidOf(podId: string): number | null {
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (path.basename(argv[0] ?? '').startsWith('containerd-shim') && argv[argv.indexOf('-id') + 1] === podId) return Number(name);
  }
  return null;
}

describe('method cri against a real containerd CRI plugin', () => {
  it('times each step of the pod lifecycle on runc, and the whole iteration around them', async () => {
    const dir = ws.runDirWith('runc', criPlan([{ name: 'runc', binary: 'runc' }]));
    const result = await ws.run('run', '--run-dir', dir);
    const events = readEvents(dir);
    expect(finished(events), `${result.stderr}\n${logs(events).join('\n')}`).toMatchObject({ status: 'completed' });

    const samples = samplesOf(events);
    expect(new Set(samples.map((s) => s.seq)).size).toBe(samples.length);
    const groups = iterations(samples);
    expect(groups.size).toBe(4);
    for (const [key, group] of groups) {
      const steps = group.filter((s) => s.step);
      const whole = group.filter((s) => !s.step);
      expect(steps.map((s) => s.step), key).toEqual([...CRI_STEPS]);
      expect(whole, key).toHaveLength(1);
      for (const s of group) expect(s, `${key} ${s.step ?? 'whole'}: ${s.error ?? ''}`).toMatchObject({ ok: true, error: null });
      const sum = steps.reduce((total, s) => total + s.durationMs, 0);
      // The steps are disjoint parts of the iteration: the whole holds them plus the client's own time.
      expect(whole[0]!.durationMs, key).toBeGreaterThanOrEqual(sum);
      expect(whole[0]!.exitCode).toBe(0);
      for (const s of steps) expect(s.durationMs).toBeGreaterThan(0);
    }

    const environment = events.find((e) => e.type === 'environment');
    if (environment?.type !== 'environment') throw new Error('no environment event');
    expect(environment.environment.method).toBe('cri');
    expect(environment.environment.cri).toMatchObject({
      address: daemons.containerdAddress, runtimeName: 'containerd', runtimeApiVersion: 'v1', sandboxImage: SANDBOX_IMAGE, network: 'host', snapshotter: 'overlayfs',
    });
    expect(environment.environment.cri?.handlers).toEqual(expect.arrayContaining(['runc', 'runsc']));
    expect(environment.environment.image?.importedWith).toContain('ctr images import');
    expect(environment.environment.runtimes[0]).toMatchObject({ runtime: 'runc', runtimeType: 'io.containerd.runc.v2', cgroupDriver: 'cgroupfs' });
    expect(logs(events).join('\n')).toMatch(/sandbox image runtime-lab\/pause:cri-test: missing, so Runtime Lab's pause/);
    // The pause image now exists under the configured name, as the CRI plugin sees it.
    expect(await client.imageStatus(SANDBOX_IMAGE, { timeoutMs: 10_000 })).not.toBeNull();
    const usage = events.flatMap((e) => (e.type === 'daemon-usage' ? e.samples : []));
    expect(usage.some((r) => r.process === 'containerd')).toBe(true);
    expect(await podsLeft()).toBe(0);
  }, 300_000);

  it('runs the pods on the CNI bridge network: each pod has its own network namespace and an address from the subnet, and nothing is left', async () => {
    const dir = ws.runDirWith('runc-cni', criPlan([{ name: 'runc', binary: 'runc' }], { cri: { address: daemons.containerdAddress, network: 'cni' } }));
    const result = await ws.run('run', '--run-dir', dir);
    const events = readEvents(dir);
    expect(finished(events), `${result.stderr}\n${logs(events).join('\n')}`).toMatchObject({ status: 'completed' });

    const samples = samplesOf(events);
    expect(samples).toHaveLength(4 * (CRI_STEPS.length + 1));
    for (const s of samples) expect(s, `${s.runtime} ${s.iteration} ${s.step ?? 'whole'}: ${s.error ?? ''}`).toMatchObject({ ok: true, error: null });

    const environment = events.find((e) => e.type === 'environment');
    if (environment?.type !== 'environment') throw new Error('no environment event');
    expect(environment.environment.cri).toMatchObject({ network: 'cni', cniConfig: daemons.cniConfDir });
    expect(environment.environment.runtimes[0]?.argv[0]).toMatch(/network=POD/);
    const text = logs(events).join('\n');
    expect(text).not.toMatch(/endpoint is not ready/);
    // The first pod as the endpoint described it: an address host-local gave from the subnet,
    // in a namespace of its own that the CRI plugin made for it.
    const described = /CNI network, first pod \S+: IP (10\.213\.0\.(\d+)) \(PodSandboxStatus\), network namespace POD at (\S+)/.exec(text);
    expect(described, text).not.toBeNull();
    const [, , host, netns] = described!;
    expect(Number(host)).toBeGreaterThan(0);
    expect(netns).toMatch(/\/netns\/cni-/);
    // Gone with its pod: no pod, namespace or veth outlives the run (a pod's namespace holds
    // its veth, whose host end would still be on the bridge).
    expect(existsSync(netns!.replace(/^\/var\/run\//, '/run/'))).toBe(false);
    expect(await podsLeft()).toBe(0);
    expect(spawnSync('ip', ['link', 'show', CNI.bridge]).status, 'the CNI plugin made the bridge').toBe(0);
    expect(bridgePorts(CNI.bridge)).toEqual([]);
  }, 300_000);

  it('counts only the shims of its own pods in the daemon usage, not those of a pod it did not create', async () => {
    // A pod the run did not create, in the same k8s.io namespace: what a kubelet's pods are.
    const foreignPod = await startHostPod('foreign');
    try {
      const foreignShim = shimPidOf(foreignPod);
      expect(foreignShim).not.toBeNull();
      const dir = ws.runDirWith('scoped-sampler', criPlan([{ name: 'runc', binary: 'runc' }], { daemonSampleMs: 50 }));
      const result = await ws.run('run', '--run-dir', dir);
      const events = readEvents(dir);
      expect(finished(events), `${result.stderr}\n${logs(events).join('\n')}`).toMatchObject({ status: 'completed' });
      const usage = events.flatMap((e) => (e.type === 'daemon-usage' ? e.samples : []));
      expect(usage.some((r) => r.process === 'containerd')).toBe(true);
      expect(usage.filter((r) => r.pid === foreignShim)).toEqual([]);
      expect(usage.filter((r) => r.process.startsWith('containerd-shim')).length).toBeGreaterThan(0);
    } finally {
      await removePod(foreignPod);
    }
    expect(await podsLeft()).toBe(0);
  }, 300_000);

  it('daemon sampler: holds a shim\'s readings until its pod becomes the run\'s, and drops those of a pod that never does', async () => {
    const ids = new Set<string>();
    const events: AgentEvent[] = [];
    const scope = { containerdSocket: daemons.containerdAddress, dockerSocket: null, shimNamespaces: ['k8s.io'], shimIds: { ids, waitMs: 600_000 } };
    const sampler = startDaemonSampler({ intervalMs: 50, emit: (e) => events.push(e), scope });
    const mine = await startHostPod('mine');
    const other = await startHostPod('other');
    let knownAt = 0;
    try {
      const mineShim = shimPidOf(mine);
      const otherShim = shimPidOf(other);
      expect(mineShim).not.toBeNull();
      expect(otherShim).not.toBeNull();
      // As RunPodSandbox returning late: the shim has been read a few times before its ID is the run's.
      await new Promise((resolve) => setTimeout(resolve, 400));
      knownAt = Date.now();
      ids.add(mine);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await sampler.stop();
      const usage = events.flatMap((e) => (e.type === 'daemon-usage' ? e.samples : []));
      const mineReadings = usage.filter((r) => r.pid === mineShim);
      expect(mineReadings.filter((r) => Date.parse(r.at) < knownAt).length).toBeGreaterThan(0);
      expect(mineReadings.filter((r) => Date.parse(r.at) > knownAt).length).toBeGreaterThan(0);
      expect(usage.filter((r) => r.pid === otherShim)).toEqual([]);
      expect(usage.some((r) => r.process === 'containerd')).toBe(true);
    } finally {
      await sampler.stop();
      await removePod(mine);
      await removePod(other);
    }
  }, 300_000);

  it('records an unknown runtime handler as failed samples with the CRI error and the configured handlers, and goes on', async () => {
    const dir = ws.runDirWith('unknown-handler', criPlan([{ name: 'runc', binary: 'runc' }, { name: 'nope', binary: 'runc' }], { iterations: 2, warmups: 0 }));
    await ws.run('run', '--run-dir', dir);
    const events = readEvents(dir);
    expect(finished(events).status).toBe('completed');
    const samples = samplesOf(events);
    const nope = samples.filter((s) => s.runtime === 'nope');
    expect(nope).toHaveLength(4); // RunPodSandbox + whole, per iteration: nothing after the failed step
    for (const s of nope) {
      expect(s.ok).toBe(false);
      expect(s.error).toMatch(/no runtime for "nope" is configured/);
      expect(s.error).toMatch(/configured handlers: runc, runsc/);
    }
    expect(samples.filter((s) => s.runtime === 'runc' && !s.step).every((s) => s.ok)).toBe(true);
    expect(logs(events).join('\n')).toMatch(/runtime handler "nope" is not configured/);
    expect(await podsLeft()).toBe(0);
  }, 300_000);

  it('runsc behind the runc shim: the failure is recorded with why, and its stuck pods are removed', async () => {
    const dir = ws.runDirWith('runsc', criPlan([{ name: 'runsc', binary: 'runsc' }], { iterations: 1, warmups: 0, timeoutMs: 8_000 }));
    await ws.run('run', '--run-dir', dir);
    const events = readEvents(dir);
    expect(finished(events).status).toBe('completed');
    const samples = samplesOf(events);
    // The sandbox starts (pause in a gVisor sandbox) and the container is created…
    expect(samples.filter((s) => s.step === 'RunPodSandbox' || s.step === 'CreateContainer').every((s) => s.ok)).toBe(true);
    // …but the runc shim never sees the container's exit: StartContainer's wait runs out.
    const start = samples.find((s) => s.step === 'StartContainer');
    expect(start).toMatchObject({ ok: false, timedOut: true });
    expect(start?.error).toMatch(/still CONTAINER_RUNNING/);
    expect(samples.find((s) => !s.step)).toMatchObject({ ok: false, timedOut: true });
    expect(logs(events).join('\n')).toMatch(/runsc behind containerd's runc shim .* containerd-shim-runsc-v1/);
    expect(await podsLeft()).toBe(0);
  }, 300_000);

  it('says so when the socket is missing', async () => {
    const dir = ws.runDirWith('no-socket', criPlan([{ name: 'runc', binary: 'runc' }], { cri: { address: path.join(ws.work, 'nothing.sock') } }));
    await ws.run('run', '--run-dir', dir);
    const end = finished(readEvents(dir));
    expect(end.status).toBe('failed');
    expect(end.message).toMatch(/no CRI socket at .*nothing\.sock: is containerd \(or cri-o\) running/);
  }, 120_000);

  it('explains a containerd whose CRI plugin is disabled', async () => {
    const plain = startDaemons(path.join(ws.work, 'plain'), '{}\n', [], { docker: false });
    try {
      const dir = ws.runDirWith('no-plugin', criPlan([{ name: 'runc', binary: 'runc' }], { cri: { address: plain.containerdAddress } }));
      await ws.run('run', '--run-dir', dir);
      const end = finished(readEvents(dir));
      expect(end.status).toBe('failed');
      expect(end.message).toMatch(/unknown service runtime\.v1\.RuntimeService/);
      expect(end.message).toMatch(/CRI plugin \(io\.containerd\.grpc\.v1\.cri\) is disabled .* disabled_plugins/);
    } finally {
      plain.stop();
    }
  }, 180_000);
});
