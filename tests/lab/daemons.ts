// containerd and dockerd for tests, started the way the setup engine starts them on a host
// without systemd (services/setup/daemon-commands.ts: setsid, pidfile and log under
// {labDir}/daemons, a bounded wait for the daemon to answer), from the recipes' own daemon
// definitions. Everything lives under one temp folder: sockets, state, data, configs.
// dockerd uses this containerd (--containerd), as Debian's docker.io does with the system one.

import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandLine } from '../../shared/shell-quote.ts';
import { containerd as containerdRecipe } from '../../knowledge/recipes/containerd.ts';
import { docker as dockerRecipe } from '../../knowledge/recipes/docker.ts';
import { Daemon } from '../../knowledge/schema.ts';
import { daemonArgv, daemonFiles } from '../../services/setup/daemon-commands.ts';
import type { Params } from '../../services/setup/template.ts';

export interface TestDaemons {
  root: string;
  containerdAddress: string;
  /** As `docker -H` takes it. */
  dockerHost: string;
  daemonJson: string;
  /** dockerd's pid as it writes it itself (--pidfile): still right after a restart by the code under test. */
  dockerdPid(): number | null;
  /** The CRI plugin's CNI conf dir (under the temp root). */
  cniConfDir: string;
  /** Stops both daemons, then kills what they left (shims, runsc sandboxes), the folders under /run they made and the CNI bridge and namespaces. */
  stop(): void;
}

/** A CRI runtime handler: containerd's runtimes.NAME table. */
export interface CriHandlerConfig {
  /** Default io.containerd.runc.v2. */
  runtimeType?: string;
  /** The OCI binary behind the runc shim (options.BinaryName); with `args`, a wrapper script adding them is written and named instead. */
  binary?: string;
  args?: string[];
}

/** A CNI network for the CRI plugin's pods: one bridge, addresses from host-local. */
export interface CniNetworkConfig {
  /** The Linux bridge the plugin creates (≤ 15 bytes; one per test process, so suites running at once keep apart); deleted at stop. */
  bridge: string;
  /** host-local's range, e.g. 10.213.0.0/24. */
  subnet: string;
}

export interface DaemonOptions {
  /**
   * Start containerd with its CRI plugin and this configuration (default: the plugin is disabled).
   * `cni`: a bridge network from Debian's plugins (/usr/lib/cni) in the conf dir; without it the
   * conf dir stays empty and only pods on the host network can run.
   */
  cri?: { sandboxImage: string; handlers: Record<string, CriHandlerConfig>; cni?: CniNetworkConfig };
  /** Start dockerd too (default true). */
  docker?: boolean;
}

// Folders the daemons create outside the temp root; removed at the end only if they did not exist before.
const RUN_DIRS = ['/run/containerd/runc', '/run/containerd/s', '/run/containerd/fifo', '/run/containerd', '/run/docker/plugins', '/run/docker'];

const CONTAINERD_CONFIG = 'version = 2\n# No pods in these tests: the CRI plugin only slows the start down.\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n';

/** runc state of the CRI plugin's containers: shared by every containerd on the host, so only what a test added is removed. */
const K8S_RUNC_STATE = '/run/containerd/runc/k8s.io';
/** Debian's containernetworking-plugins. */
const CNI_BIN_DIR = '/usr/lib/cni';

/**
 * containerd's CRI plugin for tests: the given sandbox image and handlers, the CNI conf dir
 * under the temp root (empty unless `cni` is given), the streaming server on a
 * loopback port of the kernel's choosing. restrict_oom_score_adj: this lab runs without
 * CAP_SYS_RESOURCE, so the sandbox's oom_score_adj of -998 cannot be set ("setting
 * oom_score_adj … permission denied" from runsc, "can't get final child's PID" from runc).
 */
function criConfig(root: string, cri: NonNullable<DaemonOptions['cri']>): string {
  const q = (value: string) => JSON.stringify(value);
  const lines = [
    'version = 2',
    '[plugins."io.containerd.grpc.v1.cri"]',
    `  sandbox_image = ${q(cri.sandboxImage)}`,
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    '  restrict_oom_score_adj = true',
    '[plugins."io.containerd.grpc.v1.cri".cni]',
    `  bin_dir = ${q(cri.cni ? CNI_BIN_DIR : join(root, 'cni', 'bin'))}`,
    `  conf_dir = ${q(join(root, 'cni', 'conf'))}`,
    '[plugins."io.containerd.grpc.v1.cri".containerd]',
    '  snapshotter = "overlayfs"',
  ];
  for (const [name, handler] of Object.entries(cri.handlers)) {
    lines.push(`[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${q(name)}]`, `  runtime_type = ${q(handler.runtimeType ?? 'io.containerd.runc.v2')}`);
    let binary = handler.binary;
    if (binary && handler.args && handler.args.length > 0) {
      // The runc shim passes no flags to BinaryName: they travel in a script, as for ctr --runc-binary.
      const wrapper = join(root, 'bin', `${name}-cri`);
      writeFileSync(wrapper, `#!/bin/sh\nexec ${commandLine([binary, ...handler.args])} "$@"\n`);
      chmodSync(wrapper, 0o755);
      binary = wrapper;
    }
    if (binary) lines.push(`[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${q(name)}.options]`, `  BinaryName = ${q(binary)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The smallest bridge network: no gateway address on the bridge (so the bridge plugin does
 * not turn on the host's ip_forward) and no masquerading (the host's NAT table stays as it
 * is); host-local keeps its leases under the temp root.
 */
function cniConflist(root: string, cni: CniNetworkConfig): string {
  const network = {
    cniVersion: '1.0.0',
    name: `${cni.bridge}-net`,
    plugins: [{
      type: 'bridge', bridge: cni.bridge, isGateway: false, ipMasq: false, hairpinMode: false,
      ipam: { type: 'host-local', ranges: [[{ subnet: cni.subnet }]], dataDir: join(root, 'cni', 'ipam') },
    }],
  };
  return `${JSON.stringify(network, null, 2)}\n`;
}

/** `namespaces`: the containerd namespaces the tests use, whose runc state under /run is removed at the end. */
export function startDaemons(root: string, daemonJsonContent: string, namespaces: readonly string[], options: DaemonOptions = {}): TestDaemons {
  const preexisting = new Set(RUN_DIRS.filter((d) => existsSync(d)));
  const shimSocketsBefore = new Set(listShimSockets());
  const k8sStateBefore = new Set(listDir(K8S_RUNC_STATE));
  for (const dir of ['bin', 'cni/bin', 'cni/conf']) mkdirSync(join(root, dir), { recursive: true });
  for (const dir of ['etc', 'containerd', 'docker', 'lab']) mkdirSync(join(root, dir), { recursive: true });
  const params: Params = {
    labDir: join(root, 'lab'),
    containerdConfig: join(root, 'etc', 'containerd.toml'),
    containerdRoot: join(root, 'containerd', 'root'),
    containerdState: join(root, 'containerd', 'state'),
    containerdAddress: join(root, 'containerd', 'containerd.sock'),
    dockerDaemonJson: join(root, 'etc', 'daemon.json'),
    dockerDataRoot: join(root, 'docker', 'data'),
    dockerExecRoot: join(root, 'docker', 'exec'),
    dockerPidfile: join(root, 'docker', 'dockerd.pid'),
    dockerSocket: join(root, 'docker', 'docker.sock'),
    // No iptables and no bridge inside this sandboxed VM (lab-environment.md).
    dockerdExtraArgs: ['--iptables=false', '--bridge=none', '--containerd', join(root, 'containerd', 'containerd.sock')],
  };
  writeFileSync(String(params.containerdConfig), options.cri ? criConfig(root, options.cri) : CONTAINERD_CONFIG);
  const cni = options.cri?.cni;
  if (cni) writeFileSync(join(root, 'cni', 'conf', '10-runtime-lab-test.conflist'), cniConflist(root, cni));
  const withDocker = options.docker ?? true;
  writeFileSync(String(params.dockerDaemonJson), daemonJsonContent);
  const containerd = Daemon.parse(containerdRecipe.daemons?.[0]);
  const dockerd = Daemon.parse(dockerRecipe.daemons?.[0]);

  const control = (daemon: Daemon, action: 'start' | 'stop') => {
    const [command, ...args] = daemonArgv(daemon, action, params, 'other');
    const result = spawnSync(command!, args, { encoding: 'utf8', timeout: 150_000 });
    if (result.status !== 0) {
      const log = readOptional(daemonFiles(daemon, params).log);
      throw new Error(`${daemon.id} ${action} failed (${result.status ?? result.signal}): ${result.stderr}${result.stdout}\n${log.slice(-2000)}`);
    }
  };
  const dockerdPid = () => {
    const pid = Number(readOptional(String(params.dockerPidfile)).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  };

  control(containerd, 'start');
  try {
    if (withDocker) control(dockerd, 'start');
  } catch (err) {
    control(containerd, 'stop');
    throw err;
  }

  return {
    root,
    containerdAddress: String(params.containerdAddress),
    dockerHost: `unix://${String(params.dockerSocket)}`,
    daemonJson: String(params.dockerDaemonJson),
    dockerdPid,
    cniConfDir: join(root, 'cni', 'conf'),
    stop() {
      // A dockerd restarted by the code under test is not the one the setup pidfile names.
      const pid = dockerdPid();
      if (pid !== null) writeFileSync(daemonFiles(dockerd, params).pidfile, `${pid}\n`);
      try {
        if (withDocker) control(dockerd, 'stop');
      } finally {
        control(containerd, 'stop');
        killLeftovers(root);
        unmountUnder(root);
        removeDeadShimSockets(shimSocketsBefore);
        for (const ns of namespaces) rmSync(`/run/containerd/runc/${ns}`, { recursive: true, force: true });
        for (const entry of listDir(K8S_RUNC_STATE).filter((e) => !k8sStateBefore.has(e))) {
          killInit(join(K8S_RUNC_STATE, entry));
          rmSync(join(K8S_RUNC_STATE, entry), { recursive: true, force: true });
        }
        if (k8sStateBefore.size === 0) spawnSync('rmdir', [K8S_RUNC_STATE]);
        if (cni) removeCniLeftovers(cni.bridge);
        for (const dir of RUN_DIRS.filter((d) => !preexisting.has(d))) spawnSync('rmdir', [dir]);
      }
    },
  };
}

/** Every process whose command line mentions the temp root (shims, runsc-sandbox, runsc-gofer), SIGKILLed. */
function killLeftovers(root: string): void {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes(root)) {
      try {
        process.kill(Number(name), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/**
 * The init of a container runc still records (a pod's pause, in its own PID namespace, does
 * not die with its shim and does not name the temp root), SIGKILLed if it is still that process.
 */
function killInit(stateDir: string): void {
  let state: { init_process_pid?: unknown; init_process_start?: unknown };
  try {
    state = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as typeof state;
  } catch {
    return;
  }
  const pid = Number(state.init_process_pid);
  const stat = readOptional(`/proc/${pid}/stat`);
  // Field 22 (start time), counted after the comm's closing parenthesis.
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  if (Number.isInteger(pid) && pid > 1 && start !== undefined && start === String(state.init_process_start)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** Mounts a killed sandbox left under the temp root (CRI's /dev/shm, task rootfs), deepest first. */
function unmountUnder(root: string): void {
  const points = readOptional('/proc/self/mountinfo').split('\n').map((line) => line.split(' ')[4] ?? '').filter((p) => p.startsWith(`${root}/`));
  for (const point of points.reverse()) spawnSync('umount', ['-l', point]);
}

/**
 * The bridge, and the network namespaces of pods the tests did not remove: those whose veth
 * hangs on this bridge (`ip link` names the peer's namespace). Deleting a namespace deletes
 * its veth; namespaces of other suites' pods, on other bridges, are left alone.
 */
function removeCniLeftovers(bridge: string): void {
  const ports = spawnSync('ip', ['-o', 'link', 'show', 'master', bridge], { encoding: 'utf8' }).stdout ?? '';
  for (const [, netns] of ports.matchAll(/ link-netns (\S+)/g)) spawnSync('ip', ['netns', 'delete', netns!]);
  spawnSync('ip', ['link', 'delete', bridge, 'type', 'bridge']);
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function listShimSockets(): string[] {
  try {
    return readdirSync('/run/containerd/s').map((f) => `/run/containerd/s/${f}`);
  } catch {
    return [];
  }
}

/**
 * Shim sockets that appeared during the tests and that no process binds any more (a shim
 * killed at stop leaves its socket). Sockets of live shims — another suite's — stay.
 */
function removeDeadShimSockets(before: ReadonlySet<string>): void {
  const bound = readOptional('/proc/net/unix');
  for (const socket of listShimSockets()) {
    if (!before.has(socket) && !bound.includes(socket)) rmSync(socket, { force: true });
  }
}

function readOptional(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
