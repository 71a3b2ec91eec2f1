import type { HostFacts } from '../shared/model/host-facts.ts';
import type { HostProbes } from './checks.ts';

// Parameter defaults that depend on the host (a recipe's Param.chooser names one). Each
// returns the value and the reason, which the dry run prints next to it.

export interface Choice {
  value: string;
  reason: string;
}

type Chooser = (facts: HostFacts, probes: HostProbes) => Choice;

/** gVisor builds from 2023 on have systrap (and make it the default); older ones only ptrace and kvm. */
const SYSTRAP_SINCE = 20230101;

const CHOOSERS: Record<string, Chooser> = {
  runscPlatform(facts) {
    const bareMetal = facts.hypervisor === 'none';
    if (facts.kvm.usable === true && bareMetal) {
      return { value: 'kvm', reason: 'bare metal with a usable /dev/kvm: the KVM platform is the fastest' };
    }
    const why = facts.kvm.usable === true
      ? `this host is a VM (${facts.hypervisor ?? 'unknown hypervisor'}) and the KVM platform hangs under nested virtualization`
      : 'KVM is not usable here';
    const runsc = facts.tools.find((t) => t.id === 'runsc');
    // "release-20221219.0" upstream, "0.0~20221219.0" in Debian; not installed yet = the current release.
    const date = Number(/(\d{8})/.exec(runsc?.version ?? '')?.[1] ?? (runsc?.found ? 0 : SYSTRAP_SINCE));
    return date >= SYSTRAP_SINCE
      ? { value: 'systrap', reason: `${why}; systrap is the fast non-KVM platform of this gVisor` }
      : { value: 'ptrace', reason: `${why}; this gVisor (${runsc?.version ?? 'unknown'}) predates systrap` };
  },

  // containerd's own default (false) wherever root may lower oom_score_adj, so pods get the
  // usual -998; true only where that fails, since every pod sandbox would fail there.
  criRestrictOomScoreAdj(_facts, probes) {
    if (probes.oomScoreAdjLowerable === false) {
      return { value: 'true', reason: 'root cannot lower oom_score_adj on this host (no CAP_SYS_RESOURCE): pods must not ask for -998' };
    }
    return probes.oomScoreAdjLowerable === true
      ? { value: 'false', reason: 'root can lower oom_score_adj here: pod sandboxes keep containerd\'s default of -998' }
      : { value: 'false', reason: 'not probed (no root yet): containerd\'s default; a failing RunPodSandbox is recognised and switched to true' };
  },
};

export function choose(name: string, facts: HostFacts, probes: HostProbes): Choice {
  const chooser = CHOOSERS[name];
  if (!chooser) throw new Error(`unknown chooser ${name}`);
  return chooser(facts, probes);
}
