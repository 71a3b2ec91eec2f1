import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnownHostsFile } from '../services/transport/known-hosts.ts';
import { createLocalTransport } from '../services/transport/local-transport.ts';
import { connectSsh } from '../services/transport/ssh-transport.ts';
import type { ExecOptions, Transport } from '../services/transport/transport.ts';
import { probeHost, type HostContext } from '../services/setup/host-context.ts';
import { controlDaemon, restoreConfigs } from '../services/setup/maintenance.ts';
import { planSetup, type PlanOptions } from '../services/setup/plan.ts';
import { formatPlan } from '../services/setup/format-plan.ts';
import { runSetup, type SetupEvent, type SetupResult } from '../services/setup/run-setup.ts';
import { verifyRuntimes } from '../services/setup/verify.ts';
import { startSshd, type TestSshd } from './lab/sshd.ts';
import { labParams } from './lab/setup-params.ts';
import { CAP_SYS_RESOURCE, hasCapability } from './lab/process-state.ts';

// The setup engine for real on this machine (Debian 12, root): runc, crun, runsc,
// containerd and Docker recipes through the local transport and through a real sshd on
// 127.0.0.1. containerd and dockerd run with their state, sockets and configs under a
// temp folder (no clash with other tests or a system daemon) and are stopped at the end;
// the config files' originals are restored and compared byte for byte.

const root = mkdtempSync(join(tmpdir(), 'rlab-setup-'));
const PARAMS = labParams(root);
const FULL: PlanOptions = { recipes: ['runc', 'runsc', 'containerd', 'docker'], params: PARAMS };
// Odd spacing on purpose: a restore must give back these exact bytes, not a re-serialised JSON.
const ORIGINAL_DAEMON_JSON = '{ "debug" :false,\n\t"log-level": "warn" }\n';
const ORIGINAL_CONTAINERD = 'version = 2\n\n[plugins]\n  [plugins."io.containerd.grpc.v1.cri"]\n    [plugins."io.containerd.grpc.v1.cri".cni]\n      bin_dir = "/usr/lib/cni"\n';

// Folders the daemons create outside the temp root; removed at the end only if this file created them.
const RUN_DIRS = ['/run/containerd/runc', '/run/containerd/s', '/run/containerd', '/run/docker/plugins', '/run/docker'];
const preexisting = new Set(RUN_DIRS.filter((d) => existsSync(d)));

const local = createLocalTransport();
let context: HostContext;
let sshd: TestSshd;

beforeAll(async () => {
  mkdirSync(`${root}/etc/docker`, { recursive: true });
  mkdirSync(`${root}/etc/containerd`, { recursive: true });
  writeFileSync(PARAMS.dockerDaemonJson as string, ORIGINAL_DAEMON_JSON);
  writeFileSync(PARAMS.containerdConfig as string, ORIGINAL_CONTAINERD);
  context = await probeHost(local);
  sshd = await startSshd();
});

afterAll(async () => {
  for (const daemon of ['dockerd', 'containerd']) await controlDaemon(local, context, FULL, daemon, 'stop').catch(() => undefined);
  await sshd?.stop();
  await local.close();
  rmSync(root, { recursive: true, force: true });
  // ctr's runc state for the "runtime-lab" namespace is this suite's own.
  rmSync('/run/containerd/runc/runtime-lab', { recursive: true, force: true });
  for (const dir of RUN_DIRS.filter((d) => !preexisting.has(d))) spawnSync('rmdir', [dir]);
});

function collect(events: SetupEvent[]) {
  return (event: SetupEvent) => events.push(event);
}

function outcomes(result: SetupResult): Record<string, string> {
  return Object.fromEntries(result.steps.map((s) => [s.key, s.outcome]));
}

function sshTransport(): Promise<Transport> {
  return connectSsh({
    endpoint: { host: sshd.host, port: sshd.port, user: 'root', auth: { method: 'key', keyPath: sshd.keys.plain, rememberSecret: false } },
    knownHosts: new KnownHostsFile(join(root, 'known_hosts')),
    acceptNewHostKey: true,
  });
}

/** The local transport, recording every argv it is asked to run. */
function recording(inner: Transport, log: string[][]): Transport {
  return {
    ...inner,
    exec(argv: readonly string[], options?: ExecOptions) {
      log.push([...argv]);
      return inner.exec(argv, options);
    },
  };
}

describe('setup on this machine through the local transport', () => {
  let first: SetupResult;

  it('sets up runc, runsc, containerd and Docker, fixing runsc\'s network by itself', async () => {
    first = await runSetup(local, context, FULL, { fresh: true });
    expect(first.failure).toBeNull();
    expect(first.status).toBe('complete');
    expect(first.autoFixes.map((f) => f.signatureId)).toContain('runsc-network-root-netns');
    expect(first.params.runscNetwork).toBe('none');
    const o = outcomes(first);
    for (const key of ['runc/run-direct', 'runc/run-ctr', 'runc/run-docker', 'runsc/run-direct', 'runsc/run-ctr', 'runsc/run-docker', 'containerd/run-ctr', 'docker/run']) {
      expect(o[key], key).toBe('applied');
    }
    expect(o['docker/daemon-json']).toBe('applied');
    const daemonJson = JSON.parse(readFileSync(PARAMS.dockerDaemonJson as string, 'utf8'));
    expect(daemonJson).toMatchObject({ debug: false, 'log-level': 'warn', 'storage-driver': 'overlay2' });
    expect(daemonJson.runtimes.runsc.runtimeArgs).toEqual([`--platform=${String(first.params.runscPlatform)}`, '--network=none']);
  }, 600_000);

  it('a second run changes nothing and says so; the dry run lists exactly what runs', async () => {
    const executed: string[][] = [];
    const events: SetupEvent[] = [];
    const second = await runSetup(recording(local, executed), context, FULL, { onEvent: collect(events) });
    expect(second.status).toBe('complete');
    expect(second.autoFixes).toEqual([]);
    const plan = planSetup(context, { ...FULL, params: { ...PARAMS, runscNetwork: 'none' } });
    for (const step of plan.steps) {
      const outcome = outcomes(second)[step.key];
      if (step.skip !== null) expect(outcome, step.key).toBe('skipped');
      else if (step.phase === 'step') expect(outcome, step.key).toBe('already-done');
      else expect(outcome, step.key).toBe('applied');
    }
    expect(events.filter((e) => e.type === 'edit' && e.changed)).toEqual([]);

    // Every command the runner executed is in the plan, byte for byte (the journal's own I/O aside).
    const planned = new Set(plan.steps.flatMap((s) => [s.check, ...s.apply, ...s.edits.flatMap((e) => [e.read, e.backup, e.write]), ...s.afterChange])
      .filter((c) => c !== null).map((c) => JSON.stringify(c.argv)));
    const journalIo = (argv: string[]) => argv.some((a) => a.includes(`${String(PARAMS.labDir)}/setup`)) && ['cat', 'mkdir', 'mv'].includes(argv[0]!);
    const unplanned = executed.filter((argv) => !journalIo(argv) && !planned.has(JSON.stringify(argv)));
    expect(unplanned).toEqual([]);
    expect(executed.length).toBeGreaterThan(20);
    const dryRun = formatPlan(plan, local.label);
    for (const step of plan.steps.filter((s) => s.skip === null)) for (const c of step.apply) expect(dryRun).toContain(c.display.split('\n')[0]);
  }, 300_000);

  it('containerd\'s restrict_oom_score_adj follows the probe; with it off, verify recognises the pod failure, fixes it and retries', async () => {
    // The probe tries -998 as root: it works exactly when root holds CAP_SYS_RESOURCE.
    const lowerable = context.probes.oomScoreAdjLowerable;
    expect(lowerable).toBe(hasCapability(CAP_SYS_RESOURCE));
    expect(first.params.criRestrictOomScoreAdj).toBe(lowerable ? 'false' : 'true');
    expect(readFileSync(PARAMS.containerdConfig as string, 'utf8')).toContain(`restrict_oom_score_adj = ${lowerable ? 'false' : 'true'}`);
    const [chosen] = await verifyRuntimes(local, context, { runtimes: ['runc'], params: PARAMS });
    expect(chosen!.cells.cri).toMatchObject({ status: 'works', autoFixed: null });
    if (lowerable) return;

    // Off by hand: pods ask for -998 again and RunPodSandbox fails in runc.
    const off = { ...PARAMS, criRestrictOomScoreAdj: 'false' };
    const rewritten = await runSetup(local, context, { recipes: ['containerd'], params: off }, { fresh: true });
    expect(rewritten.status).toBe('complete');
    expect(outcomes(rewritten)['containerd/config']).toBe('applied');
    expect(readFileSync(PARAMS.containerdConfig as string, 'utf8')).toContain('restrict_oom_score_adj = false');
    const [fixed] = await verifyRuntimes(local, context, { runtimes: ['runc'], params: off });
    const cri = fixed!.cells.cri;
    expect(cri).toMatchObject({ status: 'works', autoFixed: 'set restrict_oom_score_adj = true in containerd\'s CRI config, restart containerd and retry' });
    expect(cri.reason).toMatch(/handler "runc" printed "Hello" \(RunPodSandbox \d+ ms, .*\), after the auto-fix: set restrict_oom_score_adj/);
    expect(readFileSync(PARAMS.containerdConfig as string, 'utf8')).toContain('restrict_oom_score_adj = true');
  }, 600_000);

  it('crun fails on this hybrid-cgroup host and the failure is recognised and explained', async () => {
    const events: SetupEvent[] = [];
    const result = await runSetup(local, context, { recipes: ['crun'], params: PARAMS }, { onEvent: collect(events), fresh: true });
    if (!context.probes.unifiedControllers) {
      expect(result.status).toBe('complete');
      return;
    }
    expect(result.status).toBe('failed');
    expect(result.failure?.key).toBe('crun/run-direct');
    expect(result.failure?.output).toContain('cgroups in hybrid mode not supported, drop all controllers from cgroupv2');
    expect(result.failure?.diagnosis?.signature.id).toBe('crun-hybrid-cgroup');
    expect(result.failure?.diagnosis?.signature.meaning).toMatch(/hybrid/);
    expect(result.failure?.diagnosis?.signature.fix).toMatch(/systemd\.unified_cgroup_hierarchy=1/);
    expect(result.autoFixes).toEqual([]);
    expect(events.some((e) => e.type === 'output' && e.chunk.includes('hybrid mode'))).toBe(true);
  }, 120_000);

  it('cancelling a hanging step kills it and runs its cleanup', async () => {
    // The hang to cancel is runsc's KVM platform under nested virtualization (these machines).
    if (!(context.facts.kvm.usable === true && context.facts.hypervisor !== 'none')) return;
    const controller = new AbortController();
    const started = Date.now();
    const result = await runSetup(local, context, { recipes: ['runsc'], params: { ...PARAMS, runscPlatform: 'kvm', runscNetwork: 'none' } }, {
      fresh: true,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'command' && e.key === 'runsc/run-direct') setTimeout(() => controller.abort(), 1_500);
      },
    });
    expect(result.status).toBe('cancelled');
    expect(outcomes(result)['runsc/run-direct']).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(25_000);
    const list = spawnSync('runsc', ['--root', `${String(PARAMS.labDir)}/runsc-state`, 'list', '-quiet'], { encoding: 'utf8' });
    expect(list.stdout).not.toContain('rlab-verify-runsc-direct');
  }, 120_000);
});

describe('setup over SSH (a real sshd on 127.0.0.1)', () => {
  it('runs the same recipes over SSH: everything is already done', async () => {
    const transport = await sshTransport();
    try {
      const sshContext = await probeHost(transport);
      const result = await runSetup(transport, sshContext, FULL);
      expect(result.status).toBe('complete');
      expect(result.steps.filter((s) => s.outcome === 'applied').every((s) => s.key.split('/')[1]!.startsWith('run') || ['plugins', 'info'].includes(s.key.split('/')[1]!))).toBe(true);
      expect(outcomes(result)['runsc/run-docker']).toBe('applied');
    } finally {
      await transport.close();
    }
  }, 300_000);

  it('resumes at the interrupted step after a dropped connection; runsc\'s KVM-platform hang is switched to ptrace', async () => {
    const kvmNested = context.facts.kvm.usable === true && context.facts.hypervisor !== 'none';
    const options: PlanOptions = { recipes: ['runsc'], params: { ...PARAMS, runscPlatform: kvmNested ? 'kvm' : 'ptrace', runscNetwork: 'none' } };
    const first = await sshTransport();
    const dropped = runSetup(first, await probeHost(first), options, {
      fresh: true,
      onEvent: (e) => {
        if (e.type === 'command' && e.key === 'runsc/run-direct') setTimeout(() => void first.close(), 1_000);
      },
    });
    await expect(dropped).rejects.toThrow();

    const second = await sshTransport();
    try {
      const events: SetupEvent[] = [];
      const result = await runSetup(second, await probeHost(second), options, { onEvent: collect(events) });
      expect(events.find((e) => e.type === 'plan')).toMatchObject({ resumedFrom: 'runsc/run-direct' });
      expect(outcomes(result)['runsc/install-debian']).toBe('resumed');
      expect(result.status).toBe('complete');
      if (kvmNested) {
        expect(result.autoFixes.map((f) => f.signatureId)).toEqual(['runsc-kvm-platform-hang']);
        expect(result.params.runscPlatform).toBe('ptrace');
      }
    } finally {
      await second.close();
    }
  }, 300_000);
});

describe('restore', () => {
  it('puts back the original daemon.json and config.toml byte for byte', async () => {
    const restored = await restoreConfigs(local, context, String(PARAMS.labDir));
    expect(restored).toEqual(expect.arrayContaining([`restored ${String(PARAMS.dockerDaemonJson)}`, `restored ${String(PARAMS.containerdConfig)}`]));
    expect(readFileSync(PARAMS.dockerDaemonJson as string, 'utf8')).toBe(ORIGINAL_DAEMON_JSON);
    expect(readFileSync(PARAMS.containerdConfig as string, 'utf8')).toBe(ORIGINAL_CONTAINERD);
    // The runsc wrapper did not exist before the setup: restoring removes it.
    expect(restored).toContain(`removed ${String(PARAMS.runscCtrWrapper)}`);
    expect(existsSync(PARAMS.runscCtrWrapper as string)).toBe(false);
    expect(await restoreConfigs(local, context, String(PARAMS.labDir))).toEqual([]);
  });
});
