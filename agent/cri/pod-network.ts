import type { PodSandboxStatusResponse } from './cri-api.ts';

// Where a pod's network ended up, from PodSandboxStatus (verbose): its IP from the network
// plugin and the network namespace it was given. containerd puts the sandbox's OCI spec in
// info.info (JSON, runtimeSpec.linux.namespaces); another endpoint may not, so the path is
// null then and only the CRI fields are used.

export interface PodNetwork {
  /** Empty when the endpoint gave the pod no IP (host network, or no CNI result). */
  ip: string;
  /** NamespaceMode of the pod's network: POD (its own), NODE (the host's). */
  mode: string | null;
  /** The network namespace the sandbox joined (e.g. /var/run/netns/cni-…), when the endpoint says. */
  netnsPath: string | null;
}

interface SandboxInfo {
  runtimeSpec?: { linux?: { namespaces?: Array<{ type?: unknown; path?: unknown }> } };
}

export function podNetwork(response: PodSandboxStatusResponse): PodNetwork {
  let info: SandboxInfo = {};
  try {
    info = JSON.parse(response.info.info ?? '{}') as SandboxInfo;
  } catch {
    // Not containerd's JSON: the CRI fields are all there is.
  }
  const network = info.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network');
  return {
    ip: response.status?.network?.ip ?? '',
    mode: response.status?.linux?.namespaces?.options?.network ?? null,
    netnsPath: typeof network?.path === 'string' && network.path !== '' ? network.path : null,
  };
}
