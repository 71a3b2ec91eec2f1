import type { Recipe } from '../schema.ts';
import { aptInstall, haveCommands } from './apt.ts';

// containerd with its CRI plugin: the daemon behind ctr and every CRI client (Runtime Lab's own, crictl). The recipe owns
// config.toml (the distribution's original stays in the backup): TOML tables cannot be
// declared twice, so runtime recipes append their own runtime tables as separate blocks.
//
// restrict_oom_score_adj: the CRI plugin gives every pod sandbox oom_score_adj -998. Lowering
// a score needs CAP_SYS_RESOURCE, which a host inside a container or an unprivileged VM lacks
// even as root: then every RunPodSandbox fails (runc: "can't get final child's PID from pipe:
// EOF", runsc: "setting oom_score_adj … permission denied"). With the option containerd never
// asks for a score below its own. The chooser sets it from the oom-score-adj probe; the
// cri-oom-score-adj-* signatures set it when the probe could not run.

const CONFIG = `version = 2

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{{sandboxImage}}"
  restrict_oom_score_adj = {{criRestrictOomScoreAdj}}

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "{{cniBinDir}}"
  conf_dir = "{{cniConfDir}}"

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "{{containerdSnapshotter}}"
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"`;

// bridge + host-local + loopback: what "crictl runp" needs even without Kubernetes.
const CNI = {
  cniVersion: '0.4.0',
  name: 'runtime-lab',
  plugins: [
    { type: 'bridge', bridge: 'rlab0', isGateway: true, ipMasq: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.88.0.0/16' }]], routes: [{ dst: '0.0.0.0/0' }] } },
    { type: 'portmap', capabilities: { portMappings: true } },
  ],
};

export const containerd: Recipe = {
  id: 'containerd',
  title: 'containerd (ctr and CRI)',
  version: '1.1.0',
  kind: 'component',
  tool: 'containerd',
  appliesTo: [{ distro: 'debian', versions: ['11', '12'] }, { distro: 'ubuntu', versions: ['20.04', '22.04', '24.04'] }],
  requires: ['oci-bundle'],
  params: [
    { name: 'containerdConfig', description: 'containerd configuration file', default: '/etc/containerd/config.toml' },
    { name: 'containerdRoot', description: 'containerd persistent state (--root)', default: '/var/lib/containerd' },
    { name: 'containerdState', description: 'containerd runtime state (--state)', default: '/run/containerd' },
    { name: 'containerdAddress', description: 'containerd socket (--address)', default: '/run/containerd/containerd.sock' },
    { name: 'containerdSnapshotter', description: 'CRI snapshotter: overlayfs, native, or devmapper (Kata with Firecracker)', default: 'overlayfs' },
    { name: 'sandboxImage', description: 'pod sandbox ("pause") image; offline hosts import it and name it here', default: 'registry.k8s.io/pause:3.6' },
    {
      name: 'criRestrictOomScoreAdj',
      description: 'CRI restrict_oom_score_adj: true keeps pods from asking for a lower oom_score_adj than containerd\'s own (needed where root cannot lower it)',
      default: 'false',
      chooser: 'criRestrictOomScoreAdj',
      values: ['false', 'true'],
    },
    { name: 'criPodNetwork', description: 'pod network for CRI: cni (bridge config + plugins) or host (pods on the host network only)', default: 'cni' },
    { name: 'cniConfDir', description: 'CNI configuration folder', default: '/etc/cni/net.d' },
    { name: 'cniBinDir', description: 'CNI plugins folder (Debian\'s containernetworking-plugins)', default: '/usr/lib/cni' },
  ],
  prerequisites: [{ id: 'distro' }, { id: 'sudo' }, { id: 'disk-free', args: { gib: 2 } }, { id: 'oom-score-adj', required: false }],
  daemons: [{
    id: 'containerd',
    systemdUnit: 'containerd',
    argv: ['containerd', '--config', '{{containerdConfig}}', '--root', '{{containerdRoot}}', '--state', '{{containerdState}}', '--address', '{{containerdAddress}}'],
    ready: ['ctr', '--address', '{{containerdAddress}}', 'version'],
    shimMarker: '-address {{containerdAddress}}',
  }],
  steps: [
    {
      id: 'install',
      title: 'Install containerd',
      why: 'containerd runs containers for ctr, Docker and CRI clients; Debian\'s package includes the CRI plugin and ctr.',
      check: haveCommands('containerd', 'ctr'),
      apply: [aptInstall('containerd')],
      needsRoot: true,
    },
    {
      id: 'cni-plugins',
      title: 'Install the CNI plugins',
      why: 'CRI pod sandboxes need a network, even without Kubernetes.',
      when: { params: { criPodNetwork: 'cni' } },
      check: { script: '[ -x "$cniBinDir/bridge" ] && [ -x "$cniBinDir/host-local" ]' },
      apply: [aptInstall('containernetworking-plugins')],
      needsRoot: true,
    },
    {
      id: 'cni-config',
      title: 'Write a bridge network for pods',
      why: 'Without a CNI config the CRI plugin reports "cni plugin not initialized" and every pod sandbox fails.',
      when: { params: { criPodNetwork: 'cni' } },
      edits: [{ kind: 'file', path: '{{cniConfDir}}/10-runtime-lab.conflist', content: `${JSON.stringify(CNI, null, 2)}\n` }],
      needsRoot: true,
    },
    {
      id: 'config',
      title: 'Write containerd\'s config.toml (CRI: sandbox image, oom_score_adj, CNI, runc)',
      why: 'Names the pause image (offline hosts must import it), whether pods may ask for a lower oom_score_adj than containerd\'s, the CNI folders and the snapshotter; runtime recipes add their own tables after this block.',
      edits: [{ kind: 'managed-block', path: '{{containerdConfig}}', marker: 'containerd', content: CONFIG, exclusive: true }],
      afterChange: [{ daemon: 'containerd', action: 'restart' }],
      needsRoot: true,
    },
    {
      id: 'start',
      title: 'Start containerd',
      why: 'Without systemd the daemon is started in its own session with a pidfile under the lab folder.',
      check: { daemon: 'containerd', action: 'running' },
      apply: [{ daemon: 'containerd', action: 'start' }],
      needsRoot: true,
      timeoutMs: 60_000,
    },
  ],
  verify: [
    {
      id: 'plugins',
      title: 'Check containerd\'s plugins',
      why: 'The CRI plugin must be "ok"; the list also shows which snapshotters work (devmapper stays "error" until a pool exists).',
      apply: [{ script: 'ctr --address "$containerdAddress" plugins ls > /tmp/runtime-lab-plugins.$$ || exit 1\ncat /tmp/runtime-lab-plugins.$$\nawk \'$2 == "cri" && $4 == "ok" { found = 1 } END { exit !found }\' /tmp/runtime-lab-plugins.$$\nrc=$?\nrm -f /tmp/runtime-lab-plugins.$$\nexit "$rc"' }],
      needsRoot: true,
      timeoutMs: 30_000,
    },
    {
      id: 'run-ctr',
      title: 'Run a container through ctr',
      why: 'ctr run on the test bundle\'s rootfs (no image needed) proves containerd, its shim and runc work together.',
      apply: [{
        script: `ctr --address "$containerdAddress" --namespace runtime-lab container rm rlab-verify-containerd >/dev/null 2>&1
ctr --address "$containerdAddress" --namespace runtime-lab run --rm --fifo-dir "$containerdState/fifo" --rootfs "$bundleDir/rootfs" rlab-verify-containerd /bin/busybox echo Hello`,
      }],
      needsRoot: true,
      timeoutMs: 60_000,
      expectOutput: 'Hello',
    },
  ],
  signatures: ['containerd-devmapper-error', 'cni-not-initialized', 'ctr-task-stuck-created', 'cri-oom-score-adj-runc', 'cri-oom-score-adj-runsc'],
  status: { ran: true },
};
