import { z } from 'zod';

// Every tool the inspection looks for. The order is the order the host page lists them.
export const TOOL_IDS = [
  'runc', 'crun', 'youki', 'runsc', 'kata-runtime', 'containerd-shim-kata-v2', 'firecracker',
  'runnc', 'containerd', 'ctr', 'dockerd', 'docker', 'crio', 'crictl',
] as const;
export const ToolId = z.enum(TOOL_IDS);
export type ToolId = z.infer<typeof ToolId>;

export const ToolFact = z.object({
  id: ToolId,
  found: z.boolean(),
  path: z.string().nullable(),
  version: z.string().nullable(),
  /** Set when the binary exists but its version command failed; its own words, trimmed. */
  error: z.string().nullable(),
});
export type ToolFact = z.infer<typeof ToolFact>;

export const CgroupMode = z.enum(['v1', 'hybrid', 'v2', 'unknown']);
export type CgroupMode = z.infer<typeof CgroupMode>;

export const HostFacts = z.object({
  collectedAt: z.string(),
  os: z.object({
    prettyName: z.string(),
    distroId: z.string(),
    distroVersion: z.string(),
    kernel: z.string(),
    arch: z.string(),
  }),
  cpu: z.object({ model: z.string(), cores: z.number().int().nonnegative(), virtFlag: z.enum(['vmx', 'svm']).nullable() }),
  memory: z.object({ totalBytes: z.number().nonnegative(), availableBytes: z.number().nonnegative() }),
  diskFreeBytes: z.number().nonnegative().nullable(),
  cgroup: z.object({ mode: CgroupMode, detail: z.string() }),
  /** systemd-detect-virt's answer ("none" on bare metal), or null when it is not installed. */
  hypervisor: z.string().nullable(),
  kvm: z.object({
    devicePresent: z.boolean(),
    readWrite: z.boolean(),
    /** KVM_CREATE_VM succeeded (true), failed (false), or could not be tried (null). */
    usable: z.boolean().nullable(),
    nested: z.boolean().nullable(),
    detail: z.string(),
  }),
  vsock: z.object({
    vhostVsockDevice: z.boolean(),
    moduleAvailable: z.boolean().nullable(),
    /** A loaded module that holds vsock and keeps vhost_vsock from loading (VMware's VMCI transport). */
    blockedBy: z.string().nullable(),
    detail: z.string(),
  }),
  node: z.object({ path: z.string(), version: z.string() }).nullable(),
  user: z.object({ uid: z.number().int(), name: z.string(), passwordlessSudo: z.boolean().nullable() }),
  tools: z.array(ToolFact),
});
export type HostFacts = z.infer<typeof HostFacts>;
