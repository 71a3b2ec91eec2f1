import type { HostFacts } from '../shared/model/host-facts.ts';
import type { ParsedRecipe } from './schema.ts';

// Prerequisite checks: each turns what inspection found (HostFacts) plus a few small
// probes (services/setup/host-context.ts) into a plain verdict and a reason a person can
// act on. "fail" means the runtime cannot work here as things are; "warn" means it may
// work, or works with a limitation the user should know about.

export type Verdict = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  id: string;
  title: string;
  verdict: Verdict;
  reason: string;
  /** What to do about a warn/fail, when there is something to do. */
  fix?: string;
}

/** What the small probes found beyond HostFacts. */
export interface HostProbes {
  /** PID 1 is systemd: daemons are managed with systemctl. */
  systemd: boolean;
  /** Controllers enabled in the cgroup2 mount of a hybrid host (crun refuses them), or null. */
  unifiedControllers: string | null;
  /** Download host → reachable over HTTPS from the lab host (null: not probed). */
  reachable: Readonly<Record<string, boolean>>;
  /** A sudo password is available for this session (kept in memory only). */
  sudoPassword: boolean;
  /** Root could lower its oom_score_adj to -998, as containerd's CRI plugin does for every pod sandbox (null: not tried, no root). */
  oomScoreAdjLowerable: boolean | null;
}

export interface CheckInput {
  facts: HostFacts;
  probes: HostProbes;
  recipe?: ParsedRecipe;
  args?: Readonly<Record<string, string | number>>;
}

interface CheckDefinition {
  title: string;
  evaluate(input: CheckInput): Omit<CheckResult, 'id' | 'title'>;
}

const GIB = 1024 ** 3;

// Why a guest has no usable KVM, by the hypervisor it runs under (systemd-detect-virt names).
const NO_KVM_BECAUSE: Record<string, { reason: string; fix: string }> = {
  oracle: {
    reason: 'this is a VirtualBox VM, and VirtualBox passes VT-x/AMD-V to its guests only with nested virtualization switched on',
    fix: 'power the VM off and run "VBoxManage modifyvm VM --nested-hw-virt on" (VirtualBox 6.0+ on AMD, 6.1+ on Intel; greyed out on Windows hosts running Hyper-V/VBS), or use another lab host',
  },
  vmware: {
    reason: 'this is a VMware guest without virtualized VT-x',
    fix: 'power the VM off and set vhv.enable = "TRUE" in its .vmx (Vagrant: v.vmx["vhv.enable"] = "TRUE")',
  },
  amazon: {
    reason: 'this is an EC2 virtual instance without nested virtualization',
    fix: 'use a bare-metal type (e.g. c5.metal, i3.metal: several USD per hour) or a c8i/m8i/r8i instance launched with CpuOptions.NestedVirtualization = enabled (much cheaper)',
  },
  kvm: {
    reason: 'this is a KVM/QEMU guest whose host does not expose nested virtualization',
    fix: 'on the host: load kvm_intel/kvm_amd with nested=1, and give the guest CPU mode host-passthrough (libvirt) or -cpu host (QEMU)',
  },
  qemu: {
    reason: 'this is a QEMU guest without KVM acceleration, so there is no VT-x to nest',
    fix: 'run the guest with KVM and -cpu host, with nested=1 on the host',
  },
  microsoft: {
    reason: 'this is a Hyper-V guest without exposed virtualization extensions',
    fix: 'on the Hyper-V host: Set-VMProcessor -VMName VM -ExposeVirtualizationExtensions $true (VM powered off)',
  },
};

const CHECKS: Record<string, CheckDefinition> = {
  kvm: {
    title: 'KVM usable',
    evaluate({ facts }) {
      const { kvm, hypervisor } = facts;
      if (kvm.usable === true) return { verdict: 'ok', reason: kvm.detail };
      if (kvm.devicePresent && !kvm.readWrite) {
        return { verdict: 'fail', reason: kvm.detail, fix: 'add the login user to the kvm group (or run as root)' };
      }
      const because = hypervisor ? NO_KVM_BECAUSE[hypervisor] : undefined;
      if (because) return { verdict: 'fail', reason: `${kvm.detail}: ${because.reason}`, fix: because.fix };
      if (kvm.usable === null) return { verdict: 'warn', reason: kvm.detail, fix: 'install python3 on the host so KVM_CREATE_VM can be tried' };
      if (hypervisor === 'none') {
        return { verdict: 'fail', reason: `${kvm.detail} on bare metal`, fix: 'enable VT-x/AMD-V in the firmware settings and load kvm_intel or kvm_amd' };
      }
      return { verdict: 'fail', reason: kvm.detail, fix: 'use a host with hardware virtualization: bare metal or a VM with nested virtualization' };
    },
  },

  'kvm-not-nested': {
    title: 'KVM without nesting (for gVisor\'s KVM platform)',
    evaluate({ facts }) {
      if (facts.kvm.usable !== true) return { verdict: 'warn', reason: 'KVM is not usable here, so the KVM platform is not an option; ptrace or systrap will be used' };
      if (facts.hypervisor && facts.hypervisor !== 'none') {
        return {
          verdict: 'warn',
          reason: `this host is itself a VM (${facts.hypervisor}): gVisor's KVM platform hangs under nested virtualization`,
          fix: 'use --platform=systrap (gVisor 2023+) or ptrace; the setup chooses that for this host',
        };
      }
      return { verdict: 'ok', reason: 'bare metal with KVM: the KVM platform can be used' };
    },
  },

  'vhost-vsock': {
    title: 'vhost-vsock (the Kata agent\'s channel)',
    evaluate({ facts }) {
      const { vsock } = facts;
      if (vsock.vhostVsockDevice) return { verdict: 'ok', reason: vsock.detail };
      if (vsock.blockedBy) {
        return {
          verdict: 'fail',
          reason: vsock.detail,
          fix: `stop vmware-tools/open-vm-tools, "modprobe -r ${vsock.blockedBy}", then "modprobe -i vhost_vsock" (VMware features like shared folders stop until reboot); or use Kata 1.x with use_vsock = false`,
        };
      }
      if (vsock.moduleAvailable === false) {
        return { verdict: 'fail', reason: vsock.detail, fix: 'install the extra kernel modules for the running kernel (Ubuntu: linux-modules-extra-$(uname -r))' };
      }
      return { verdict: 'warn', reason: vsock.detail, fix: 'the setup loads it with "modprobe vhost_vsock" and persists it in /etc/modules-load.d' };
    },
  },

  'cgroup-crun': {
    title: 'cgroup layout crun accepts',
    evaluate({ facts, probes }) {
      const { mode, detail } = facts.cgroup;
      if (mode === 'hybrid' && probes.unifiedControllers) {
        return {
          verdict: 'fail',
          reason: `hybrid cgroups with controllers (${probes.unifiedControllers}) in the cgroup2 mount: crun refuses with "cgroups in hybrid mode not supported, drop all controllers from cgroupv2"`,
          fix: 'boot with systemd.unified_cgroup_hierarchy=1 (pure cgroup v2), or move those controllers back to their v1 hierarchies',
        };
      }
      if (mode === 'unknown') return { verdict: 'warn', reason: detail };
      return { verdict: 'ok', reason: detail };
    },
  },

  'oom-score-adj': {
    title: 'root can lower oom_score_adj (CRI pod sandboxes)',
    evaluate({ probes }) {
      if (probes.oomScoreAdjLowerable === true) return { verdict: 'ok', reason: 'root set oom_score_adj to -998, the value containerd\'s CRI plugin gives every pod sandbox' };
      if (probes.oomScoreAdjLowerable === null) {
        return {
          verdict: 'warn',
          reason: 'not tried: it needs root (give the sudo password or log in as root)',
          fix: 'if every pod fails at RunPodSandbox, set criRestrictOomScoreAdj=true (the setup does it by itself when it recognises the error)',
        };
      }
      return {
        verdict: 'warn',
        reason: 'root cannot lower oom_score_adj here (no CAP_SYS_RESOURCE: a container or an unprivileged VM), so a pod sandbox asking for -998 fails: runc with "can\'t get final child\'s PID from pipe: EOF", runsc with "setting oom_score_adj … permission denied"',
        fix: 'restrict_oom_score_adj = true in containerd\'s CRI config: the containerd recipe sets it on this host (criRestrictOomScoreAdj=true)',
      };
    },
  },

  'systemd-init': {
    title: 'systemd as init',
    evaluate({ probes }) {
      return probes.systemd
        ? { verdict: 'ok', reason: 'PID 1 is systemd' }
        : { verdict: 'fail', reason: 'PID 1 is not systemd (a container, WSL without systemd, or a minimal init)', fix: 'use a host booted with systemd' };
    },
  },

  'kernel-min': {
    title: 'kernel version',
    evaluate({ facts, args }) {
      const need = String(args?.version ?? '0');
      return compareVersions(facts.os.kernel, need) >= 0
        ? { verdict: 'ok', reason: `kernel ${facts.os.kernel} ≥ ${need}` }
        : { verdict: 'fail', reason: `kernel ${facts.os.kernel} is older than ${need}`, fix: `upgrade the kernel to ${need} or newer` };
    },
  },

  arch: {
    title: 'CPU architecture',
    evaluate({ facts, args }) {
      const allowed = String(args?.arch ?? 'x86_64').split(',');
      return allowed.includes(facts.os.arch)
        ? { verdict: 'ok', reason: facts.os.arch }
        : { verdict: 'fail', reason: `${facts.os.arch} is not one of ${allowed.join(', ')}, the architectures this recipe's binaries exist for` };
    },
  },

  'disk-free': {
    title: 'free disk space',
    evaluate({ facts, args }) {
      const need = Number(args?.gib ?? 1);
      if (facts.diskFreeBytes === null) return { verdict: 'warn', reason: 'free space on / could not be read' };
      const have = facts.diskFreeBytes / GIB;
      return have >= need
        ? { verdict: 'ok', reason: `${have.toFixed(1)} GiB free on /, ${need} GiB needed` }
        : { verdict: 'fail', reason: `${have.toFixed(1)} GiB free on /, ${need} GiB needed`, fix: 'free space or grow the root disk' };
    },
  },

  memory: {
    title: 'available memory',
    evaluate({ facts, args }) {
      const need = Number(args?.gib ?? 1);
      const have = facts.memory.availableBytes / GIB;
      return have >= need
        ? { verdict: 'ok', reason: `${have.toFixed(1)} GiB available, ${need} GiB needed` }
        : { verdict: 'warn', reason: `${have.toFixed(1)} GiB available, ${need} GiB recommended`, fix: 'use a larger host or stop other workloads' };
    },
  },

  distro: {
    title: 'distribution supported by the recipe',
    evaluate({ facts, recipe }) {
      const { distroId, distroVersion, prettyName } = facts.os;
      const supported = recipe?.appliesTo ?? [];
      const entry = supported.find((a) => a.distro === distroId);
      const list = supported.map((a) => `${a.distro} ${a.versions.join('/')}`).join(', ');
      if (!entry) return { verdict: 'fail', reason: `${prettyName} is not among the distributions this recipe is written for (${list})` };
      if (!entry.versions.includes(distroVersion) && !entry.versions.includes('*')) {
        return { verdict: 'warn', reason: `${prettyName}: the recipe is written for ${distroId} ${entry.versions.join('/')}; it may work on ${distroVersion}` };
      }
      return { verdict: 'ok', reason: `${prettyName}` };
    },
  },

  sudo: {
    title: 'root access',
    evaluate({ facts, probes }) {
      if (facts.user.uid === 0) return { verdict: 'ok', reason: 'logged in as root' };
      if (facts.user.passwordlessSudo) return { verdict: 'ok', reason: `${facts.user.name} has passwordless sudo` };
      if (probes.sudoPassword) return { verdict: 'ok', reason: `${facts.user.name} uses sudo with the password given for this session (kept in memory only)` };
      return {
        verdict: 'fail',
        reason: `${facts.user.name} is not root and has no passwordless sudo`,
        fix: 'give the sudo password when asked (it is kept in memory only), log in as root, or allow "sudo -n" for this user',
      };
    },
  },

  'downloads-reachable': {
    title: 'download hosts reachable',
    evaluate({ recipe, probes }) {
      const hosts = downloadHosts(recipe);
      if (hosts.length === 0) return { verdict: 'ok', reason: 'this recipe downloads nothing outside the distribution\'s package mirror' };
      const down = hosts.filter((h) => probes.reachable[h] === false);
      const unknown = hosts.filter((h) => probes.reachable[h] === undefined);
      if (down.length > 0) {
        return { verdict: 'fail', reason: `not reachable from the host over HTTPS: ${down.join(', ')}`, fix: 'give the host internet access (or a proxy in https_proxy), or copy the files over by hand' };
      }
      if (unknown.length > 0) {
        return { verdict: 'warn', reason: `not checked: ${unknown.join(', ')} (doctor --check-downloads probes them, with curl or wget on the host)` };
      }
      return { verdict: 'ok', reason: `reachable: ${hosts.join(', ')}` };
    },
  },

  'node-for-agent': {
    title: 'Node.js for the measuring agent',
    evaluate({ facts }) {
      const major = Number(/^v?(\d+)/.exec(facts.node?.version ?? '')?.[1] ?? 0);
      if (!facts.node) return { verdict: 'fail', reason: 'no Node.js on the host', fix: 'the "node" recipe installs the distribution\'s nodejs' };
      return major >= 18
        ? { verdict: 'ok', reason: `Node ${facts.node.version} at ${facts.node.path}` }
        : { verdict: 'fail', reason: `Node ${facts.node.version} is older than 18`, fix: 'install Node 18 or newer' };
    },
  },
};

export const CHECK_IDS = Object.keys(CHECKS);

export function runCheck(id: string, input: CheckInput): CheckResult {
  const definition = CHECKS[id];
  if (!definition) throw new Error(`unknown check ${id}`);
  return { id, title: definition.title, ...definition.evaluate(input) };
}

/** The host part of every download URL of a recipe, once each. */
export function downloadHosts(recipe: ParsedRecipe | undefined): string[] {
  return [...new Set((recipe?.downloads ?? []).map((d) => new URL(d.url).host))];
}

/** Numeric comparison of dotted versions, ignoring anything after the numbers ("6.1.0-13-amd64"). */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => (/^\d+(\.\d+)*/.exec(v)?.[0] ?? '0').split('.').map(Number);
  const [pa, pb] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}
