import type { ToolId } from '../../shared/model/host-facts.ts';

// How to recognise each tool on a host: where to look, what to run, and how to read its
// answer. Data only, so supporting a new tool or a changed version banner is one entry.

export interface VersionProbe {
  /** Names looked up on PATH, in order; the first one found is used. */
  binaries: readonly string[];
  versionArgs: readonly string[];
  /** The first capture group is the version, without a leading "v". */
  versionPattern: RegExp;
}

export const TOOL_PROBES: Readonly<Record<ToolId, VersionProbe>> = {
  // "runc version 1.1.5+ds1" (a build without a version prints "runc version spec: …").
  runc: { binaries: ['runc'], versionArgs: ['--version'], versionPattern: /^runc version (?!commit:|spec:)v?(\S+)/m },
  // "crun version 1.8.1"
  crun: { binaries: ['crun'], versionArgs: ['--version'], versionPattern: /^crun version v?(\S+)/m },
  // "youki version 0.3.3"
  youki: { binaries: ['youki'], versionArgs: ['--version'], versionPattern: /^youki version v?(\S+)/m },
  // "runsc version release-20221219.0", Debian's build: "runsc version 0.0~20221219.0"
  runsc: { binaries: ['runsc'], versionArgs: ['--version'], versionPattern: /^runsc version (\S+)/m },
  // Kata 1.x and 3.x: "kata-runtime  : 3.2.0"
  'kata-runtime': { binaries: ['kata-runtime'], versionArgs: ['--version'], versionPattern: /^kata-runtime\s*:\s*v?(\S+)/m },
  // 'Kata Containers containerd shim (Golang): id: "io.containerd.kata.v2", version: 3.3.0, commit: …'
  'containerd-shim-kata-v2': {
    binaries: ['containerd-shim-kata-v2'],
    versionArgs: ['--version'],
    versionPattern: /\bversion:\s*v?([^\s,]+)/,
  },
  // "Firecracker v1.4.1"
  firecracker: { binaries: ['firecracker'], versionArgs: ['--version'], versionPattern: /^Firecracker v?(\S+)/m },
  // runc's CLI: "runnc version 0.1" (a build without a version prints "runnc version commit: …").
  runnc: { binaries: ['runnc'], versionArgs: ['--version'], versionPattern: /^runnc version (?!commit:|spec:)v?(\S+)/m },
  // "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3", upstream "… v1.7.2 <commit>"
  containerd: { binaries: ['containerd'], versionArgs: ['--version'], versionPattern: /^containerd \S+ v?(\S+)/m },
  // "ctr github.com/containerd/containerd 1.6.20~ds1"
  ctr: { binaries: ['ctr'], versionArgs: ['--version'], versionPattern: /^ctr \S+ v?(\S+)/m },
  // "Docker version 20.10.24+dfsg1, build 5d6db84"
  dockerd: { binaries: ['dockerd'], versionArgs: ['--version'], versionPattern: /^Docker version v?([^\s,]+)/m },
  docker: { binaries: ['docker'], versionArgs: ['--version'], versionPattern: /^Docker version v?([^\s,]+)/m },
  // "crio version 1.21.0" (older), "Version:  1.29.1" (newer, a table)
  crio: { binaries: ['crio'], versionArgs: ['--version'], versionPattern: /^(?:crio version|Version:)\s+v?(\S+)/m },
  // "crictl version v1.28.0"
  crictl: { binaries: ['crictl'], versionArgs: ['--version'], versionPattern: /^crictl version v?(\S+)/m },
};

/** Node on the host: the agent that runs measurements there needs it. "v20.19.2" */
export const NODE_PROBE: VersionProbe = {
  binaries: ['node', 'nodejs'],
  versionArgs: ['--version'],
  versionPattern: /^v?(\d\S*)/m,
};

/** The version a probe's pattern finds in the command's output, or null when the banner is not recognised. */
export function extractVersion(probe: VersionProbe, output: string): string | null {
  return probe.versionPattern.exec(output)?.[1] ?? null;
}
