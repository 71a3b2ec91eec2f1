import protobuf from 'protobufjs';

// The part of the Kubernetes CRI v1 API (package runtime.v1, k8s.io/cri-api api.proto) that
// Runtime Lab speaks: the pod lifecycle of talk 2, Version/Status to describe the endpoint,
// List* to clean up, ImageStatus to find the sandbox image. Written here from the field
// numbers of the upstream api.proto, only the fields we send or read: protobuf skips
// unknown fields, so a newer runtime's extra fields cost nothing. A JSON descriptor (not a
// .proto file) so esbuild bundles it with no loader and nothing is parsed at run time.

const str = (id: number) => ({ type: 'string', id });
const bool = (id: number) => ({ type: 'bool', id });
const int64 = (id: number) => ({ type: 'int64', id });
const msg = (type: string, id: number) => ({ type, id });
const list = (type: string, id: number) => ({ rule: 'repeated', type, id });
const map = (id: number) => ({ keyType: 'string', type: 'string', id });

const descriptor = {
  nested: {
    runtime: {
      nested: {
        v1: {
          nested: {
            NamespaceMode: { values: { POD: 0, CONTAINER: 1, NODE: 2, TARGET: 3 } },
            PodSandboxState: { values: { SANDBOX_READY: 0, SANDBOX_NOTREADY: 1 } },
            ContainerState: { values: { CONTAINER_CREATED: 0, CONTAINER_RUNNING: 1, CONTAINER_EXITED: 2, CONTAINER_UNKNOWN: 3 } },

            VersionRequest: { fields: { version: str(1) } },
            VersionResponse: { fields: { version: str(1), runtimeName: str(2), runtimeVersion: str(3), runtimeApiVersion: str(4) } },
            StatusRequest: { fields: { verbose: bool(1) } },
            RuntimeCondition: { fields: { type: str(1), status: bool(2), reason: str(3), message: str(4) } },
            RuntimeStatus: { fields: { conditions: list('RuntimeCondition', 1) } },
            RuntimeHandler: { fields: { name: str(1) } },
            StatusResponse: { fields: { status: msg('RuntimeStatus', 1), info: map(2), runtimeHandlers: list('RuntimeHandler', 3) } },

            NamespaceOption: { fields: { network: msg('NamespaceMode', 1), pid: msg('NamespaceMode', 2), ipc: msg('NamespaceMode', 3) } },
            LinuxSandboxSecurityContext: { fields: { namespaceOptions: msg('NamespaceOption', 1) } },
            LinuxPodSandboxConfig: { fields: { cgroupParent: str(1), securityContext: msg('LinuxSandboxSecurityContext', 2) } },
            PodSandboxMetadata: { fields: { name: str(1), uid: str(2), namespace: str(3), attempt: { type: 'uint32', id: 4 } } },
            PodSandboxConfig: {
              fields: { metadata: msg('PodSandboxMetadata', 1), hostname: str(2), logDirectory: str(3), labels: map(6), annotations: map(7), linux: msg('LinuxPodSandboxConfig', 8) },
            },
            RunPodSandboxRequest: { fields: { config: msg('PodSandboxConfig', 1), runtimeHandler: str(2) } },
            RunPodSandboxResponse: { fields: { podSandboxId: str(1) } },
            StopPodSandboxRequest: { fields: { podSandboxId: str(1) } },
            StopPodSandboxResponse: { fields: {} },
            RemovePodSandboxRequest: { fields: { podSandboxId: str(1) } },
            RemovePodSandboxResponse: { fields: {} },
            PodSandboxStateValue: { fields: { state: msg('PodSandboxState', 1) } },
            PodSandboxFilter: { fields: { id: str(1), state: msg('PodSandboxStateValue', 2), labelSelector: map(3) } },
            ListPodSandboxRequest: { fields: { filter: msg('PodSandboxFilter', 1) } },
            PodSandbox: { fields: { id: str(1), metadata: msg('PodSandboxMetadata', 2), state: msg('PodSandboxState', 3), createdAt: int64(4), labels: map(5), runtimeHandler: str(7) } },
            ListPodSandboxResponse: { fields: { items: list('PodSandbox', 1) } },
            PodSandboxStatusRequest: { fields: { podSandboxId: str(1), verbose: bool(2) } },
            PodSandboxNetworkStatus: { fields: { ip: str(1) } },
            Namespace: { fields: { options: msg('NamespaceOption', 2) } },
            LinuxPodSandboxStatus: { fields: { namespaces: msg('Namespace', 1) } },
            PodSandboxStatus: { fields: { id: str(1), state: msg('PodSandboxState', 3), network: msg('PodSandboxNetworkStatus', 5), linux: msg('LinuxPodSandboxStatus', 6) } },
            PodSandboxStatusResponse: { fields: { status: msg('PodSandboxStatus', 1), info: map(2) } },

            ImageSpec: { fields: { image: str(1) } },
            KeyValue: { fields: { key: str(1), value: str(2) } },
            ContainerMetadata: { fields: { name: str(1), attempt: { type: 'uint32', id: 2 } } },
            LinuxContainerSecurityContext: { fields: { namespaceOptions: msg('NamespaceOption', 3) } },
            LinuxContainerConfig: { fields: { securityContext: msg('LinuxContainerSecurityContext', 2) } },
            ContainerConfig: {
              fields: {
                metadata: msg('ContainerMetadata', 1), image: msg('ImageSpec', 2), command: list('string', 3), args: list('string', 4), workingDir: str(5),
                envs: list('KeyValue', 6), labels: map(9), annotations: map(10), logPath: str(11), linux: msg('LinuxContainerConfig', 15),
              },
            },
            CreateContainerRequest: { fields: { podSandboxId: str(1), config: msg('ContainerConfig', 2), sandboxConfig: msg('PodSandboxConfig', 3) } },
            CreateContainerResponse: { fields: { containerId: str(1) } },
            StartContainerRequest: { fields: { containerId: str(1) } },
            StartContainerResponse: { fields: {} },
            StopContainerRequest: { fields: { containerId: str(1), timeout: int64(2) } },
            StopContainerResponse: { fields: {} },
            RemoveContainerRequest: { fields: { containerId: str(1) } },
            RemoveContainerResponse: { fields: {} },
            ContainerStatusRequest: { fields: { containerId: str(1), verbose: bool(2) } },
            ContainerStatus: {
              fields: {
                id: str(1), state: msg('ContainerState', 3), createdAt: int64(4), startedAt: int64(5), finishedAt: int64(6),
                exitCode: { type: 'int32', id: 7 }, reason: str(10), message: str(11), logPath: str(15),
              },
            },
            ContainerStatusResponse: { fields: { status: msg('ContainerStatus', 1) } },
            ContainerStateValue: { fields: { state: msg('ContainerState', 1) } },
            ContainerFilter: { fields: { id: str(1), state: msg('ContainerStateValue', 2), podSandboxId: str(3), labelSelector: map(4) } },
            ListContainersRequest: { fields: { filter: msg('ContainerFilter', 1) } },
            Container: { fields: { id: str(1), podSandboxId: str(2), state: msg('ContainerState', 6), labels: map(8) } },
            ListContainersResponse: { fields: { containers: list('Container', 1) } },

            ImageStatusRequest: { fields: { image: msg('ImageSpec', 1), verbose: bool(2) } },
            Image: { fields: { id: str(1), repoTags: list('string', 2), repoDigests: list('string', 3), size: { type: 'uint64', id: 4 } } },
            ImageStatusResponse: { fields: { image: msg('Image', 1) } },
          },
        },
      },
    },
  },
};

export const CRI_PACKAGE = 'runtime.v1';
export const RUNTIME_SERVICE = `${CRI_PACKAGE}.RuntimeService`;
export const IMAGE_SERVICE = `${CRI_PACKAGE}.ImageService`;

const root = protobuf.Root.fromJSON(descriptor);

/** The message type `runtime.v1.NAME`. */
export function criType(name: string): protobuf.Type {
  return root.lookupType(`${CRI_PACKAGE}.${name}`);
}

type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export interface NamespaceOption {
  network?: NamespaceMode;
  pid?: NamespaceMode;
  ipc?: NamespaceMode;
}

export interface PodSandboxConfig {
  metadata: { name: string; uid: string; namespace: string; attempt?: number };
  hostname?: string;
  logDirectory?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: { cgroupParent?: string; securityContext?: { namespaceOptions?: NamespaceOption } };
}

export interface ContainerConfig {
  metadata: { name: string; attempt?: number };
  image: { image: string };
  command?: string[];
  args?: string[];
  workingDir?: string;
  envs?: Array<{ key: string; value: string }>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  logPath?: string;
  linux?: { securityContext?: { namespaceOptions?: NamespaceOption } };
}

export interface VersionResponse {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export interface StatusResponse {
  status: { conditions: Array<{ type: string; status: boolean; reason: string; message: string }> } | null;
  info: Record<string, string>;
  runtimeHandlers: Array<{ name: string }>;
}

export interface PodSandbox {
  id: string;
  state: PodSandboxState;
  createdAt: number;
  labels: Record<string, string>;
  runtimeHandler: string;
}

export interface PodSandboxStatus {
  id: string;
  state: PodSandboxState;
  /** The pod's IP from the network plugin; empty on the host network. */
  network: { ip: string } | null;
  linux: { namespaces: { options: NamespaceOption | null } | null } | null;
}

export interface PodSandboxStatusResponse {
  status: PodSandboxStatus | null;
  /** verbose: containerd's sandbox details as JSON under "info" (pid, runtimeSpec, cniResult…). */
  info: Record<string, string>;
}

export interface Container {
  id: string;
  podSandboxId: string;
  state: ContainerState;
  labels: Record<string, string>;
}

export interface ContainerStatus {
  id: string;
  state: ContainerState;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  logPath: string;
}

export interface Image {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
}
