import type { HostFacts, ToolId } from '../model/host-facts.ts';
import type { RuntimeSpec } from '../model/plan.ts';

// How each low-level runtime is called by default for the oci-direct method on a given
// host. The knowledge behind each choice is in the comment beside it.
interface Preset {
  globalArgs: (facts: HostFacts) => string[];
  lifecycle: RuntimeSpec['lifecycle'];
}

const PRESETS: Partial<Record<ToolId, Preset>> = {
  runc: { globalArgs: () => [], lifecycle: 'run' },
  crun: { globalArgs: () => [], lifecycle: 'run' },
  youki: { globalArgs: () => [], lifecycle: 'run' },
  // runsc refuses the host's network namespace ("cannot run with network enabled in root
  // network namespace"), so --network=none. Its KVM platform hangs under nested
  // virtualisation; ptrace works everywhere (systrap, the newer default, needs a 2023+ build).
  runsc: { globalArgs: () => ['--network=none', '--platform=ptrace'], lifecycle: 'run' },
  'kata-runtime': { globalArgs: () => [], lifecycle: 'run' },
  // runnc has no `run`: create + start, and `start` returns before the container ends.
  runnc: { globalArgs: () => [], lifecycle: 'create-start' },
};

/** The runtimes found on a host that oci-direct can measure, ready to put in a plan. */
export function runtimePresets(facts: HostFacts): RuntimeSpec[] {
  return facts.tools.flatMap((tool) => {
    const preset = PRESETS[tool.id];
    if (!preset || !tool.found || !tool.path) return [];
    return [{ name: tool.id, binary: tool.path, globalArgs: preset.globalArgs(facts), lifecycle: preset.lifecycle }];
  });
}
