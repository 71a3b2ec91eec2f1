import type { StatusResponse } from './cri-api.ts';

// What a CRI endpoint says about its own configuration in Status(verbose): containerd puts
// its whole CRI plugin config as JSON in info.config (sandboxImage, containerd.runtimes,
// containerd.snapshotter, cni). CRI v1 added runtime_handlers to the response itself
// (containerd ≥ 1.7); both are read, whichever the endpoint gives.

export interface CriHandler {
  name: string;
  /** containerd's runtime_type, e.g. io.containerd.runc.v2; null when the endpoint does not say. */
  runtimeType: string | null;
  /** The runc shim's options.BinaryName: the OCI binary (or wrapper) behind the handler. */
  binaryName: string | null;
  systemdCgroup: boolean;
}

export interface CriEndpointConfig {
  sandboxImage: string | null;
  snapshotter: string | null;
  cniConfDir: string | null;
  handlers: CriHandler[];
  /** Status conditions that are false (e.g. NetworkReady: cni plugin not initialized), as text. */
  notReady: string[];
}

interface ContainerdCriConfig {
  sandboxImage?: unknown;
  containerd?: { snapshotter?: unknown; runtimes?: Record<string, { runtimeType?: unknown; options?: Record<string, unknown> | null }> };
  cni?: { confDir?: unknown };
}

export function describeEndpoint(status: StatusResponse): CriEndpointConfig {
  let config: ContainerdCriConfig = {};
  try {
    config = JSON.parse(status.info.config ?? '{}') as ContainerdCriConfig;
  } catch {
    // Not containerd's JSON: only the typed fields below are known.
  }
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
  const runtimes = config.containerd?.runtimes ?? {};
  const handlers = new Map<string, CriHandler>();
  for (const [name, runtime] of Object.entries(runtimes)) {
    handlers.set(name, {
      name,
      runtimeType: text(runtime.runtimeType),
      binaryName: text(runtime.options?.BinaryName),
      systemdCgroup: runtime.options?.SystemdCgroup === true,
    });
  }
  for (const { name } of status.runtimeHandlers) {
    if (name !== '' && !handlers.has(name)) handlers.set(name, { name, runtimeType: null, binaryName: null, systemdCgroup: false });
  }
  return {
    sandboxImage: text(config.sandboxImage),
    snapshotter: text(config.containerd?.snapshotter),
    cniConfDir: text(config.cni?.confDir),
    handlers: [...handlers.values()].sort((a, b) => a.name.localeCompare(b.name)),
    notReady: (status.status?.conditions ?? []).filter((c) => !c.status).map((c) => `${c.type}: ${c.message || c.reason}`),
  };
}
