import { Client, Metadata, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import {
  IMAGE_SERVICE, RUNTIME_SERVICE, criType,
  type Container, type ContainerConfig, type ContainerStatus, type Image, type PodSandbox, type PodSandboxConfig, type PodSandboxStatusResponse, type StatusResponse,
  type VersionResponse,
} from './cri-api.ts';
import { CriError, criError, socketPathOf } from './cri-error.ts';

// Runtime Lab's own CRI client: unary calls of runtime.v1.RuntimeService and ImageService
// over the endpoint's unix socket with grpc-js, messages encoded by protobufjs from
// cri-api.ts. One channel for the whole run, as kubelet keeps one: connecting is not part
// of what a step measures (the first call of a run connects, and warm-ups come first).

/** Every call's deadline; aborting cancels the call (it then fails as CANCELLED). */
export interface CallLimits {
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Decoded messages as plain objects: enums as their names, 64-bit integers as numbers, every field present. */
const TO_OBJECT = { enums: String, longs: Number, defaults: true, arrays: true, objects: true } as const;

export class CriClient {
  readonly address: string;
  readonly #client: Client;

  constructor(address: string) {
    this.address = address;
    this.#client = new Client(`unix://${socketPathOf(address)}`, credentials.createInsecure());
  }

  close(): void {
    this.#client.close();
  }

  /** One unary call; rejects with a CriError saying what went wrong and, where known, what to do. */
  call<T>(service: string, method: string, request: object, limits: CallLimits): Promise<T> {
    const { timeoutMs, signal } = limits;
    const socket = socketPathOf(this.address);
    if (!existsSync(socket)) {
      return Promise.reject(new CriError(method, null, `${socket} does not exist`,
        `no CRI socket at ${socket}: is containerd (or cri-o) running, and is this its socket (plan cri.address, CLI --cri-address)?`));
    }
    const requestType = criType(`${method}Request`);
    const responseType = criType(`${method}Response`);
    const serialize = (value: object) => Buffer.from(requestType.encode(requestType.fromObject(value)).finish());
    const deserialize = (bytes: Buffer) => responseType.toObject(responseType.decode(bytes), TO_OBJECT) as T;
    if (signal?.aborted) return Promise.reject(new CriError(method, status.CANCELLED, 'aborted', `${method}: aborted before it was sent`));
    return new Promise<T>((resolve, reject) => {
      const cancel = () => call.cancel();
      const call = this.#client.makeUnaryRequest(`/${service}/${method}`, serialize, deserialize, request, new Metadata(), { deadline: Date.now() + timeoutMs },
        (err: ServiceError | null, value?: T) => {
          signal?.removeEventListener('abort', cancel);
          if (err) reject(criError(method, this.address, timeoutMs, err));
          else resolve(value as T);
        });
      signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  version(limits: CallLimits): Promise<VersionResponse> {
    return this.call(RUNTIME_SERVICE, 'Version', { version: 'v1' }, limits);
  }

  /** verbose: containerd puts its CRI configuration (JSON) in info.config. */
  status(verbose: boolean, limits: CallLimits): Promise<StatusResponse> {
    return this.call(RUNTIME_SERVICE, 'Status', { verbose }, limits);
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler: string, limits: CallLimits): Promise<string> {
    const response = await this.call<{ podSandboxId: string }>(RUNTIME_SERVICE, 'RunPodSandbox', { config, runtimeHandler }, limits);
    return response.podSandboxId;
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig, limits: CallLimits): Promise<string> {
    const response = await this.call<{ containerId: string }>(RUNTIME_SERVICE, 'CreateContainer', { podSandboxId, config, sandboxConfig }, limits);
    return response.containerId;
  }

  async startContainer(containerId: string, limits: CallLimits): Promise<void> {
    await this.call(RUNTIME_SERVICE, 'StartContainer', { containerId }, limits);
  }

  async containerStatus(containerId: string, limits: CallLimits): Promise<ContainerStatus | null> {
    const response = await this.call<{ status: ContainerStatus | null }>(RUNTIME_SERVICE, 'ContainerStatus', { containerId }, limits);
    return response.status;
  }

  /** graceSeconds 0: kill at once (the container has normally exited already). */
  async stopContainer(containerId: string, graceSeconds: number, limits: CallLimits): Promise<void> {
    await this.call(RUNTIME_SERVICE, 'StopContainer', { containerId, timeout: graceSeconds }, limits);
  }

  async removeContainer(containerId: string, limits: CallLimits): Promise<void> {
    await this.call(RUNTIME_SERVICE, 'RemoveContainer', { containerId }, limits);
  }

  async stopPodSandbox(podSandboxId: string, limits: CallLimits): Promise<void> {
    await this.call(RUNTIME_SERVICE, 'StopPodSandbox', { podSandboxId }, limits);
  }

  async removePodSandbox(podSandboxId: string, limits: CallLimits): Promise<void> {
    await this.call(RUNTIME_SERVICE, 'RemovePodSandbox', { podSandboxId }, limits);
  }

  async listPodSandbox(labelSelector: Record<string, string>, limits: CallLimits): Promise<PodSandbox[]> {
    const response = await this.call<{ items: PodSandbox[] }>(RUNTIME_SERVICE, 'ListPodSandbox', { filter: { labelSelector } }, limits);
    return response.items;
  }

  /** verbose: with the endpoint's own details of the sandbox in `info`. */
  podSandboxStatus(podSandboxId: string, verbose: boolean, limits: CallLimits): Promise<PodSandboxStatusResponse> {
    return this.call(RUNTIME_SERVICE, 'PodSandboxStatus', { podSandboxId, verbose }, limits);
  }

  async listContainers(labelSelector: Record<string, string>, limits: CallLimits): Promise<Container[]> {
    const response = await this.call<{ containers: Container[] }>(RUNTIME_SERVICE, 'ListContainers', { filter: { labelSelector } }, limits);
    return response.containers;
  }

  /** null: the endpoint does not have the image. */
  async imageStatus(image: string, limits: CallLimits): Promise<Image | null> {
    const response = await this.call<{ image: Image | null }>(IMAGE_SERVICE, 'ImageStatus', { image: { image } }, limits);
    return response.image;
  }
}
