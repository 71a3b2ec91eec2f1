import { FailureSignature, type ParsedSignature } from './schema.ts';
import { KILL_STUCK_TASK } from './snippets.ts';

// Failure signatures: the exact error text (or a pattern around it) a step prints when it
// meets a known trap, what it means, and how to fix it. Each `source` says where the text
// was seen; tests/knowledge-signatures.test.ts matches every signature against that real
// text and not against its near misses. An autoFix is present only when applying it cannot
// hurt the host (it changes a flag of the runtime under test or cleans up what the failed
// step itself left behind); everything else is explained and left to the user.

const RAW: FailureSignature[] = [
  {
    id: 'vhost-vsock-busy',
    pattern: { text: "modprobe: ERROR: could not insert 'vhost_vsock': Device or resource busy" },
    meaning: 'Another vsock transport owns the host side of vsock. In a VMware guest that is vmw_vsock_vmci_transport (VMware Tools\' VMCI channel), so vhost_vsock, which Kata needs to talk to its agent, cannot load.',
    fix: 'Stop vmware-tools/open-vm-tools, run "modprobe -r vmw_vsock_vmci_transport", then "modprobe -i vhost_vsock". VMware guest features (shared folders, clean shutdown) stop working until reboot. Alternatively use Kata 1.x with use_vsock = false (virtio-serial + kata-proxy), or a lab host that is not a VMware guest.',
    source: 'seed talk 1 (Vagrant + VMware Fusion); kata-containers/documentation VSocks.md, PR 327',
  },
  {
    id: 'vhost-vsock-device-missing',
    pattern: { text: 'open /dev/vhost-vsock: no such device' },
    meaning: 'Kata started its VM but /dev/vhost-vsock is missing: the vhost_vsock module is not loaded (or cannot load: see the "Device or resource busy" case).',
    fix: 'Run "modprobe vhost_vsock" and persist it with "echo vhost_vsock > /etc/modules-load.d/runtime-lab-kata.conf"; in a VMware guest first unload vmw_vsock_vmci_transport.',
    autoFix: { description: 'load vhost_vsock now and at every boot', commands: [{ script: 'modprobe vhost_vsock && echo vhost_vsock > /etc/modules-load.d/runtime-lab-kata.conf' }] },
    source: 'kata-containers issues 1327 and 3459',
  },
  {
    id: 'vhost-vsock-module-missing',
    pattern: { regex: 'modprobe: FATAL: Module vhost_vsock not found in directory /lib/modules/(?<kernelRelease>\\S+)' },
    meaning: 'The running kernel was built without a vhost_vsock module, or its extra modules are not installed.',
    fix: 'Install the extra modules for the running kernel (Ubuntu: apt-get install linux-modules-extra-$(uname -r)) and run "modprobe vhost_vsock" again.',
    source: 'kmod\'s message for a module absent from the running kernel',
  },
  {
    id: 'vhost-vsock-not-permitted',
    pattern: { text: "could not insert 'vhost_vsock': Operation not permitted" },
    meaning: 'modprobe ran without the right to load modules: not as root, or inside a container.',
    fix: 'Run the step as root on the host itself (not in a container).',
    source: 'kmod\'s message without CAP_SYS_MODULE',
  },
  {
    id: 'vhost-net-missing',
    pattern: { text: 'open /dev/vhost-net: no such file or directory' },
    meaning: 'The VM\'s network device needs /dev/vhost-net, which appears when vhost_net is loaded.',
    fix: 'Run "modprobe vhost_net".',
    autoFix: { description: 'load vhost_net', commands: [{ argv: ['modprobe', 'vhost_net'] }] },
    source: 'Kata Containers with QEMU on hosts without vhost_net loaded',
  },
  {
    id: 'kvm-missing',
    pattern: { regex: 'open /dev/kvm: no such file or directory|Could not access KVM kernel module: No such file or directory|/dev/kvm (does not exist|not found)', flags: 'i' },
    meaning: 'There is no /dev/kvm: the CPU\'s virtualization is off, the kvm module is not loaded, or this is a VM without nested virtualization. Kata and Firecracker cannot start VMs.',
    fix: 'Run "runtime-lab doctor" for the reason on this host (VirtualBox: --nested-hw-virt on; VMware: vhv.enable = "TRUE"; EC2: a metal type or c8i/m8i/r8i with nested virtualization); on bare metal enable VT-x/AMD-V in the firmware and "modprobe kvm_intel" or "kvm_amd".',
    source: 'Firecracker and QEMU error texts for a missing /dev/kvm',
  },
  {
    id: 'kata-vsock-check',
    pattern: { text: 'kernel property vhost_vsock not found' },
    meaning: '"kata-runtime check" found no vhost_vsock: Kata 2+/3 cannot reach its agent.',
    fix: 'Load vhost_vsock (see the vhost-vsock prerequisite); in a VMware guest unload vmw_vsock_vmci_transport first.',
    source: 'kata-runtime check output',
  },
  {
    id: 'kata-1.6rc1-master-channel',
    pattern: { regex: 'kata-runtime\\s*:\\s*1\\.6\\.0-rc1\\b' },
    meaning: 'The "master" channel of the Kata 1.x openSUSE build-service repository installed 1.6.0-rc1, a release candidate that did not work in the seed\'s lab.',
    fix: 'Replace "master" with "stable-1.5" in /etc/apt/sources.list.d/kata-containers.list, then apt-get update and reinstall kata-runtime kata-proxy kata-shim (the kata1 recipe uses stable-1.5).',
    source: 'seed talk 1 (Kata install on Ubuntu)',
  },
  {
    id: 'crun-hybrid-cgroup',
    pattern: { text: 'cgroups in hybrid mode not supported, drop all controllers from cgroupv2' },
    meaning: 'The host runs cgroup v1 hierarchies plus a cgroup2 mount at /sys/fs/cgroup/unified that has controllers attached (hybrid mode). crun supports pure v1 or pure v2, not this mix, so every crun container fails.',
    fix: 'Boot with systemd.unified_cgroup_hierarchy=1 for pure cgroup v2 (GRUB_CMDLINE_LINUX, update-grub, reboot), or move the controllers in /sys/fs/cgroup/unified/cgroup.controllers back to v1. Not applied automatically: it changes every workload on the host.',
    source: 'crun 1.8.1 on this Debian 12 lab machine (seen)',
  },
  {
    id: 'runsc-network-root-netns',
    pattern: { text: 'cannot run with network enabled in root network namespace' },
    recipes: ['runsc'],
    meaning: 'gVisor\'s sandbox network was asked to take over the network namespace the container was started in, and that is the host\'s own (ctr and plain "runsc run" do not create one; on some hosts Docker\'s fails the same way). runsc refuses rather than take over the host\'s interfaces.',
    fix: 'Run runsc with --network=none (fine for start-up and memory benchmarks), or start the container in its own network namespace with networking configured.',
    autoFix: { description: 'add --network=none to runsc and retry', setParams: { runscNetwork: 'none' } },
    source: 'runsc 2022-12-19 with ctr --runc-binary, runsc run and docker on this machine (seen)',
  },
  {
    id: 'runsc-network-malformed-route',
    pattern: { text: 'Error setting up network: malformed "ip route list default" output' },
    recipes: ['runsc'],
    meaning: 'runsc could not read the default route of the container\'s network namespace.',
    fix: 'Run runsc with --network=none.',
    autoFix: { description: 'add --network=none to runsc and retry', setParams: { runscNetwork: 'none' } },
    source: 'google/gvisor issue 4498',
  },
  {
    id: 'runsc-kvm-platform-hang',
    timedOut: true,
    recipes: ['runsc'],
    params: { runscPlatform: 'kvm' },
    meaning: 'runsc with --platform=kvm did not finish in time. gVisor\'s KVM platform hangs when the host is itself a VM (nested virtualization), although /dev/kvm works.',
    fix: 'Use --platform=ptrace (or systrap on gVisor 2023 and later).',
    autoFix: { description: 'switch runsc from the KVM platform to ptrace and retry', setParams: { runscPlatform: 'ptrace' } },
    source: 'runsc --platform=kvm on this machine (a nested-KVM guest): hangs (seen)',
  },
  {
    id: 'containerd-devmapper-error',
    pattern: { regex: 'io\\.containerd\\.snapshotter\\.v1\\s+devmapper\\s+\\S+\\s+error' },
    meaning: 'containerd\'s devmapper snapshotter did not load: no thin pool is configured, or the pool (loop devices, dm table) vanished at reboot. Kata with Firecracker needs it for block-device root file systems.',
    fix: 'Run the containerd-devmapper recipe (creates or re-attaches the thin pool and names it in config.toml), then restart containerd; "ctr plugins ls" must show devmapper ok.',
    source: 'ctr plugins ls with containerd 1.6.20 and no pool, on this machine (seen)',
  },
  {
    id: 'ctr-task-stuck-created',
    pattern: { regex: 'cannot signal container "(?<taskId>[^"]+)" in state created' },
    meaning: 'A task failed to start and stays in "created"; runsc refuses to kill a container in that state, so "ctr task delete --force" cannot remove it and its shim and sandbox keep running.',
    fix: 'Kill the task\'s containerd-shim and the runsc-sandbox/runsc-gofer processes under it, then "ctr task delete --force ID" and "ctr container rm ID".',
    autoFix: {
      description: 'kill the stuck task\'s shim and sandbox, then delete the task and container',
      commands: [{ script: KILL_STUCK_TASK }],
    },
    source: 'ctr 1.6.20 with --runc-binary runsc on this machine (seen)',
  },
  {
    id: 'cni-not-initialized',
    pattern: { regex: 'cni plugin not initialized|NetworkPluginNotReady' },
    meaning: 'The CRI server has no pod network: no CNI config in its conf_dir (or no plugins in bin_dir). crictl runp fails, even without Kubernetes.',
    fix: 'Add a bridge + host-local + loopback conflist in /etc/cni/net.d with plugins in the configured bin_dir, then restart containerd (the containerd recipe does this with criPodNetwork=cni).',
    source: 'containerd CRI; kubernetes-sigs/cri-tools issue 441',
  },
  {
    id: 'cri-oom-score-adj-runc',
    // runc's own text names no cause (nsexec dies writing /proc/self/oom_score_adj), so it
    // counts only in a pod sandbox, with the option off, on a host whose probe did not pass.
    pattern: { regex: "RunPodSandbox: .*OCI runtime create failed: runc create failed: unable to start container process: can't get final child's PID from pipe: EOF" },
    params: { criRestrictOomScoreAdj: 'false' },
    hostCheck: 'oom-score-adj',
    meaning: 'containerd\'s CRI plugin gives every pod sandbox oom_score_adj -998. Lowering a score needs CAP_SYS_RESOURCE, which this host lacks even as root (a container or an unprivileged VM): runc\'s init dies writing /proc/self/oom_score_adj and runc only sees its pipe close, so every RunPodSandbox fails.',
    fix: 'Set restrict_oom_score_adj = true under [plugins."io.containerd.grpc.v1.cri"] in containerd\'s config.toml and restart containerd (the containerd recipe does it with criRestrictOomScoreAdj=true), or use a host where root has CAP_SYS_RESOURCE.',
    autoFix: { description: 'set restrict_oom_score_adj = true in containerd\'s CRI config, restart containerd and retry', setParams: { criRestrictOomScoreAdj: 'true' } },
    source: 'RunPodSandbox through Runtime Lab\'s CRI client, containerd 1.6.20 and runc 1.1.5 on this machine, without CAP_SYS_RESOURCE (seen)',
  },
  {
    id: 'cri-oom-score-adj-runsc',
    // runsc prints the -998 with %c: the value shows as a replacement character.
    pattern: { regex: "setting oom_score_adj to '[^']*': write /proc/\\d+/oom_score_adj: permission denied" },
    params: { criRestrictOomScoreAdj: 'false' },
    meaning: 'containerd\'s CRI plugin gives every pod sandbox oom_score_adj -998, and root on this host may not lower a score (no CAP_SYS_RESOURCE: a container or an unprivileged VM), so runsc cannot start the sandbox.',
    fix: 'Set restrict_oom_score_adj = true under [plugins."io.containerd.grpc.v1.cri"] in containerd\'s config.toml and restart containerd (the containerd recipe does it with criRestrictOomScoreAdj=true).',
    autoFix: { description: 'set restrict_oom_score_adj = true in containerd\'s CRI config, restart containerd and retry', setParams: { criRestrictOomScoreAdj: 'true' } },
    source: 'RunPodSandbox through Runtime Lab\'s CRI client, containerd 1.6.20 and runsc 2022-12-19 behind the runc shim on this machine (seen)',
  },
  {
    id: 'runsc-cri-no-shim',
    pattern: { regex: 'no runtime for "runsc" is configured|handler \\S+: runsc behind containerd\'s runc shim' },
    recipes: ['runsc'],
    meaning: 'runsc runs pods only through gVisor\'s own containerd-shim-runsc-v1, which Debian 12 does not ship, so the setup registers no CRI handler for runsc there. containerd\'s runc shim with runsc as BinaryName is no substitute: the pod sandbox starts, but every container that joins it reports the sandbox\'s pid, so the shim never sees it exit (it never reaches EXITED and StopPodSandbox hangs).',
    fix: 'Install containerd-shim-runsc-v1 from gVisor\'s apt repository or release (https://gvisor.dev/docs/user_guide/containerd/quick_start/), add [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc] with runtime_type = "io.containerd.runsc.v1" and restart containerd (the runsc recipe does this on Ubuntu). On Debian 12 measure runsc through oci-direct, ctr or docker.',
    source: 'Runtime Lab\'s CRI client with containerd 1.6.20 on this machine: no runsc handler (Debian), and runsc 2022-12-19 behind the runc shim (containers never exit) (seen)',
  },
  {
    id: 'crio-no-cni-config',
    pattern: { text: 'No CNI configuration file in /etc/cni/net.d/' },
    meaning: 'cri-o found no CNI network configuration.',
    fix: 'Install a CNI conflist in /etc/cni/net.d (the cri-o package ships 10-crio-bridge.conflist.disabled: rename it) and restart crio.',
    source: 'cri-o log',
  },
  {
    id: 'crio-cgroup-manager-mismatch',
    pattern: { text: 'configured with cgroupfs cgroup manager, but received systemd slice as parent' },
    meaning: 'cri-o and its client disagree on the cgroup manager.',
    fix: 'Set cgroup_manager = "systemd" in /etc/crio/crio.conf (or give pods a cgroupfs parent).',
    source: 'cri-o error text',
  },
  {
    id: 'runnc-id-uniqueness',
    pattern: { text: 'panic: Insufficient uniqueness in ID' },
    meaning: 'runnc derives the tap device name from the container ID and panics when the ID is too short. Through ctr this only shows as "runnc did not terminate sucessfully".',
    fix: 'Use container IDs of at least 16 characters.',
    source: 'seed talk 1 (runnc via ctr)',
  },
  {
    id: 'runnc-tap-no-master',
    pattern: { regex: 'could not create tap\\S*: no master interface: Link not found' },
    meaning: 'runnc bridges its tap device to the container\'s eth0, and there is none: without a CNI/Docker network the namespace has only lo.',
    fix: 'Add prestart hooks to config.json that create eth0 (runnc issue 53): ip link add eth0 type dummy; ip addr add 10.0.0.251/8 dev eth0; ip link set eth0 up; ip route add default via 10.0.0.251.',
    source: 'seed talk 1 (runnc via ctr with a long ID)',
  },
  {
    id: 'runnc-relative-root',
    pattern: { regex: '"root"\\s*:\\s*\\{\\s*"path"\\s*:\\s*"(?!/)(?<rootPath>[^"]*)"' },
    recipes: ['nabla'],
    meaning: 'The bundle\'s config.json names a relative root.path; runnc resolves it from its own working directory, not the bundle, and cannot find the unikernel. (Matched on the config.json the nabla recipe\'s preflight prints.)',
    fix: 'Write an absolute root.path in config.json (the bundle\'s rootfs directory, full path).',
    source: 'seed talk 1: runnc needs root.path absolute (check: the runtime\'s own error text is not recorded)',
  },
  {
    id: 'runnc-entrypoint-not-nabla',
    pattern: { text: 'Entrypoint is not a .nabla file' },
    meaning: 'runnc runs only unikernels baked with rumprun-bake; an ordinary ELF was named as the entrypoint.',
    fix: 'Bake the program (x86_64-rumprun-netbsd-gcc, then rumprun-bake spt or solo5_ukvm_seccomp) and name the .nabla file in args.',
    source: 'runnc error text',
  },
  {
    id: 'runnc-did-not-terminate',
    pattern: { text: 'runnc did not terminate sucessfully' },
    meaning: 'ctr only reports that runnc failed (the misspelling is runnc\'s); the real reason is in /tmp/runnc.log.',
    fix: 'Read /tmp/runnc.log on the host: "Insufficient uniqueness in ID" means a longer container ID, "no master interface" means prestart hooks for eth0.',
    source: 'seed talk 1 (ctr: OCI runtime create failed: runnc did not terminate sucessfully: unknown)',
  },
  {
    id: 'runnc-tty-detach',
    pattern: { text: 'cannot allocate tty if runc will detach' },
    meaning: 'runnc cannot give a detached container a terminal.',
    fix: 'Run without -t/-it (terminal: false in config.json).',
    source: 'runnc error text',
  },
  {
    id: 'solo5-spt-netfd',
    pattern: { text: "Solo5: ABORT: spt/net.c:36: Assertion 'netfd >= 0' failed" },
    meaning: 'The unikernel was built with the newest solo5/rumprun (spt tender) but runs under a runnc that passes no network fd the way that tender expects: the toolchain revisions do not match.',
    fix: 'Build with the pinned revisions: runnc b78fe29, rumprun 8b01b3 (with this project\'s patches) and the solo5 they expect; bake with the target that runnc revision uses (solo5_ukvm_seccomp for old ones, spt for newer).',
    source: 'seed talk 1 (newest revisions failed)',
  },
];

export const SIGNATURES: readonly ParsedSignature[] = parseAll(RAW);

function parseAll(raw: readonly FailureSignature[]): ParsedSignature[] {
  const parsed = raw.map((s) => FailureSignature.parse(s));
  const ids = new Set<string>();
  for (const s of parsed) {
    if (ids.has(s.id)) throw new Error(`duplicate signature id ${s.id}`);
    ids.add(s.id);
  }
  return parsed;
}

export function signatureById(id: string): ParsedSignature {
  const found = SIGNATURES.find((s) => s.id === id);
  if (!found) throw new Error(`unknown signature ${id}`);
  return found;
}
